// Checkpointer: at fit's step boundaries, writes the run's checkpoints into its run directory: every N steps,
// at every epoch's end, and when a stop was requested; keeps the newest K, and optionally a copy of the best
// by validation accuracy. Every rank calls it; the replicas' parameters and batch-norm statistics are
// compared first, and rank 0 alone writes. Temporary files that a killed write left behind (its process gone)
// are removed when it starts. The caller holds the run directory's lock (RunDirectoryLock) while it runs.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "core/comm/communicator.hpp"
#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain {

struct CheckpointSettings {
  std::filesystem::path run_dir;
  std::int64_t every_steps = 0;  // 0: at epoch ends (and stops) only
  int keep = 3;
  bool keep_best = false;
  std::string config_text;  // the run's configuration, stored in each checkpoint
  // Testing: rank 0 sleeps inside the write of this step's checkpoint, before the rename.
  std::int64_t pause_in_write_at_step = -1;
  // Where this run starts: a fresh run refuses a directory with an earlier run's files; a resumed one sets
  // aside the checkpoints past its start (prepare_run_directory).
  bool resuming = false;
  std::int64_t start_step = 0;
  double val_accuracy_at_start = -1;  // the resumed checkpoint's, until this run validates
};

class Checkpointer final : public BoundaryHandler {
 public:
  Checkpointer(CheckpointSettings settings, Sequential& model, Optimizer& optimizer,
               const std::string& optimizer_name, Communicator& communicator);

  void at_boundary(const Boundary& boundary) override;
  bool wants_boundary_after(std::int64_t global_step) const override {
    return settings_.every_steps > 0 && global_step % settings_.every_steps == 0;
  }
  // Runs on rank 0 before each checkpoint is written (metrics.h5 is flushed there, so that the rows up to a
  // checkpoint survive whatever comes after it).
  void before_each_write(std::function<void()> action) { before_write_ = std::move(action); }

  // The last checkpoint written (empty before the first).
  const std::filesystem::path& last_written() const { return last_written_; }

 private:
  // Rank 0: writes the checkpoint of `boundary` (and best.h5), then prunes.
  void write(const Boundary& boundary);
  // Rank 0, with --keep-best: the validation accuracy of the run's best.h5, if it has one (a damaged one is
  // set aside, one this user cannot read is an error).
  void read_best_so_far();

  CheckpointSettings settings_;
  Sequential& model_;
  Optimizer& optimizer_;
  std::string optimizer_name_;
  Communicator& communicator_;
  double best_accuracy_ = -1;
  double last_val_accuracy_ = -1;
  std::filesystem::path last_written_;
  std::function<void()> before_write_;
};

}  // namespace ringtrain
