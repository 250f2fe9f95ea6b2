// Trainer: the training loop (Keras' fit): per epoch set the learning rate, run the shuffled batches
// through forward, fused loss, backward and the optimizer, then evaluate on the whole validation set.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/comm/gradient_buckets.hpp"
#include "core/data/mnist.hpp"
#include "core/data/prefetcher.hpp"
#include "core/data/sampler.hpp"
#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"
#include "core/train/observer.hpp"
#include "core/train/step_launch.hpp"
#include "core/train/train_config.hpp"
#include "core/train/training_position.hpp"

namespace ringtrain {

namespace data {
class DeviceDataset;
}

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
  // With several ranks and a loss sum that is not finite: the ranks whose own loss was not (a NaN in one
  // rank's batch-norm sums reaches every rank under --bn-sync global).
  std::vector<int> non_finite_ranks;
};

// A step boundary as fit reaches it, the same on every rank: after a step within an epoch, or after an
// epoch's validation (with its metrics). `position` is where training would continue from.
struct Boundary {
  TrainingPosition position;
  const EpochMetrics* epoch = nullptr;  // set at the end of an epoch
  bool stop_requested = false;          // fit returns after this boundary
};

// Called by fit on every rank (the checkpointer is one) at every epoch's end, after each step the handler
// wants a boundary after, and where a stop was requested (on the GPU, seen every few steps:
// TrainConfig::gpu_read_every); may use collectives. There every replica holds the same parameters and
// batch-norm moving statistics.
class BoundaryHandler {
 public:
  virtual ~BoundaryHandler() = default;
  virtual void at_boundary(const Boundary& boundary) = 0;
  // Whether the boundary after `global_step` steps must be reached (a checkpoint due there).
  virtual bool wants_boundary_after(std::int64_t /*global_step*/) const { return false; }
};

// Whether a run may be resuming, which keeps the global batch its checkpoint was trained with.
enum class Resuming { no, maybe };

// The global batch (config.batch_size) must divide among `ranks` processes; the error names the batch and
// the nearest sizes that do, and for a run that may be resuming, the nearest process counts that divide it.
void require_batch_divides(const TrainConfig& config, int ranks, Resuming resuming = Resuming::no);

// Data parallel over `communicator`'s ranks: every rank holds the same model, takes its contiguous slice of
// each global batch (config.batch_size), and the gradients are summed over ranks in buckets during backward.
// With one rank it is plain training. With the model on the GPU, fit keeps the datasets there, gathers each
// batch with a kernel, replays each step as a CUDA graph (config.cuda_graph) and reads the loss sums only
// every config.gpu_read_every steps.
class Trainer {
 public:
  Trainer(Sequential& model, Optimizer& optimizer, const TrainConfig& config,
          Communicator* communicator = nullptr);
  ~Trainer();

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
  // `steps` optimizer steps on the GPU from global step `first` (epochs of train.count() / batch samples,
  // shuffled as fit shuffles them), as fit takes them: data on the GPU, a CUDA graph when configured, no
  // host read in between. Returns the sums of all of them. The graph recorded by an earlier call is replayed
  // while no GPU buffer was allocated since (allocation_count(Device::cuda)). The model must be on the GPU.
  StepResult train_steps_on_gpu(const data::Dataset& train, std::int64_t first, std::int64_t steps,
                                float rate);
  // Loss and accuracy over every sample of the dataset (each rank a contiguous part), in inference mode.
  Evaluation evaluate(const data::Dataset& dataset);
  // The learning rate of a step: the schedule's, scaled and warmed up as configured.
  double learning_rate(int epoch, std::int64_t step, std::int64_t steps_per_epoch) const;
  // Operations in the CUDA graph of the training step (0 until one is recorded): what each step launches.
  std::size_t step_graph_nodes() const;
  // How many times the training step was recorded as a CUDA graph: once per run while its buffers stay put.
  std::uint64_t step_recordings() const;
  // This rank's part of the data.
  data::Shard shard() const { return {communicator_->rank(), communicator_->size()}; }

 private:
  struct OnGpu;  // the GPU's copies of the datasets, the step's scalars and its captured graph

