// evaluate and predict: a model rebuilt from a checkpoint alone (its stored configuration and parameters).
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include "core/checkpoint/checkpoint.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/session.hpp"
#include "core/data/idx.hpp"
#include "core/data/mnist.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain::cli {

namespace {

po::options_description checkpoint_options(bool predicting) {
  po::options_description options(predicting ? "Predict" : "Evaluate");
  options.add_options()("checkpoint", po::value<std::string>(), "the checkpoint file (.h5) to load")(
      "threads", po::value<int>()->default_value(0),
      "CPU threads per process (0: the node's cores / processes)");
  if (predicting) {
    options.add_options()("images", po::value<std::string>(), "IDX image file (raw or .gz) to classify");
  } else {
    options.add_options()(
        "data", po::value<std::string>(),
        "directory of the MNIST IDX files (default: $RINGTRAIN_DATA or ~/.cache/ringtrain/mnist)");
  }
  return options;
}

// The model (and its run's configuration) a checkpoint holds, with the checkpoint's parameters and state.
Session session_from_checkpoint(const std::string& path, int threads, int processes_on_node) {
  const CheckpointInfo info = read_checkpoint(path);
  RT_CHECK(!info.config_text.empty(), path << ": the checkpoint holds no configuration (attribute config)");
  const ParsedOptions stored = parse_config_text(info.config_text, path + " (its stored configuration)");
  Session session;
  session.config = train_config(stored);
  session.config.threads =
      threads > 0 ? threads : std::max(1, omp_get_num_procs() / std::max(processes_on_node, 1));
  omp_set_num_threads(session.config.threads);
  session.model = make_model(session.config.model);
  session.model->build(session.config.seed, session.config.device);
  session.optimizer =
      make_optimizer(session.config.optimizer, session.model->parameters(), session.config.device);
  restore_checkpoint(path, *session.model, nullptr);
  return session;
}

// The parsed options, or nothing when --help asked for the help (printed here).
std::optional<ParsedOptions> parse_unless_help(const std::vector<std::string>& arguments,
                                               const std::string& usage, bool predicting) {
  const auto options = checkpoint_options(predicting);
  if (std::find(arguments.begin(), arguments.end(), "--help") != arguments.end()) {
    print_help(usage, options);
    return std::nullopt;
  }
  return parse(arguments, options);
}

std::string required(const ParsedOptions& parsed, const std::string& option, const std::string& usage) {
  RT_CHECK(parsed.values.count(option), "--" << option << " is required: " << usage);
  return parsed.values[option].as<std::string>();
}

}  // namespace

int evaluate_command(const std::vector<std::string>& arguments, Replica& replica) {
  const std::string usage = "ringtrain evaluate --checkpoint FILE [--data DIR]";
  const auto options = parse_unless_help(arguments, usage, false);
  if (!options) return 0;
  const ParsedOptions& parsed = *options;
  const std::string path = required(parsed, "checkpoint", usage);
  Session session =
      session_from_checkpoint(path, parsed.values["threads"].as<int>(), replica.processes_on_node);
  if (parsed.values.count("data")) session.config.data_dir = parsed.values["data"].as<std::string>();
  const data::Dataset test = data::load_mnist(session.config.data_dir, data::Split::test);
  // Any batch that divides among the processes will do for evaluation.
  session.config.batch_size = 100 * replica.communicator.size();
  Trainer trainer(*session.model, *session.optimizer, session.config, &replica.communicator);
  const Evaluation evaluation = trainer.evaluate(test);
  char line[160];
  std::snprintf(line, sizeof line, "evaluate accuracy=%.4f loss=%.4f samples=%lld", evaluation.accuracy,
                evaluation.loss, static_cast<long long>(evaluation.count));
  std::cout << line << std::endl;
  return 0;
}

int predict_command(const std::vector<std::string>& arguments, Replica& replica) {
  const std::string usage = "ringtrain predict --checkpoint FILE --images FILE.idx[.gz]";
  const auto options = parse_unless_help(arguments, usage, true);
  if (!options) return 0;
  const ParsedOptions& parsed = *options;
  const std::string path = required(parsed, "checkpoint", usage);
  const std::string images_path = required(parsed, "images", usage);
  Session session =
      session_from_checkpoint(path, parsed.values["threads"].as<int>(), replica.processes_on_node);
  data::IdxImages images = data::read_idx_images(images_path);
  const Shape input = session.model->input_shape();
  RT_CHECK(images.rows * images.cols == input.numel(),
           images_path << ": images of " << images.rows << "x" << images.cols
                       << " pixels, but the model takes " << to_string(input) << " (" << input.numel()
                       << " values)");
  // Labels are not needed to predict; the dataset wants some.
  const std::int64_t count = images.count;
  data::IdxLabels labels;
  labels.labels.assign(static_cast<std::size_t>(count), 0);
  const data::Dataset dataset(std::move(images), std::move(labels));
  std::cout << "index class probability\n";
  Tensor batch, ignored;
  for (std::int64_t begin = 0; begin < count; begin += 256) {
    std::vector<std::int64_t> indices;
    for (std::int64_t i = begin; i < std::min(count, begin + 256); ++i)
      indices.push_back(i);
    dataset.gather_batch(indices, batch, ignored);
    const Tensor probabilities = session.model->predict(batch);
    const std::int64_t classes = probabilities.shape()[1];
    for (std::size_t row = 0; row < indices.size(); ++row) {
      const float* p = probabilities.data<float>() + static_cast<std::int64_t>(row) * classes;
      const auto best = std::max_element(p, p + classes) - p;
      char line[64];
      std::snprintf(line, sizeof line, "%lld %lld %.4f", static_cast<long long>(indices[row]),
                    static_cast<long long>(best), p[best]);
      std::cout << line << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

}  // namespace ringtrain::cli
