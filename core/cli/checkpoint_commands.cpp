// evaluate, predict and report: a model rebuilt from a checkpoint alone (its stored configuration and
// parameters).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/help.hpp"
#include "core/cli/session.hpp"
#include "core/comm/agreement.hpp"
#include "core/data/idx.hpp"
#include "core/data/mnist.hpp"
#include "core/model/summary.hpp"
#include "core/report/report.hpp"
#include "core/thread_budget.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain::cli {

namespace {

po::options_description checkpoint_options(bool predicting) {
  po::options_description options(predicting ? "Predict" : "Evaluate");
  options.add_options()("checkpoint", po::value<std::string>(), "the checkpoint file (.h5) to load")(
      "threads", po::value<int>()->default_value(0), kThreadsHelp);
  if (predicting) {
    options.add_options()("images", po::value<std::string>(), "IDX image file (raw or .gz) to classify");
  } else {
    options.add_options()(
        "data", po::value<std::string>(),
        "directory of the MNIST IDX files (default: $RINGTRAIN_DATA or ~/.cache/ringtrain/mnist)");
  }
  return options;
}

// The parsed options, or nothing when --help asked for the help (printed here).
std::optional<ParsedOptions> parse_unless_help(const std::vector<std::string>& arguments,
                                               const std::string& usage, bool predicting) {
  const auto options = checkpoint_options(predicting);
  if (wants_help(arguments)) {
    print_help(usage, options);
    return std::nullopt;
  }
  return parse(arguments, options, "checkpoint");
}

std::string required(const ParsedOptions& parsed, const std::string& option, const std::string& usage) {
  RT_CHECK(parsed.values.count(option), "--" << option << " is required: " << usage);
  return parsed.values[option].as<std::string>();
}

// The model of the required --checkpoint, with --threads applied.
Session checkpoint_session(const ParsedOptions& parsed, const std::string& usage, const Replica& replica) {
  return open_checkpoint_session(required(parsed, "checkpoint", usage), parsed.values["threads"].as<int>(),
                                 replica.node);
}

}  // namespace

int evaluate_command(const std::vector<std::string>& arguments, Replica& replica) {
  const std::string usage = "ringtrain evaluate [--checkpoint] FILE [--data DIR]";
  struct Setup {
    Session session;
    data::Dataset test;
  };
  std::optional<Setup> setup = agree_on(replica.communicator, [&]() -> std::optional<Setup> {
    const auto options = parse_unless_help(arguments, usage, false);
    if (!options) return std::nullopt;
    Session session = checkpoint_session(*options, usage, replica);
    if (options->values.count("data")) session.config.data_dir = options->values["data"].as<std::string>();
    data::Dataset test = load_data_for(*session.model, session.config.data_dir, data::Split::test);
    return Setup{std::move(session), std::move(test)};
  });
  if (!setup) return 0;
  Session& session = setup->session;
  const data::Dataset& test = setup->test;
  // Any batch that divides among the processes will do for evaluation.
  session.config.batch_size = 100 * replica.communicator.size();
  Trainer trainer(*session.model, *session.optimizer, session.config, &replica.for_device(session.config));
  const Evaluation evaluation = trainer.evaluate(test);
  char line[160];
  std::snprintf(line, sizeof line, "evaluate accuracy=%.4f loss=%.4f samples=%lld", evaluation.accuracy,
                evaluation.loss, static_cast<long long>(evaluation.count));
  std::cout << line << std::endl;
  return 0;
}

