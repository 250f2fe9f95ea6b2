// TrainConfig: everything a training run is made of: the model, the optimizer and its schedule, the
// batch and epochs, the seed, the data and where metrics go. Filled from a config file and flags.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/device.hpp"
#include "core/model/model_spec.hpp"
#include "core/optim/optimizer.hpp"
#include "core/optim/schedule.hpp"

namespace ringtrain {

// Batch-norm statistics over the global batch (every replica's rows) or this process's rows only.
enum class BatchNormSync { global, local };
// Learning rate as given, or multiplied by the number of processes (with --warmup-epochs to ramp up to it).
enum class LearningRateScaling { none, linear };

inline constexpr int kDefaultCollectiveTimeoutSeconds = 300;

struct TrainConfig {
  std::string name = "model";
  ModelSpec model;
  OptimizerSettings optimizer;
  LearningRateSchedule schedule;
  int epochs = 10;
  std::int64_t batch_size = 128;
  std::uint64_t seed = 42;
  int threads = 0;                      // 0: this process's share of the cores (core/thread_budget)
  std::string device_request = "auto";  // as asked: auto, cpu or cuda
  Device device = Device::cpu;          // where the model runs: the request resolved for this machine
  bool deterministic = true;            // cuDNN restricted to algorithms that give the same bits every run
  bool cuda_graph = true;               // on the GPU, a training step recorded once and replayed
  std::filesystem::path data_dir;
  std::filesystem::path csv_path;  // empty: no CSV
  BatchNormSync bn_sync = BatchNormSync::global;
  LearningRateScaling lr_scaling = LearningRateScaling::none;
  double warmup_epochs = 0;
  std::int64_t bucket_kib = 256;  // gradient all-reduce bucket size
  // A collective (MPI, NCCL) unfinished after this ends the run.
  double collective_timeout_seconds = kDefaultCollectiveTimeoutSeconds;
  std::chrono::milliseconds collective_timeout() const {
    return std::chrono::milliseconds(std::llround(collective_timeout_seconds * 1000));
  }
  // On the GPU, steps between two host reads of the loss and accuracy (progress, metrics, the checks for a
  // non-finite loss and for a stop request); the CPU reads after every step.
  std::int64_t gpu_read_every = 100;
  std::int64_t fail_at_step = -1;  // testing: this rank throws at this global step
  int fail_rank = 1;
  // Where each option's value came from ("command line" or the config file), for error messages.
  std::map<std::string, std::string> sources;

  // "command line", the config file's path, or "default".
  std::string source_of(const std::string& option) const;
};

// Checks ranges (positive epochs, batch and rate, decay in (0, 1], ...); errors name the source and field.
void validate(const TrainConfig& config);

// Throws Error unless 0 <= threads <= kMaxThreads (core/thread_budget.hpp); `source` is where the value came
// from.
void check_threads(int threads, const std::string& source);

}  // namespace ringtrain
