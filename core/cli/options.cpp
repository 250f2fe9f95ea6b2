// The option table and its translation into a TrainConfig.
#include "core/cli/options.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "core/check.hpp"
#include "core/data/mnist.hpp"
#include "core/text_format.hpp"
#include "core/thread_budget.hpp"

namespace ringtrain::cli {

// clang-format off
po::options_description model_and_training_options() {
  po::options_description options("Model and training (flags, or keys of the --config file)");
  options.add_options()
      ("name", po::value<std::string>()->default_value("model"), "model name shown in the summary")
      ("input-shape", po::value<std::string>()->default_value("28,28,1"),
       "per-sample input shape, e.g. 784 or 28,28,1")
      ("layer", po::value<std::vector<std::string>>(),
       "a layer, in order: TYPE key=value ... (dense, conv2d, batch_normalization, activation, dropout, "
       "reshape, flatten, max_pooling2d, global_average_pooling2d); given as flags, the layers replace the "
       "config file's")
      ("epochs", po::value<int>()->default_value(10), "training epochs")
      ("batch-size", po::value<std::int64_t>()->default_value(128), "samples per training step")
      ("optimizer", po::value<std::string>()->default_value("adam"), "sgd or adam")
      ("lr", po::value<double>(), "initial learning rate (default: 0.001 for adam, 0.01 for sgd, as in Keras)")
      ("lr-decay", po::value<double>()->default_value(1.0), "learning rate at epoch e is lr * lr-decay^e")
      ("momentum", po::value<double>()->default_value(0.0), "SGD momentum")
      ("seed", po::value<std::int64_t>()->default_value(42), "seed of initialization, shuffling and dropout")
      ("threads", po::value<int>()->default_value(0), kThreadsHelp)
      ("device", po::value<std::string>()->default_value("auto"),
       "cpu, cuda, or auto: cuda when every process of the node can have a GPU of its own")
      ("deterministic", po::value<bool>()->default_value(true),
       "on the GPU, only convolution algorithms that give the same bits every run (exact resume); false: "
       "the fastest")
      ("collective-timeout", po::value<double>()->default_value(kDefaultCollectiveTimeoutSeconds),
       "seconds after which a collective (MPI or NCCL) still waiting for the other ranks (one failed, stopped "
       "or hangs) ends the run with an error")
      ("cuda-graph", po::value<bool>()->default_value(true),
       "on the GPU, record a training step once as a CUDA graph and replay it (one launch per step)")
      ("data", po::value<std::string>(),
       "directory of the MNIST IDX files (default: $RINGTRAIN_DATA or ~/.cache/ringtrain/mnist)")
      ("bn-sync", po::value<std::string>()->default_value("global"),
       "batch-norm statistics over the global batch (global) or each process's part (local)")
      ("lr-scaling", po::value<std::string>()->default_value("none"),
       "none, or linear: multiply the learning rate by the number of processes")
      ("warmup-epochs", po::value<double>()->default_value(0.0),
       "with linear scaling, ramp the learning rate up to the scaled one over this many epochs")
      ("bucket-kib", po::value<std::int64_t>()->default_value(256), "gradient all-reduce bucket size in KiB");
  return options;
}

po::options_description train_output_options() {
  po::options_description options("Progress, checkpoints and metrics (train's own; flags or config keys)");
  options.add_options()
      ("verbose", po::value<std::string>()->default_value("auto"),
       "progress, as Keras' fit: auto (1 on a terminal, else 2), 0 (none), 1 (a live bar), 2 (a line per "
       "epoch); under mpirun, whose ranks always write to a terminal, give 2 when the output goes to a file")
      ("csv", po::value<std::string>(), "write one row of metrics per epoch to this CSV file (empty: none)")
      ("run-dir", po::value<std::string>(),
       "directory for this run's checkpoints and metrics.h5 (created if missing; empty: none)")
      ("checkpoint-every", po::value<std::int64_t>()->default_value(0),
       "also checkpoint every N steps (0: at each epoch's end only)")
      ("keep", po::value<int>()->default_value(3), "keep the newest K checkpoints")
      ("keep-best", po::bool_switch(), "also keep best.h5, the checkpoint of the best validation accuracy")
      ("lock-wait", po::value<double>()->default_value(120),
       "seconds to wait while another run holds --run-dir (a failed node's lock on a network file system "
       "lasts until its lease ends)")
      ("log-every", po::value<std::int64_t>()->default_value(10), "steps between two rows of metrics.h5")
      ("report", po::bool_switch(), "rewrite RUN_DIR/report.html (curves, predictions) at every epoch's end")
      ("resume", po::value<std::string>(),
       "continue from this checkpoint, or from the newest usable one in --run-dir with 'auto'");
  return options;
}

po::options_description failure_injection_options() {
  po::options_description testing("Failure injection, for ringtrain's own tests");
  testing.add_options()
      ("fail-at-step", po::value<std::int64_t>()->default_value(-1),
       "make --fail-rank fail in the step after this many global steps (0: the first; messages count "
       "steps from 1)")
      ("fail-rank", po::value<int>()->default_value(1), "the rank --fail-at-step fails")
      ("pause-in-checkpoint-write", po::value<std::int64_t>()->default_value(-1),
       "rank 0 sleeps inside the write of this global step's checkpoint, before its rename");
  return testing;
}

po::options_description run_options() {
  po::options_description options;
  options.add(model_and_training_options()).add(train_output_options()).add(failure_injection_options());
  return options;
}

po::options_description bench_options() {
  po::options_description options("Benchmark");
  options.add_options()
      ("steps", po::value<int>()->default_value(200), "timed training steps")
      ("warmup", po::value<int>()->default_value(20), "untimed steps before timing")
      ("per-layer", po::bool_switch(),
       "then time each layer's forward and backward alone, as many times as --steps (on the GPU each "
       "recorded as a CUDA graph when cuda-graph is true)");
  return options;
}
// clang-format on

// Train's own flags and the failure injection would do nothing on another command's command line, so they
// are refused there. In a config file they are the run's settings, shared by every command.
void refuse_train_only_flags(const ParsedOptions& parsed, const char* command) {
  const std::pair<po::options_description, const char*> groups[] = {
      {train_output_options(), "is train's"}, {failure_injection_options(), "injects failures into train"}};
  for (const auto& [group, what_it_is] : groups) {
    for (const auto& option : group.options()) {
      const std::string& flag = option->long_name();
      RT_CHECK(!parsed.from_command_line.count(flag),
               "--" << flag << " " << what_it_is << ": " << command << " does not use it, leave it out");
    }
  }
}

std::string ParsedOptions::source_of(const std::string& option) const {
  if (from_command_line.count(option)) return "command line";
  if (values.count(option) && !values[option].defaulted() && !config_path.empty()) return config_path;
  return "default";
}

namespace {

// A config file is a few dozen short lines; anything far beyond is another kind of file, and its text is not
// worth echoing back.
constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxConfigLine = 4096;
constexpr const char* kConfigExample =
    "give a text file of key = value lines, such as experiments/09_batch_norm.ini";

// Boost names no line, and no key at all when a line has none before its '=': such lines, and lines no config
// file has (too long, a NUL byte), are found here.
void require_config_lines(const std::string& text, const std::string& source) {
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    RT_CHECK(line.size() <= kMaxConfigLine, source << ":" << number << ": a line of " << line.size()
                                                   << " characters, more than the " << kMaxConfigLine
                                                   << " a config line may hold: " << kConfigExample);
    RT_CHECK(line.find('\0') == std::string::npos,
             source << ":" << number << ": a NUL byte, so this is not a text file: " << kConfigExample);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    RT_CHECK(line[first] != '=', source
                                     << ":" << number << ": '" << line
                                     << "' has no key before '=' (lines are key = value, the keys being the "
                                     << "options of --help without the dashes)");
    RT_CHECK(line[first] != ';',
             source << ":" << number << ": '" << line << "': comments start with #, not ;");
    RT_CHECK(line[first] != '[', source << ":" << number << ": '" << line
                                        << "': a config file has no sections; its keys stand alone");
  }
}

// " (did you mean batch-size?)" for batch_size (`prefix` "--": "--batch-size?" for --batch_size), when
// `options` has the name with dashes.
std::string dashed_suggestion(std::string name, const po::options_description& options, const char* prefix) {
  name.erase(0, name.find_first_not_of('-'));
  name.erase(std::min(name.find('='), name.size()));  // --batch_size=3
  std::replace(name.begin(), name.end(), '_', '-');
  if (options.find_nothrow(name, false) == nullptr) return "";
  return std::string(" (did you mean ") + prefix + name + "?)";
}

// ": epochs takes a whole number" for an option of a numeric or true/false type (`name` with or without its
// dashes), else "".
std::string expected_value(std::string name, const po::options_description& options) {
  name.erase(0, name.find_first_not_of('-'));
  const po::option_description* option = options.find_nothrow(name, false);
  if (option == nullptr) return "";
  const po::value_semantic* semantic = option->semantic().get();
  const char* kind = nullptr;
  if (dynamic_cast<const po::typed_value<int>*>(semantic) != nullptr ||
      dynamic_cast<const po::typed_value<std::int64_t>*>(semantic) != nullptr) {
    kind = "a whole number";
  } else if (dynamic_cast<const po::typed_value<double>*>(semantic) != nullptr) {
    kind = "a number";
  } else if (dynamic_cast<const po::typed_value<bool>*>(semantic) != nullptr) {
    kind = "true or false";
  }
  return kind == nullptr ? "" : ": " + name + " takes " + kind;
}

// "a.ini:3", the line of config text `text` (from `source`) that sets `key`, else `source`.
std::string line_setting(const std::string& text, const std::string& source, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line.compare(first, key.size(), key) != 0) continue;
    const auto equals = line.find_first_not_of(" \t", first + key.size());
    if (equals != std::string::npos && line[equals] == '=') return source + ":" + std::to_string(number);
  }
  return source;
}

