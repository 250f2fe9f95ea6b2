// Run directory options and the choice of where to start: the checkpoint, checked against this run's seed,
// batch, optimizer and layers.
#include "core/cli/run_files.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/comm/agreement.hpp"
#include "core/model/model_spec.hpp"

namespace ringtrain::cli {

namespace {

// The checkpoint's model, as its stored configuration gives it, must be this run's model layer for layer:
// an activation or a dropout rate changes no shape, so the shapes alone would let a resume go on with another
// model. (A configuration this ringtrain cannot read is left to the shape checks.)
void require_same_layers(const std::filesystem::path& path, const CheckpointInfo& info,
                         const Sequential& model) {
  if (info.config_text.empty()) return;
  std::unique_ptr<Sequential> stored;
  try {
    stored = make_model(train_config(parse_config_text(info.config_text, path.string())).model);
  } catch (const Error&) {
    return;
  }
  const auto& ours = model.layers();
  const auto& theirs = stored->layers();
  for (std::size_t i = 0; i < std::max(ours.size(), theirs.size()); ++i) {
    const auto text = [](const auto& layers, std::size_t index) {
      return index < layers.size() ? layers[index]->type() + "(" + layers[index]->describe() + ")"
                                   : std::string("no layer");
    };
    RT_CHECK(text(ours, i) == text(theirs, i),
             path.string() << " was written for another model: its layer " << i + 1 << " is "
                           << text(theirs, i) << ", this run's is " << text(ours, i)
                           << ": resume with the configuration the run was started with");
  }
}

}  // namespace

RunFiles run_files(const ParsedOptions& parsed) {
  const auto& values = parsed.values;
  RT_CHECK(!values.count("resume") || !values["resume"].as<std::string>().empty(),
           parsed.source_of("resume") << ": resume is empty: give auto or a checkpoint, or leave it out");
  RunFiles files;
  if (values.count("run-dir")) files.run_dir = values["run-dir"].as<std::string>();
  files.checkpoint_every = values["checkpoint-every"].as<std::int64_t>();
  files.keep = values["keep"].as<int>();
  files.keep_best = values["keep-best"].as<bool>();
  files.log_every = values["log-every"].as<std::int64_t>();
  if (values.count("resume")) files.resume = values["resume"].as<std::string>();
  files.pause_in_checkpoint_write = values["pause-in-checkpoint-write"].as<std::int64_t>();
  files.report = values["report"].as<bool>();
  files.lock_wait_seconds = values["lock-wait"].as<double>();
  RT_CHECK(files.lock_wait_seconds >= 0 && files.lock_wait_seconds <= 86400,
           parsed.source_of("lock-wait") << ": lock-wait=" << files.lock_wait_seconds
                                         << " must be a number of seconds from 0 to 86400");
  RT_CHECK(!files.report || !files.run_dir.empty(),
           "--report writes RUN_DIR/report.html: give --run-dir DIR as well");
  // Options that only shape what goes into a run directory would otherwise be dropped without a word.
  for (const char* option : {"checkpoint-every", "keep", "keep-best", "log-every"}) {
    RT_CHECK(!files.run_dir.empty() || values[option].defaulted(),
             parsed.source_of(option)
                 << ": " << option << " sets what goes into the run directory, and there is "
                 << "none: give --run-dir DIR as well, or leave " << option << " out");
  }
  RT_CHECK(files.checkpoint_every >= 0, parsed.source_of("checkpoint-every")
                                            << ": checkpoint-every=" << files.checkpoint_every
                                            << " must be 0 (epoch ends only) or a number of steps");
  RT_CHECK(files.keep >= 1, parsed.source_of("keep") << ": keep=" << files.keep << " must be at least 1");
  RT_CHECK(files.log_every >= 1, parsed.source_of("log-every")
                                     << ": log-every=" << files.log_every << " must be at least 1");
  RT_CHECK(files.resume != "auto" || !files.run_dir.empty(),
           "--resume auto looks for checkpoints in the run directory: give --run-dir DIR as well");
  return files;
}

namespace {

// A checkpoint each rank found alone (none under --resume auto in a directory without one).
struct ChosenCheckpoint {
  std::filesystem::path path;
  CheckpointInfo info;
  bool found = true;
};

ChosenCheckpoint choose_checkpoint(const RunFiles& files, std::ostream& out) {
  ChosenCheckpoint chosen{files.resume, {}, true};
  if (files.resume != "auto") {
    chosen.info = read_checkpoint(chosen.path);
    return chosen;
  }
  auto newest = newest_usable_checkpoint(files.run_dir, "resume", out);
  chosen.found = newest.has_value();
  if (chosen.found) {
    chosen.path = newest->path;
    chosen.info = std::move(newest->info);
  }
  return chosen;
}

// Says so when batch-norm statistics are now taken over other batches than the run's: another --bn-sync, or
// per-rank statistics (--bn-sync local) on another number of processes.
void announce_batch_norm_change(const CheckpointInfo& info, const TrainConfig& config, int ranks,
                                std::ostream& out) {
  const auto entries = config_entries(info.config_text);
  const auto was = entries.find("bn-sync");
  const std::string now = config.bn_sync == BatchNormSync::local ? "local" : "global";
  if (was != entries.end() && was->second != now) {
    out << "resume: --bn-sync " << now << ": batch-norm statistics are now "
        << (now == "local" ? "each rank's own" : "over the global batch") << " (the run used --bn-sync "
        << was->second << ")\n";
  } else if (now == "local" && info.world_size > 0 && info.world_size != ranks) {
    out << "resume: --bn-sync local: batch-norm statistics are now over each rank's "
        << config.batch_size / ranks << " samples (they were over " << config.batch_size / info.world_size
        << " on " << info.world_size << " process(es))\n";
  }
}

// Says which options differ from the run's (the checkpoint's stored configuration): the resumed run takes the
// ones it is given from here on. --epochs, which a resumed run is expected to raise, --bn-sync (said with
// what it changes) and the model (checked before) are left out.
void announce_option_changes(const std::string& run_config_text, const std::string& config_text,
                             std::ostream& out) {
  const auto was = config_entries(run_config_text);
  for (const auto& [key, value] : config_entries(config_text)) {
    // The model (its layers and input shape, however written) was checked to be the run's.
    if (key == "epochs" || key == "bn-sync" || key == "layer" || key == "input-shape") continue;
    const auto before = was.find(key);
    if (before == was.end() || before->second == value) continue;
    out << "resume: " << key << " = " << value << " from here on (the run used " << before->second << ")\n";
  }
}

// The position to continue from, once `chosen` is checked to continue this run, with the checkpoint loaded.
StartingPoint continue_from(const ChosenCheckpoint& chosen, const RunFiles& files, Session& session,
                            const std::string& config_text, int ranks, std::ostream& out) {
  StartingPoint start;
  start.resuming = true;
  const std::filesystem::path& path = chosen.path;
  const CheckpointInfo& info = chosen.info;
  if (!chosen.found) {
    out << "resume: no usable checkpoint in " << files.run_dir.string() << "; starting from the beginning\n";
    return start;
  }
  const TrainConfig& config = session.config;
  // Another model first: another seed, batch or optimizer would not make it this run's.
  require_same_layers(path, info, *session.model);
  RT_CHECK(info.optimizer.empty() || info.optimizer == config.optimizer.name,
           path.string() << " holds the state of optimizer " << info.optimizer << ", this run uses "
                         << config.optimizer.name << ": resume with --optimizer " << info.optimizer);
  RT_CHECK(info.position.seed == config.seed,
           path.string() << " was written by a run with seed " << info.position.seed << ", this one has seed "
                         << config.seed << ": resume with --seed " << info.position.seed);
  const std::int64_t steps = info.position.global_step, samples = info.position.samples_seen;
  RT_CHECK(
      samples == steps * config.batch_size,
      path.string() << " was written at global step " << steps << " after " << samples
                    << " samples, which is not global batch " << config.batch_size << ": resume with "
                    << (steps > 0 && samples % steps == 0 ? "--batch-size " + std::to_string(samples / steps)
                                                          : std::string("the run's --batch-size")));
  // A configuration that could not be compared above still has its shapes checked here, naming a parameter.
  restore_checkpoint(path, *session.model, session.optimizer.get());
  out << "resume: from " << path.string() << " (after " << info.position.global_step << " steps; written by "
      << info.world_size << " process(es), now " << ranks << ")\n";
  if (info.position.epoch >= config.epochs) {
    out << "resume: the run has trained " << info.position.epoch << " epoch(s), and --epochs is "
        << config.epochs << ": nothing is left to train (give a larger --epochs to go on)\n";
  } else {
    out << "resume: continuing at epoch " << info.position.epoch + 1 << ", step " << info.position.step + 1
        << "\n";
  }
  announce_option_changes(info.config_text, config_text, out);
  if (config.lr_scaling == LearningRateScaling::linear && info.world_size > 0 && info.world_size != ranks)
    out << "resume: --lr-scaling linear: the learning rate is now lr x " << ranks << " (it was lr x "
        << info.world_size << ")\n";
  if (!session.model->state().empty())  // batch norm's moving statistics
    announce_batch_norm_change(info, config, ranks, out);
  start.position = info.position;
  start.val_accuracy = info.val_accuracy;
  return start;
}

}  // namespace

StartingPoint resume_position(const RunFiles& files, Session& session, const std::string& config_text,
                              Communicator& communicator, std::ostream& out) {
  if (files.resume.empty()) return {};
  // Each rank reads the checkpoints alone, and the outcomes are agreed on: a missing, damaged or unsuitable
  // checkpoint is reported once, by the lowest rank that met it.
  const ChosenCheckpoint chosen = agree_on(communicator, [&] { return choose_checkpoint(files, out); });
  // Every rank must start from the same checkpoint (on a shared filesystem they see the same files, but a
  // file not yet visible on one node must not split the run).
  const auto steps = communicator.all_gather(
      chosen.found ? static_cast<std::uint64_t>(chosen.info.position.global_step) + 1 : 0);
  return agree_on(communicator, [&] {
    for (std::size_t rank = 1; rank < steps.size(); ++rank) {
      RT_CHECK(steps[rank] == steps[0],
               "rank " << rank << " would resume from global step "
                       << static_cast<std::int64_t>(steps[rank]) - 1 << " but rank 0 from "
                       << static_cast<std::int64_t>(steps[0]) - 1
                       << " (the ranks see different checkpoints in " << files.run_dir.string()
                       << "): check the run directory's filesystem");
    }
    return continue_from(chosen, files, session, config_text, communicator.size(), out);
  });
}

}  // namespace ringtrain::cli
