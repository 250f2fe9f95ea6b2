// Trainer: the training loop (Keras' fit): per epoch set the learning rate, run the shuffled batches
// through forward, fused loss, backward and the optimizer, then evaluate on the whole validation set.
#pragma once

#include <vector>

#include "core/comm/communicator.hpp"
#include "core/comm/gradient_buckets.hpp"
#include "core/data/mnist.hpp"
#include "core/data/prefetcher.hpp"
#include "core/data/sampler.hpp"
#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"
#include "core/train/observer.hpp"
#include "core/train/train_config.hpp"
#include "core/train/training_position.hpp"

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
  bool stop_requested = false;  // some rank was asked to stop (stop_request.hpp)
};

// A step boundary as fit reaches it, the same on every rank: after a step within an epoch, or after an
// epoch's validation (with its metrics). `position` is where training would continue from.
struct Boundary {
  TrainingPosition position;
  const EpochMetrics* epoch = nullptr;  // set at the end of an epoch
  bool stop_requested = false;          // fit returns after this boundary
};

// Called by fit at every boundary on every rank (the checkpointer is one); may use collectives.
class BoundaryHandler {
 public:
  virtual ~BoundaryHandler() = default;
  virtual void at_boundary(const Boundary& boundary) = 0;
};

// Data parallel over `communicator`'s ranks: every rank holds the same model, takes its contiguous slice of
// each global batch (config.batch_size), and the gradients are summed over ranks in buckets during backward.
// With one rank it is plain training.
class Trainer {
 public:
  Trainer(Sequential& model, Optimizer& optimizer, const TrainConfig& config,
          Communicator* communicator = nullptr);

  void add_observer(TrainingObserver& observer) { observers_.push_back(&observer); }
  void set_boundary_handler(BoundaryHandler& handler) { boundary_handler_ = &handler; }
  // Trains from `start` (the beginning by default; a checkpoint's position to resume) to the end of
  // config.epochs epochs, validating after each; returns the metrics of the epochs it finished. Stops with an
  // error if the loss is not finite, and early, after the boundary that saw it, when a stop was requested.
  std::vector<EpochMetrics> fit(const data::Dataset& train, const data::Dataset& validation,
                                const TrainingPosition& start = {});
  // Whether the last fit ended early on a stop request.
  bool stopped() const { return stopped_; }
  // One optimizer step on this rank's slice of a global batch; `step` is the global step (keys dropout).
  // The result sums over all ranks.
  StepResult train_step(const data::Batch& batch, float rate, std::uint64_t step);
  // Loss and accuracy over every sample of the dataset (each rank a contiguous part), in inference mode.
  Evaluation evaluate(const data::Dataset& dataset);
  // The learning rate of a step: the schedule's, scaled and warmed up as configured.
  double learning_rate(int epoch, std::int64_t step, std::int64_t steps_per_epoch) const;
  // This rank's part of the data.
  data::Shard shard() const { return {communicator_->rank(), communicator_->size()}; }

 private:
  // `host` where the model runs: itself on the CPU, else copied into `buffer` on the model's device.
  const Tensor& on_model_device(const Tensor& host, Tensor& buffer) const;

  Sequential& model_;
  Optimizer& optimizer_;
  const TrainConfig& config_;
  std::unique_ptr<Communicator> own_communicator_;
  Communicator* communicator_;
  std::unique_ptr<GradientBuckets> buckets_;
  Tensor dlogits_;
  Tensor images_on_device_, labels_on_device_;
  std::vector<TrainingObserver*> observers_;
  BoundaryHandler* boundary_handler_ = nullptr;
  bool stopped_ = false;
};

}  // namespace ringtrain