// Adds the options of a config file (or of config text) under `source` to what the flags set.
void store_config(std::istream& in, const std::string& source, ParsedOptions& parsed) {
  // Read in pieces, so that a config file of a few lines takes a few kilobytes, not the limit.
  std::string text;
  std::array<char, 4096> piece{};
  while (text.size() <= kMaxConfigBytes && (in.read(piece.data(), piece.size()) || in.gcount() > 0))
    text.append(piece.data(), static_cast<std::size_t>(in.gcount()));
  RT_CHECK(text.size() <= kMaxConfigBytes, source
                                               << ": more than " << kMaxConfigBytes
                                               << " bytes, far more than a config file: " << kConfigExample);
  // A byte-order mark, which some editors write first, is no part of the first key.
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  require_config_lines(text, source);
  std::istringstream config(text);
  const po::options_description options = run_options();
  try {
    po::store(po::parse_config_file(config, options), parsed.values);
  } catch (const po::unknown_option& error) {
    RT_FAIL(source << ": " << error.what() << dashed_suggestion(error.get_option_name(), options, "")
                   << " (the keys are the options of --help, without the dashes)");
  } catch (const po::validation_error& error) {
    RT_FAIL(line_setting(text, source, error.get_option_name())
            << ": " << error.what() << expected_value(error.get_option_name(), options));
  } catch (const po::error& error) {
    RT_FAIL(source << ": " << error.what() << " (the keys are the options of --help, without the dashes)");
  }
}