int predict_command(const std::vector<std::string>& arguments, Replica& replica) {
  const std::string usage = "ringtrain predict [--checkpoint] FILE --images FILE.idx[.gz]";
  struct Setup {
    Session session;
    data::IdxImages images;
  };
  std::optional<Setup> setup = agree_on(replica.communicator, [&]() -> std::optional<Setup> {
    const auto options = parse_unless_help(arguments, usage, true);
    if (!options) return std::nullopt;
    const std::string images_path = required(*options, "images", usage);
    Session session = checkpoint_session(*options, usage, replica);
    data::IdxImages images = data::read_idx_images(images_path, data::named_file_advice("--images"));
    require_images_fit(*session.model, images.rows, images.cols, images_path, "--images");
    return Setup{std::move(session), std::move(images)};
  });
  if (!setup) return 0;
  Session& session = setup->session;
  data::IdxImages& images = setup->images;
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

namespace {

// The checkpoint whose model the report shows: the newest that reads back whole (newer damaged ones are
// named on standard output), else best.h5.
UsableCheckpoint model_checkpoint_of(const std::filesystem::path& run_dir) {
  if (auto newest = newest_usable_checkpoint(run_dir, "report", std::cout)) return std::move(*newest);
  const std::filesystem::path best = best_checkpoint_path(run_dir);
  std::error_code error;
  RT_CHECK(std::filesystem::exists(best, error),
           run_dir.string() << (list_checkpoints(run_dir).empty()
                                    ? " holds no checkpoint"
                                    : " holds no step checkpoint that reads back whole (named above)")
                            << " and no best.h5: train with --run-dir " << run_dir.string());
  try {
    return UsableCheckpoint{best, read_checkpoint(best)};
  } catch (const std::exception& damaged) {
    RT_FAIL(run_dir.string() << " holds no checkpoint that reads back whole: " << best.string() << ": "
                             << damaged.what());
  }
}

}  // namespace

int report_command(const std::vector<std::string>& arguments, Replica& replica) {
  const std::string usage = "ringtrain report RUN_DIR [--data DIR]";
  po::options_description options("Report");
  options.add_options()("run-dir", po::value<std::string>(), "the run directory")(
      "data", po::value<std::string>(), "directory of the MNIST IDX files (default: as train)")(
      "threads", po::value<int>()->default_value(0), kThreadsHelp);
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  if (arguments.empty() || wants_help(arguments)) {
    print_help(usage, options);
    return arguments.empty() ? 2 : 0;
  }
  po::variables_map values;
  try {
    po::store(po::command_line_parser(arguments).options(options).positional(positional).run(), values);
  } catch (const po::error& error) {
    RT_FAIL("command line: " << error.what() << " (" << usage << ")");
  }
  RT_CHECK(values.count("run-dir"), usage);
  const std::filesystem::path run_dir = values["run-dir"].as<std::string>();
  if (replica.communicator.rank() != 0) return 0;
  std::error_code error;
  RT_CHECK(std::filesystem::is_directory(run_dir, error),
           run_dir.string()
               << " is not a directory: give report a run directory (the --run-dir of a training run)");
  RT_CHECK(std::filesystem::exists(metrics_path(run_dir)),
           metrics_path(run_dir).string()
               << " is missing: " << run_dir.string()
               << " holds no training run's metrics (train with --run-dir " << run_dir.string()
               << " writes them; its report is written at each epoch's end with --report)");
  const UsableCheckpoint checkpoint = model_checkpoint_of(run_dir);
  Session session =
      open_checkpoint_session(checkpoint.path.string(), values["threads"].as<int>(), replica.node);
  const std::filesystem::path data_dir = values.count("data")
                                             ? std::filesystem::path(values["data"].as<std::string>())
                                             : session.config.data_dir;
  const data::Dataset validation = load_data_for(*session.model, data_dir, data::Split::test);
  const Hdf5File metrics = Hdf5File::open_for_reading(metrics_path(run_dir));
  const ReportContent content{session.config.name, checkpoint.info.config_text,
                              model_summary(*session.model, session.config.name), checkpoint.info.world_size};
  const ReportCounts counts =
      write_report(run_dir, metrics, *session.model, content, validation, Font::default_font());
  std::cout << "report " << (run_dir / "report.html").string()
            << " (and curves.png, predictions.png): " << counts.wrong << " of " << counts.validated
            << " validation digits misclassified by " << checkpoint.path.filename().string() << " (after "
            << checkpoint.info.position.global_step << " steps), " << counts.shown << " shown, "
            << counts.wrong_shown << " of them wrong" << std::endl;
  return 0;
}

}  // namespace ringtrain::cli