  // `host` where the model runs: itself on the CPU, else copied into `buffer` on the model's device.
  const Tensor& on_model_device(const Tensor& host, Tensor& buffer) const;
  // The model's output units: the classes its labels must lie in.
  std::int64_t class_count() const;
  // Whether some rank was asked to stop (stop_request.hpp); a collective, so every rank gets the same answer.
  bool stop_requested_on_any_rank();
  // Under --bn-sync local each rank updates its moving statistics from its own rows: before validation and
  // at boundaries, every rank takes their mean over the ranks, so that all ranks validate and save one model.
  // (The moving averages are linear in their updates: averaging at any boundaries and again at the end gives
  // the statistics of averaging only at the end up to float32 rounding, so a run stopped at an extra boundary
  // and resumed ends with its parameters bitwise equal and these statistics within an ulp or so.)
  void agree_on_state();
  // The context of training step `step` on this rank.
  StepContext train_context(std::uint64_t step) const;
  // Throws where the test-only failure injection asks for it.
  void inject_failure(std::uint64_t step) const;
  // Queues one step on this rank's rows: forward, the loss added to totals_, backward with the gradient
  // sums, and the optimizer's update at `update_rate` (or *update_rate_on_device). Counts nothing.
  void queue_step(const Tensor& images, const Tensor& labels, const StepContext& context, float update_rate,
                  const float* update_rate_on_device);
  // Queues a step on a batch from host memory (copied to the GPU when the model is there).
  void queue_host_step(const data::Batch& batch, float rate, std::uint64_t step);
  // Queues step `step_in_epoch` of the epoch whose order the GPU holds: writes its scalars, then runs the
  // step eagerly, records it as a graph, or replays the graph; at most a few steps stay queued.
  void queue_gpu_step(std::int64_t step_in_epoch, std::uint64_t global_step, float rate);
  // Records `work` as the step's CUDA graph; where that fails in a single process, warns once and returns
  // false (steps then run eagerly); with several processes the failure is an error.
  bool record_gpu_step(const std::function<void()>& work);
  // How the next GPU step is launched: replayed while nothing was allocated since the recording, recorded
  // when nothing was allocated since the last eager step, else eagerly; the same on every rank.
  StepLaunch next_launch();
  // The GPU's copy of `train` (uploaded when it is another dataset) and of its order for `epoch`.
  void prepare_gpu_epoch(const data::Dataset& train, std::int64_t epoch);
  // The GPU's copy of an evaluated dataset, in its own order (uploaded when it is another dataset).
  const data::DeviceDataset& evaluated_on_gpu(const data::Dataset& dataset);
  // Sums since the last read over all ranks (and whether some rank was asked to stop); resets them.
  StepResult read_totals();
  // A float64 [3] tensor of sums (loss, correct rows, unknown labels), on the host; waits for the GPU.
  static std::array<double, 3> copy_sums_to_host(const Tensor& totals);
  // Throws when `unknown` labels of `whose` lie outside the model's classes.
  void require_known_labels(double unknown, const char* whose) const;
  // Optimizer steps in an epoch of `train` (the last partial global batch dropped); none is an error.
  std::int64_t steps_per_epoch(const data::Dataset& train) const;
  // Whether fit reads the sums after step `step` of an epoch of `steps`, `steps_taken` steps into training:
  // after every step on the CPU; on the GPU every gpu_read_every steps, at an epoch's end, and where the
  // boundary handler wants a boundary.
  bool reads_after(std::int64_t step, std::int64_t steps, std::int64_t steps_taken) const;

  Sequential& model_;
  Optimizer& optimizer_;
  const TrainConfig& config_;
  std::unique_ptr<Communicator> own_communicator_;
  Communicator* communicator_;
  std::unique_ptr<GradientBuckets> buckets_;
  Tensor dlogits_;
  // The batch a step or an evaluation reads, on the model's device (on the CPU evaluation's alone).
  Tensor batch_images_, batch_labels_;
  // float64 [3] on the model's device: loss sum, correct rows, unknown labels since the last read; and the
  // same for the evaluation under way.
  Tensor totals_, evaluation_totals_;
  std::int64_t rows_since_read_ = 0;  // this rank's
  std::unique_ptr<OnGpu> gpu_;
  std::vector<TrainingObserver*> observers_;
  BoundaryHandler* boundary_handler_ = nullptr;
  bool stopped_ = false;
};

}  // namespace ringtrain
