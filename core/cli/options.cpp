// The option table and its translation into a TrainConfig.
#include "core/cli/options.hpp"

#include <fstream>

#include "core/check.hpp"
#include "core/data/mnist.hpp"

namespace ringtrain::cli {

// clang-format off
po::options_description run_options() {
  po::options_description options("Model and training (flags, or keys of the --config file)");
  options.add_options()
      ("name", po::value<std::string>()->default_value("model"), "model name shown in the summary")
      ("input-shape", po::value<std::string>()->default_value("28,28,1"),
       "per-sample input shape, e.g. 784 or 28,28,1")
      ("layer", po::value<std::vector<std::string>>()->composing(),
       "a layer, in order: TYPE key=value ... (dense, conv2d, batch_normalization, activation, dropout, "
       "reshape, flatten, max_pooling2d, global_average_pooling2d)")
      ("epochs", po::value<int>()->default_value(10), "training epochs")
      ("batch-size", po::value<std::int64_t>()->default_value(128), "samples per training step")
      ("optimizer", po::value<std::string>()->default_value("adam"), "sgd or adam")
      ("lr", po::value<double>()->default_value(0.001), "initial learning rate")
      ("lr-decay", po::value<double>()->default_value(1.0), "learning rate at epoch e is lr * lr-decay^e")
      ("momentum", po::value<double>()->default_value(0.0), "SGD momentum")
      ("seed", po::value<std::int64_t>()->default_value(42), "seed of initialization, shuffling and dropout")
      ("threads", po::value<int>()->default_value(0), "CPU threads (0: all cores)")
      ("device", po::value<std::string>()->default_value("auto"), "auto, cpu or cuda")
      ("data", po::value<std::string>(),
       "directory of the MNIST IDX files (default: $RINGTRAIN_DATA or ~/.cache/ringtrain/mnist)")
      ("csv", po::value<std::string>(), "write one row of metrics per epoch to this CSV file")
      ("bn-sync", po::value<std::string>()->default_value("global"),
       "batch-norm statistics over the global batch (global) or each process's part (local)")
      ("lr-scaling", po::value<std::string>()->default_value("none"),
       "none, or linear: multiply the learning rate by the number of processes")
      ("warmup-epochs", po::value<double>()->default_value(0.0),
       "with linear scaling, ramp the learning rate up to the scaled one over this many epochs")
      ("bucket-kib", po::value<std::int64_t>()->default_value(256), "gradient all-reduce bucket size in KiB")
      ("fail-at-step", po::value<std::int64_t>()->default_value(-1),
       "testing: make --fail-rank fail at this global step (counted from 0)")
      ("fail-rank", po::value<int>()->default_value(1), "testing: the rank --fail-at-step fails");
  return options;
}

po::options_description bench_options() {
  po::options_description options("Benchmark");
  options.add_options()
      ("steps", po::value<int>()->default_value(200), "timed training steps")
      ("warmup", po::value<int>()->default_value(20), "untimed steps before timing");
  return options;
}
// clang-format on

std::string ParsedOptions::source_of(const std::string& option) const {
  if (from_command_line.count(option)) return "command line";
  if (values.count(option) && !values[option].defaulted() && !config_path.empty()) return config_path;
  return "default";
}

ParsedOptions parse(const std::vector<std::string>& arguments, const po::options_description& flags) {
  ParsedOptions parsed;
  po::variables_map& options = parsed.values;
  po::options_description all;
  all.add(flags);
  all.add_options()("config", po::value<std::string>(), "INI file of model and training options");
  try {
    po::store(po::command_line_parser(arguments).options(all).run(), options);
  } catch (const po::error& error) {
    RT_FAIL("command line: " << error.what() << " (see --help)");
  }
  for (const auto& [key, value] : options) {
    if (!value.defaulted()) parsed.from_command_line.insert(key);
  }
  if (options.count("config")) {
    const std::string path = options["config"].as<std::string>();
    parsed.config_path = path;
    std::ifstream file(path);
    RT_CHECK(file.good(), "cannot read the config file " << path << ": check the path");
    try {
      po::store(po::parse_config_file(file, run_options()), options);
    } catch (const po::error& error) {
      RT_FAIL(path << ": " << error.what() << " (the keys are the options of --help, without the dashes)");
    }
  }
  po::notify(options);
  return parsed;
}

TrainConfig train_config(const ParsedOptions& parsed) {
  const po::variables_map& options = parsed.values;
  TrainConfig config;
  for (const auto& [key, value] : options)
    config.sources[key] = parsed.source_of(key);
  const std::string source = parsed.config_path.empty() ? "command line" : parsed.config_path;
  config.name = options["name"].as<std::string>();
  config.model.source = source;
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
  RT_CHECK(device != "cuda",
           "--device cuda: this version of ringtrain runs its layers on the CPU only; "
           "use --device cpu or auto");
  config.device = Device::cpu;
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
