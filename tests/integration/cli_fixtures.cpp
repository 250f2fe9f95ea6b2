// Shared pieces of the CLI integration tests.
#include "tests/integration/cli_fixtures.hpp"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/data/mnist.hpp"
#include "tests/data/idx_test_files.hpp"

#ifndef RINGTRAIN_BINARY
#error "RINGTRAIN_BINARY must be defined (the path of the ringtrain executable)"
#endif
#ifndef RINGTRAIN_SOURCE_DIR
#error "RINGTRAIN_SOURCE_DIR must be defined (the project's source directory)"
#endif

namespace ringtrain::integration {

std::string ringtrain_binary() {
  return RINGTRAIN_BINARY;
}

std::filesystem::path source_dir() {
  return RINGTRAIN_SOURCE_DIR;
}

std::string experiment(const std::string& file) {
  return (source_dir() / "experiments" / file).string();
}

void prepare_mpirun_environment() {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
}

CommandResult run_mpirun(int processes, const std::vector<std::string>& arguments,
                         std::chrono::seconds timeout, const std::function<void(pid_t)>& started) {
  return run_mpirun_with_options({}, processes, arguments, timeout, started);
}

CommandResult run_mpirun_with_options(const std::vector<std::string>& mpirun_options, int processes,
                                      const std::vector<std::string>& arguments, std::chrono::seconds timeout,
                                      const std::function<void(pid_t)>& started) {
  std::vector<std::string> argv{RINGTRAIN_MPIEXEC};
  argv.insert(argv.end(), mpirun_options.begin(), mpirun_options.end());
  argv.insert(argv.end(), {"-np", std::to_string(processes), "--oversubscribe", ringtrain_binary()});
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return run_command(argv, timeout, started);
}

CommandResult run_mpirun_per_rank(const std::vector<std::vector<std::string>>& rank_arguments,
                                  std::chrono::seconds timeout) {
  std::vector<std::string> argv{RINGTRAIN_MPIEXEC, "--oversubscribe"};
  for (const auto& arguments : rank_arguments) {
    if (argv.size() > 2) argv.push_back(":");
    argv.insert(argv.end(), {"-np", "1", ringtrain_binary()});
    argv.insert(argv.end(), arguments.begin(), arguments.end());
  }
  return run_command(argv, timeout);
}

namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::vector<pid_t> find_ringtrain_processes(const std::string& marker) {
  std::vector<pid_t> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string command_line = file_text(entry.path() / "cmdline");
    if (command_line.find(ringtrain_binary()) == 0 && command_line.find(marker) != std::string::npos)
      found.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return found;
}

pid_t find_rank_process(int rank, const std::string& marker) {
  for (const pid_t pid : find_ringtrain_processes(marker)) {
    const std::string environment = file_text("/proc/" + std::to_string(pid) + "/environ");
    if (environment.find("OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0') != std::string::npos)
      return pid;
  }
  return 0;
}

CommandResult run_ringtrain(const std::vector<std::string>& arguments, std::chrono::seconds timeout) {
  std::vector<std::string> argv{ringtrain_binary()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return run_command(argv, timeout);
}

std::optional<std::filesystem::path> real_mnist_dir(std::string& why) {
  std::filesystem::path dir;
  try {
    dir = data::default_mnist_dir();
  } catch (const std::exception& error) {
    why = error.what();
    return std::nullopt;
  }
  for (const data::Split split : {data::Split::train, data::Split::test}) {
    for (const std::string& name : {data::mnist_images_file(split), data::mnist_labels_file(split)}) {
      std::error_code ignored;
      if (!std::filesystem::exists(dir / name, ignored) &&
          !std::filesystem::exists(dir / (name + ".gz"), ignored)) {
        why = "MNIST is not in " + dir.string() + " (no " + name + "); run scripts/fetch-mnist.sh";
        return std::nullopt;
      }
    }
  }
  return dir;
}

void write_fake_mnist(const std::filesystem::path& dir, std::int64_t train, std::int64_t test) {
  using namespace data::testing;
  std::filesystem::create_directories(dir);
  for (const auto& [split, count] :
       {std::pair{data::Split::train, train}, std::pair{data::Split::test, test}}) {
    std::vector<std::uint8_t> labels;
    for (std::int64_t i = 0; i < count; ++i)
      labels.push_back(static_cast<std::uint8_t>(i % 10));
    write_file(dir / data::mnist_images_file(split), idx_images_bytes(patterned_images(count, 28, 28)));
    write_file(dir / data::mnist_labels_file(split), idx_labels_bytes(labels));
  }
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {
const std::string kNumber = R"(([0-9]+(?:\.[0-9]+)?))";
}  // namespace

std::optional<FinalLine> parse_final_line(const std::string& line) {
  static const std::regex pattern("^final val_accuracy=" + kNumber + " val_loss=" + kNumber +
                                  " epochs=([0-9]+) seconds=" + kNumber + "$");
  std::smatch match;
  if (!std::regex_match(line, match, pattern)) return std::nullopt;
  FinalLine result;
  result.accuracy_text = match[1].str();
  result.loss_text = match[2].str();
  result.val_accuracy = std::stod(match[1].str());
  result.val_loss = std::stod(match[2].str());
  result.epochs = std::stoi(match[3].str());
  result.seconds = std::stod(match[4].str());
  return result;
}

std::optional<BenchLine> find_bench_line(const std::string& output) {
  static const std::regex pattern("^bench img_per_s=" + kNumber + " ms_per_step=" + kNumber + "$");
  std::smatch match;
  for (const auto& line : split_lines(output)) {
    if (std::regex_match(line, match, pattern))
      return BenchLine{std::stod(match[1].str()), std::stod(match[2].str())};
  }
  return std::nullopt;
}

}  // namespace ringtrain::integration