// An option's value as config-file text, or nothing for a type the table does not use.
std::vector<std::string> value_lines(const std::string& key, const po::variable_value& value) {
  const boost::any& any = value.value();
  std::ostringstream text;
  if (const auto* many = boost::any_cast<std::vector<std::string>>(&any)) {
    std::vector<std::string> lines;
    for (const auto& item : *many)
      lines.push_back(key + " = " + item);
    return lines;
  }
  if (const auto* string = boost::any_cast<std::string>(&any))
    text << *string;
  else if (const auto* integer = boost::any_cast<int>(&any))
    text << *integer;
  else if (const auto* wide = boost::any_cast<std::int64_t>(&any))
    text << *wide;
  else if (const auto* real = boost::any_cast<double>(&any))
    text << shortest_text(*real);
  else if (const auto* flag = boost::any_cast<bool>(&any))
    text << (*flag ? "true" : "false");
  else
    return {};
  return {key + " = " + text.str()};
}

// Where the model's layers and input shape come from, for its errors: --layer flags replace the config's
// layers; an --input-shape flag alone changes the config's model.
std::string model_source(const ParsedOptions& parsed, const std::string& options_source) {
  if (parsed.from_command_line.count("layer")) return "command line";
  if (!parsed.from_command_line.count("input-shape")) return options_source;
  return options_source + " (with input-shape " + parsed.values["input-shape"].as<std::string>() +
         " from the command line)";
}

