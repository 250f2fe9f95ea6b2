// Run directory options and the choice of where to start.
#include "core/cli/run_files.hpp"

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/run_directory.hpp"

namespace ringtrain::cli {

RunFiles run_files(const ParsedOptions& parsed) {
  const auto& values = parsed.values;
  RunFiles files;
  if (values.count("run-dir")) files.run_dir = values["run-dir"].as<std::string>();
  files.checkpoint_every = values["checkpoint-every"].as<std::int64_t>();
  files.keep = values["keep"].as<int>();
  files.keep_best = values["keep-best"].as<bool>();
  files.log_every = values["log-every"].as<std::int64_t>();
  if (values.count("resume")) files.resume = values["resume"].as<std::string>();
  files.pause_in_checkpoint_write = values["pause-in-checkpoint-write"].as<std::int64_t>();
  files.report = values["report"].as<bool>();
  RT_CHECK(!files.report || !files.run_dir.empty(),
           "--report writes RUN_DIR/report.html: give --run-dir DIR as well");
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

TrainingPosition resume_position(const RunFiles& files, Session& session, int world_size, std::ostream& out) {
  if (files.resume.empty()) return {};
  std::filesystem::path path = files.resume;
  if (files.resume == "auto") {
    const auto newest = newest_usable_checkpoint(files.run_dir, out);
    if (!newest) {
      out << "resume: no usable checkpoint in " << files.run_dir.string()
          << "; starting from the beginning\n";
      return {};
    }
    path = *newest;
  }
  const CheckpointInfo info = read_checkpoint(path);
  const TrainConfig& config = session.config;
  RT_CHECK(info.position.seed == config.seed,
           path.string() << " was written by a run with seed " << info.position.seed << ", this one has seed "
                         << config.seed << ": resume with --seed " << info.position.seed);
  RT_CHECK(info.position.samples_seen == info.position.global_step * config.batch_size,
           path.string() << " was written at global step " << info.position.global_step << " after "
                         << info.position.samples_seen << " samples, which is not global batch "
                         << config.batch_size << ": resume with the run's --batch-size");
  restore_checkpoint(path, *session.model, session.optimizer.get());
  out << "resume: from " << path.string() << " (epoch " << info.position.epoch + 1 << ", step "
      << info.position.step + 1 << ", global step " << info.position.global_step << ", written by "
      << info.world_size << " process(es); now " << world_size << ")\n";
  return info.position;
}

}  // namespace ringtrain::cli
