// Checkpointer: when to write, the replica check before, and pruning after.
#include "core/checkpoint/checkpointer.hpp"

#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/comm/replicas.hpp"
#include "core/file_access.hpp"

namespace ringtrain {

Checkpointer::Checkpointer(CheckpointSettings settings, Sequential& model, Optimizer& optimizer,
                           const std::string& optimizer_name, Communicator& communicator)
    : settings_(std::move(settings)),
      model_(model),
      optimizer_(optimizer),
      optimizer_name_(optimizer_name),
      communicator_(communicator),
      last_val_accuracy_(settings_.val_accuracy_at_start) {
  if (communicator_.rank() != 0) return;
  create_run_directory(settings_.run_dir);
  for (const auto& aside : prepare_run_directory(settings_.run_dir, settings_.start_step, settings_.resuming))
    std::cout << "resume: set aside " << aside.string() << ", written after the step this run resumes from\n";
  for (const auto& entry : std::filesystem::directory_iterator(settings_.run_dir)) {
    const std::string name = entry.path().filename().string();
    const auto partial = name.find(".partial-");
    if (!name.starts_with(".") || partial == std::string::npos) continue;
    // Another ringtrain still writing into this directory keeps its file.
    const std::string pid = name.substr(partial + 9);
    if (!std::filesystem::exists("/proc/" + pid)) std::filesystem::remove(entry.path());
  }
  if (settings_.keep_best) read_best_so_far();
}

void Checkpointer::read_best_so_far() {
  // A resumed run keeps the best copy it had unless it does better.
  const auto best = best_checkpoint_path(settings_.run_dir);
  if (!std::filesystem::exists(best)) return;
  // A copy this user cannot read is not damaged: replacing it would lose the run's best model.
  const int unreadable = open_error(best, "rb");
  RT_CHECK(unreadable == 0, best.string() << " cannot be read (" << std::strerror(unreadable)
                                          << "): it holds this run's best model; let this user read it, or "
                                             "move it out of the run directory");
  try {
    best_accuracy_ = read_checkpoint(best).val_accuracy;
  } catch (const NewerCheckpointError&) {
    throw;
  } catch (const Error& error) {
    // Damaged: kept aside, as a damaged metrics file is; the next epoch's model is the best so far.
    set_aside_damaged(best, error.what(), "the best model from this run's next epoch on replaces it");
  }
}

void Checkpointer::at_boundary(const Boundary& boundary) {
  // fit calls it only where a checkpoint is due: an epoch's end, a step wants_boundary_after, a stop.
  if (boundary.epoch != nullptr) last_val_accuracy_ = boundary.epoch->val_accuracy;
  check_replicas_agree(model_.parameters(), model_.state(), communicator_, "before writing a checkpoint");
  if (communicator_.rank() == 0) write(boundary);
  // No rank runs on (or exits, after a stop) while rank 0 is still writing.
  communicator_.barrier();
}

void Checkpointer::write(const Boundary& boundary) {
  if (before_write_) before_write_();
  CheckpointInfo info;
  info.ringtrain_version = RINGTRAIN_VERSION;
  info.world_size = communicator_.size();
  info.optimizer = optimizer_name_;
  info.config_text = settings_.config_text;
  info.position = boundary.position;
  info.val_accuracy = last_val_accuracy_;
  last_written_ = checkpoint_path(settings_.run_dir, boundary.position.global_step);
  const auto pause = [&] {
    if (boundary.position.global_step != settings_.pause_in_write_at_step) return;
    std::cerr << "checkpoint write paused before the rename of " << last_written_.string() << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(60));
  };
  write_checkpoint(last_written_, model_, optimizer_, info, pause);
  keep_newest_checkpoints(settings_.run_dir, settings_.keep);
  if (settings_.keep_best && boundary.epoch != nullptr && boundary.epoch->val_accuracy > best_accuracy_) {
    best_accuracy_ = boundary.epoch->val_accuracy;
    write_checkpoint(best_checkpoint_path(settings_.run_dir), model_, optimizer_, info);
  }
}

}  // namespace ringtrain
