// Checkpoints: one HDF5 file holding everything a run needs to continue exactly where it was, written
// atomically. Layout, schema 1 (the README describes it for readers such as h5py):
//   /                    attributes format="ringtrain checkpoint", schema_version, ringtrain_version,
//                        world_size, created (UTC, ISO 8601), optimizer (its name), config (the run's
//                        configuration as config-file text)
//   /parameters/<layer>/<kind>    float32, the model's trainable parameters ("conv2d/kernel")
//   /state/<layer>/<name>         float32, non-trainable state ("batch_normalization/moving_mean")
//   /optimizer/<slot>             float32 slots over the flat parameter buffer ("adam/m"); /optimizer/steps
//   int64 /training/<field>             the position: epoch, step (the next step to run within epoch),
//   global_step,
//                                 samples_seen, seed, and the running sums of the epoch in progress
//                                 (loss_sum, correct, seen); val_accuracy of the last validation (-1: none)
// Every dataset is chunked with HDF5's fletcher32 checksum, and the whole file is sealed (file_seal.hpp):
// readers check its length and CRC-32 before HDF5 reads it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"
#include "core/train/training_position.hpp"

namespace ringtrain {

constexpr std::int64_t kCheckpointSchema = 1;

struct CheckpointInfo {
  std::int64_t schema_version = kCheckpointSchema;
  std::string ringtrain_version;
  std::int64_t world_size = 1;
  std::string created;
  std::string optimizer;
  std::string config_text;
  TrainingPosition position;
  double val_accuracy = -1;
};

// Writes the checkpoint to a temporary file in path's directory, flushes and syncs it, renames it to
// `path` and syncs the directory: `path` is either the old file or the complete new one, never a part.
// `before_rename` runs when the temporary file is complete and synced (tests stop a write there).
void write_checkpoint(const std::filesystem::path& path, Sequential& model, Optimizer& optimizer,
                      const CheckpointInfo& info, const std::function<void()>& before_rename = {});

// Metadata and position, after reading every dataset back and verifying its checksum. Errors name the file
// and what is wrong: not HDF5 or truncated, a newer schema, a missing dataset, a checksum failure, a value no
// run writes (not finite, a negative moving variance, a count or position out of range).
CheckpointInfo read_checkpoint(const std::filesystem::path& path);

// What a checkpoint says of the run that wrote it, read without its datasets.
struct StoredRun {
  std::string config_text;     // its options, as config-file text (the config attribute)
  std::int64_t processes = 1;  // how many processes trained it (world_size)
};
StoredRun checkpoint_run(const std::filesystem::path& path);

// Loads parameters and state into `model` (built with the checkpoint's architecture) and, when given, the
// optimizer's slots and step count. A shape that differs is an error naming the first parameter and both
// shapes; nothing is loaded then.
void restore_checkpoint(const std::filesystem::path& path, Sequential& model, Optimizer* optimizer);

// "2026-11-28T12:34:56Z"
std::string utc_timestamp();

// A checkpoint written by a newer ringtrain (a later schema): not damaged, so a run never passes over it or
// sets it aside, which would resume from an older one or start over.
class NewerCheckpointError : public Error {
 public:
  using Error::Error;
};

}  // namespace ringtrain
