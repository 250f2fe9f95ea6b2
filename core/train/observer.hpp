// TrainingObserver: what a trainer reports as it goes (Keras' callbacks), and the metrics it reports.
#pragma once

#include <cstdint>

namespace ringtrain {

struct StepMetrics {
  int epoch = 0;                 // from 0
  std::int64_t step = 0;         // within the epoch, from 0
  std::int64_t steps = 0;        // per epoch
  std::int64_t first_step = 0;   // where this run began the epoch: past 0 when it resumed inside it
  std::int64_t global_step = 0;  // steps taken, this one included
  double learning_rate = 0;      // of this step
  double loss = 0;               // running mean over the epoch so far
  double accuracy = 0;           // running
  double images_per_second = 0;
  double elapsed_seconds = 0;  // since the epoch began
};

struct EpochMetrics {
  int epoch = 0;
  double loss = 0, accuracy = 0;
  double val_loss = 0, val_accuracy = 0;
  double learning_rate = 0;
  double seconds = 0;          // of this run's part of the epoch, validation included
  std::int64_t steps_run = 0;  // steps this run trained in the epoch (fewer when it resumed inside it)
  double images_per_second = 0;
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_epoch_begin(int /*epoch*/, int /*epochs*/, double /*learning_rate*/) {}
  virtual void on_step_end(const StepMetrics& /*metrics*/) {}
  virtual void on_epoch_end(const EpochMetrics& /*metrics*/) {}
};

}  // namespace ringtrain
