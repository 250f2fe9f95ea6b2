// The run directory options of train (--run-dir, --checkpoint-every, --keep, --keep-best, --log-every,
// --resume) and where a run starts: from the beginning, or from the checkpoint --resume names.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "core/cli/options.hpp"
#include "core/cli/session.hpp"
#include "core/comm/communicator.hpp"
#include "core/train/training_position.hpp"

namespace ringtrain::cli {

struct RunFiles {
  std::filesystem::path run_dir;  // empty: no checkpoints, no metrics.h5
  std::int64_t checkpoint_every = 0;
  int keep = 3;
  bool keep_best = false;
  std::int64_t log_every = 10;
  std::string resume;                           // empty, a checkpoint's path, or "auto"
  std::int64_t pause_in_checkpoint_write = -1;  // testing
  double lock_wait_seconds = 120;
  bool report = false;  // rewrite report.html at every epoch's end
};

RunFiles run_files(const ParsedOptions& options);

struct StartingPoint {
  TrainingPosition position;  // the beginning unless resumed
  bool resuming = false;      // --resume was given (even if there was nothing to resume)
  double val_accuracy = -1;   // the resumed checkpoint's last validation accuracy
};

// With --resume, loads the checkpoint into the session's model and optimizer and returns its position, after
// checking that it continues this run (same seed, global batch and optimizer) and that every rank chose the
// same one; reports on `out` what it did, and which options differ from the run's (`config_text` is this
// run's config_text(parsed)). Without, the beginning. `--resume auto` in a run directory without a usable
// checkpoint starts from the beginning.
StartingPoint resume_position(const RunFiles& files, Session& session, const std::string& config_text,
                              Communicator& communicator, std::ostream& out);

}  // namespace ringtrain::cli
