// Shared pieces of the CLI integration tests: where the binary and the experiments are, running ringtrain,
// small fake MNIST directories, and parsing the final lines that train and bench print.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/run_command.hpp"

namespace ringtrain::integration {

// The ringtrain binary and the source tree, compiled in from CMake.
std::string ringtrain_binary();
std::filesystem::path source_dir();
// experiments/<file> in the source tree, e.g. experiment("01_dense_softmax.ini").
std::string experiment(const std::string& file);

// Sets the environment mpirun's children inherit: Open MPI may run as root (it refuses unless told; this
// changes nothing for other users), and ranks sharing few cores let their OpenMP threads sleep, not spin.
void prepare_mpirun_environment();

// Runs `mpirun -np N --oversubscribe ringtrain arguments...` (the environment must allow root where needed).
CommandResult run_mpirun(int processes, const std::vector<std::string>& arguments,
                         std::chrono::seconds timeout = std::chrono::seconds(300),
                         const std::function<void(pid_t)>& started = {});

// The same with mpirun's own options (binding, CPU sets) before `-np`.
CommandResult run_mpirun_with_options(const std::vector<std::string>& mpirun_options, int processes,
                                      const std::vector<std::string>& arguments,
                                      std::chrono::seconds timeout = std::chrono::seconds(300),
                                      const std::function<void(pid_t)>& started = {});

// Runs one job of one ringtrain process per entry, each with its own arguments (mpirun's `-np 1 ... : -np 1
// ...`).
CommandResult run_mpirun_per_rank(const std::vector<std::vector<std::string>>& rank_arguments,
                                  std::chrono::seconds timeout = std::chrono::seconds(300));

// The ringtrain processes whose command line holds `marker` (e.g. a test's own directory), and the one of
// them that is MPI rank `rank` (0 when none).
std::vector<pid_t> find_ringtrain_processes(const std::string& marker);
pid_t find_rank_process(int rank, const std::string& marker);

// Runs `ringtrain arguments...`.
CommandResult run_ringtrain(const std::vector<std::string>& arguments,
                            std::chrono::seconds timeout = std::chrono::seconds(600));

// The real MNIST directory (core::data::default_mnist_dir()) if it holds the four files (raw or .gz),
// else nullopt and `why` says which file is missing.
std::optional<std::filesystem::path> real_mnist_dir(std::string& why);

// Writes a small, valid MNIST directory of 28x28 images: `train` and `test` samples, labels index % 10.
void write_fake_mnist(const std::filesystem::path& dir, std::int64_t train, std::int64_t test);

// Writes `text` to `path`.
void write_text(const std::filesystem::path& path, const std::string& text);
std::string read_text(const std::filesystem::path& path);

// "final val_accuracy=<x> val_loss=<y> epochs=<n> seconds=<s>"
struct FinalLine {
  double val_accuracy = 0;
  double val_loss = 0;
  int epochs = 0;
  double seconds = 0;
  std::string accuracy_text, loss_text;  // as printed, for exact comparisons
};
std::optional<FinalLine> parse_final_line(const std::string& line);

// The line "bench img_per_s=<x> ms_per_step=<y>" of bench's output.
struct BenchLine {
  double images_per_second = 0;
  double ms_per_step = 0;
};
std::optional<BenchLine> find_bench_line(const std::string& output);

}  // namespace ringtrain::integration