// Options whose default depends on another option's value: the learning rate, on the optimizer. Stored as
// defaults, so that the run's configuration text holds the value used.
void store_dependent_defaults(po::variables_map& values) {
  if (!values.count("lr") && values.count("optimizer")) {
    const double keras_default = values["optimizer"].as<std::string>() == "sgd" ? 0.01 : 0.001;
    values.insert({"lr", po::variable_value(boost::any(keras_default), true)});
  }
}

}  // namespace

po::options_description config_option() {
  po::options_description option("Config file");
  option.add_options()("config", po::value<std::string>(),
                       "INI file of the options above: key = value lines, the keys without the dashes (as in "
                       "experiments/*.ini); the command line overrides it");
  return option;
}

ParsedOptions parse(const std::vector<std::string>& arguments, const po::options_description& flags,
                    const std::string& positional) {
  ParsedOptions parsed;
  po::variables_map& options = parsed.values;
  po::options_description all;
  all.add(flags);
  all.add(config_option());
  try {
    // Whole names only: a prefix (--thread for --threads) would get past the launchers' checks of train's
    // options, and a later option could make it ambiguous.
    po::parsed_options given =
        po::command_line_parser(arguments)
            .options(all)
            .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
            .run();
    // The first word without a flag is `positional`'s value when the flag is not given too.
    bool positional_given = false;
    for (const po::option& option : given.options)
      positional_given = positional_given || (!positional.empty() && option.string_key == positional);
    // Any other word that follows no option, or follows a switch (--keep-best false), would be dropped
    // silently.
    for (po::option& option : given.options) {
      if (option.position_key < 0) continue;
      RT_CHECK(!positional.empty() && !positional_given,
               "command line: unexpected argument '"
                   << option.value.front() << "': it follows no option that takes a value (switches take none"
                   << (positional.empty() ? "" : "; --" + positional + " is given already")
                   << "; see --help)");
      option.string_key = positional;
      option.position_key = -1;
      positional_given = true;
    }
    po::store(given, options);
  } catch (const po::unknown_option& error) {
    RT_FAIL("command line: " << error.what() << dashed_suggestion(error.get_option_name(), all, "--")
                             << " (see --help)");
  } catch (const po::validation_error& error) {
    RT_FAIL("command line: " << error.what() << expected_value(error.get_option_name(), all)
                             << " (see --help)");
  } catch (const po::error& error) {
    RT_FAIL("command line: " << error.what() << " (see --help)");
  }
  for (const auto& [key, value] : options) {
    if (!value.defaulted()) parsed.from_command_line.insert(key);
  }
  if (options.count("config")) {
    const std::string path = options["config"].as<std::string>();
    parsed.config_path = path;
    std::error_code error;
    RT_CHECK(
        !std::filesystem::is_directory(path, error),
        "--config " << path << " is a directory: give a config file, such as experiments/09_batch_norm.ini");
    std::ifstream file(path);
    const int open_error = errno;
    RT_CHECK(file.good(), "cannot read the config file "
                              << path << " (" << std::strerror(open_error)
                              << "): check the path and that this user may read it");
    store_config(file, path, parsed);
  }
  store_dependent_defaults(options);
  po::notify(options);
  return parsed;
}

ParsedOptions parse_config_text(const std::string& text, const std::string& source) {
  ParsedOptions parsed;
  parsed.config_path = source;
  std::istringstream in(text);
  store_config(in, source, parsed);
  store_dependent_defaults(parsed.values);
  po::notify(parsed.values);
  return parsed;
}

std::string config_text(const ParsedOptions& parsed) {
  // What defines the model and its training; not where files are or how this process runs.
  static const std::set<std::string> left_out{"config",
                                              "data",
                                              "csv",
                                              "verbose",
                                              "run-dir",
                                              "resume",
                                              "threads",
                                              "device",
                                              "deterministic",
                                              "cuda-graph",
                                              "collective-timeout",
                                              "fail-at-step",
                                              "fail-rank",
                                              "pause-in-checkpoint-write",
                                              "lock-wait",
                                              "report"};
  std::string text;
  const po::options_description table = run_options();
  for (const auto& option : table.options()) {
    const std::string& key = option->long_name();
    if (left_out.count(key) || !parsed.values.count(key)) continue;
    for (const auto& line : value_lines(key, parsed.values[key]))
      text += line + "\n";
  }
  return text;
}

