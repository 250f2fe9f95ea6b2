// A run directory: rank 0's checkpoints (checkpoint-<global step, 9 digits>.h5, plus best.h5) and metrics.
// Listing, pruning to the newest K, and finding the newest checkpoint that reads back completely.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/checkpoint/checkpoint.hpp"

namespace ringtrain {

// Creates `run_dir` (and its parents) where missing; an error names it and the reason when it cannot.
void create_run_directory(const std::filesystem::path& run_dir);

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, std::int64_t global_step);
std::filesystem::path best_checkpoint_path(const std::filesystem::path& run_dir);
std::filesystem::path metrics_path(const std::filesystem::path& run_dir);

// The step checkpoints of `run_dir`, oldest first (by the step in their name).
std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& run_dir);

// Removes all but the newest `keep` step checkpoints.
void keep_newest_checkpoints(const std::filesystem::path& run_dir, int keep);

// Before a run writes into `run_dir`: a fresh run (not resuming) refuses a directory that holds checkpoints,
// a metrics.h5 or a best.h5 (an earlier run's, perhaps one stopped before its first checkpoint);
// a resumed run renames those past its starting step (to checkpoint-...h5.superseded-<time>), so that they
// are neither pruned as its own nor resumed from later, and returns their new names. Nothing is deleted.
std::vector<std::filesystem::path> prepare_run_directory(const std::filesystem::path& run_dir,
                                                         std::int64_t start_step, bool resuming);

// Renames a damaged file of the run directory to <name>.damaged-<time> (kept, never deleted) and warns on
// std::clog with `why` (the error that read it) and `next` (what the run does without it).
void set_aside_damaged(const std::filesystem::path& path, const std::string& why, const std::string& next);

struct UsableCheckpoint {
  std::filesystem::path path;
  CheckpointInfo info;  // as read_checkpoint read it while checking the file
};

// The newest step checkpoint that reads back completely and passes its checksums; each newer one that does
// not is reported on `report` ("<reader>: skipping <path>: <reason>"). None when the directory holds no
// usable checkpoint.
std::optional<UsableCheckpoint> newest_usable_checkpoint(const std::filesystem::path& run_dir,
                                                         const std::string& reader, std::ostream& report);

}  // namespace ringtrain
