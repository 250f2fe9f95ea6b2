// Trainer: the training loop (Keras' fit): per epoch set the learning rate, run the shuffled batches
// through forward, fused loss, backward and the optimizer, then evaluate on the whole validation set.
#pragma once

#include <vector>

#include "core/data/mnist.hpp"
#include "core/data/prefetcher.hpp"
#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"
#include "core/train/observer.hpp"
#include "core/train/train_config.hpp"

namespace ringtrain {

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  std::int64_t count = 0;
};

struct StepResult {
  double loss_sum = 0;
  std::int64_t correct = 0;
  std::int64_t count = 0;
};

class Trainer {
 public:
  Trainer(Sequential& model, Optimizer& optimizer, const TrainConfig& config);

  void add_observer(TrainingObserver& observer) { observers_.push_back(&observer); }
  // Trains config.epochs epochs; validation after each. Stops with an error if the loss is not finite.
  std::vector<EpochMetrics> fit(const data::Dataset& train, const data::Dataset& validation);
  // One optimizer step on a batch at this learning rate; `step` is the global step (keys dropout).
  StepResult train_step(const data::Batch& batch, float learning_rate, std::uint64_t step);
  // Loss and accuracy over every sample of the dataset, in order, in inference mode.
  Evaluation evaluate(const data::Dataset& dataset);

 private:
  Sequential& model_;
  Optimizer& optimizer_;
  const TrainConfig& config_;
  Tensor dlogits_;
  std::vector<TrainingObserver*> observers_;
};

}  // namespace ringtrain