std::string agreed_options_text(const ParsedOptions& parsed) {
  static const std::set<std::string> per_node{"config", "data", "csv", "threads", "verbose", "lock-wait"};
  static const std::set<std::string> given_or_not{"run-dir", "resume"};
  std::string text;
  for (const auto& [key, value] : parsed.values) {  // in key order
    if (per_node.count(key)) continue;
    if (given_or_not.count(key)) {
      text += key + " given\n";
      continue;
    }
    for (const auto& line : value_lines(key, value))
      text += line + "\n";
  }
  return text;
}

std::map<std::string, std::string> config_entries(const std::string& config_text) {
  std::map<std::string, std::string> entries;
  std::istringstream lines(config_text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto equals = line.find(" = ");
    if (equals == std::string::npos) continue;
    auto& value = entries[line.substr(0, equals)];
    value += (value.empty() ? "" : "; ") + line.substr(equals + 3);
  }
  return entries;
}

TrainConfig train_config(const ParsedOptions& parsed) {
  const po::variables_map& options = parsed.values;
  TrainConfig config;
  for (const auto& [key, value] : options)
    config.sources[key] = parsed.source_of(key);
  const std::string source = parsed.config_path.empty() ? "command line" : parsed.config_path;
  config.name = options["name"].as<std::string>();
  config.model.source = model_source(parsed, source);
  config.model.input_shape =
      parse_shape(options["input-shape"].as<std::string>(), "input-shape", parsed.source_of("input-shape"));
  if (options.count("layer")) config.model.layers = options["layer"].as<std::vector<std::string>>();
  config.epochs = options["epochs"].as<int>();
  config.batch_size = options["batch-size"].as<std::int64_t>();
  config.optimizer.name = options["optimizer"].as<std::string>();
  config.optimizer.momentum = options["momentum"].as<double>();
  config.schedule.initial = options["lr"].as<double>();
  config.schedule.decay = options["lr-decay"].as<double>();
  const std::int64_t seed = options["seed"].as<std::int64_t>();
  RT_CHECK(seed >= 0, parsed.source_of("seed") << ": seed=" << seed << " must be 0 or more");
  config.seed = static_cast<std::uint64_t>(seed);
  config.threads = options["threads"].as<int>();
  const std::string device = options["device"].as<std::string>();
  RT_CHECK(device == "auto" || device == "cpu" || device == "cuda",
           parsed.source_of("device") << ": device=" << device << " is not auto, cpu or cuda");
  config.device_request = device;
  config.deterministic = options["deterministic"].as<bool>();
  config.cuda_graph = options["cuda-graph"].as<bool>();
  config.collective_timeout_seconds = options["collective-timeout"].as<double>();
  RT_CHECK(!options.count("data") || !options["data"].as<std::string>().empty(),
           parsed.source_of("data") << ": data is empty: give the MNIST directory, or leave it out");
  config.data_dir = options.count("data") ? std::filesystem::path(options["data"].as<std::string>())
                                          : data::default_mnist_dir();
  if (options.count("csv")) config.csv_path = options["csv"].as<std::string>();
  const std::string bn_sync = options["bn-sync"].as<std::string>();
  RT_CHECK(bn_sync == "global" || bn_sync == "local",
           parsed.source_of("bn-sync") << ": bn-sync=" << bn_sync << " is not global or local");
  config.bn_sync = bn_sync == "global" ? BatchNormSync::global : BatchNormSync::local;
  const std::string scaling = options["lr-scaling"].as<std::string>();
  RT_CHECK(scaling == "none" || scaling == "linear",
           parsed.source_of("lr-scaling") << ": lr-scaling=" << scaling << " is not none or linear");
  config.lr_scaling = scaling == "linear" ? LearningRateScaling::linear : LearningRateScaling::none;
  config.warmup_epochs = options["warmup-epochs"].as<double>();
  config.bucket_kib = options["bucket-kib"].as<std::int64_t>();
  config.fail_at_step = options["fail-at-step"].as<std::int64_t>();
  config.fail_rank = options["fail-rank"].as<int>();
  validate(config);
  return config;
}

}  // namespace ringtrain::cli
