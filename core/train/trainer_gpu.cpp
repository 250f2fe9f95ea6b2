// The trainer's GPU path: the datasets' copies on the GPU, the step's scalars written there, and each step
// run eagerly, recorded as a CUDA graph, or replayed.
#include <cstddef>
#include <functional>
#include <iostream>

#include "core/cuda/kernels.hpp"
#include "core/data/sampler.hpp"
#include "core/train/trainer_gpu.hpp"

namespace ringtrain {

void Trainer::prepare_gpu_epoch(const data::Dataset& train, std::int64_t epoch) {
  if (gpu_ == nullptr) gpu_ = std::make_unique<OnGpu>();
  if (gpu_->train_id != train.id()) {
    gpu_->train = std::make_unique<data::DeviceDataset>(train);
    gpu_->train_id = train.id();
  }
  gpu_->train->set_order(data::epoch_permutation(train.count(), config_.seed, epoch));
  gpu_->epoch = epoch;
}

void Trainer::queue_gpu_step(std::int64_t step_in_epoch, std::uint64_t global_step, float rate) {
  inject_failure(global_step);
  communicator_->throw_if_failed();
  const data::Shard part = shard();
  const std::int64_t rows = config_.batch_size / part.count;
  StepScalars values;
  values.step = global_step;
  values.first_row = step_in_epoch * config_.batch_size + part.index * rows;
  values.update_rate = optimizer_.update_rate(rate);
  RT_CHECK(values.first_row + rows <= gpu_->train->count(),
           "step " << step_in_epoch + 1 << " of the epoch needs samples up to " << values.first_row + rows
                   << " of its order, which holds " << gpu_->train->count());
  cuda::write_step_scalars(gpu_->scalar<StepScalars>(0), values);
  const auto* step_on_device = gpu_->scalar<const std::uint64_t>(offsetof(StepScalars, step));
  const auto* first_row_on_device = gpu_->scalar<const std::int64_t>(offsetof(StepScalars, first_row));
  const auto* rate_on_device = gpu_->scalar<const float>(offsetof(StepScalars, update_rate));
  // Every per-step value comes from the GPU's scalars (the host ones passed along are unused there), so the
  // work can be recorded once and replayed.
  const auto work = [&] {
    gpu_->train->gather(0, first_row_on_device, rows, batch_images_, batch_labels_);
    StepContext context = train_context(global_step);
    context.step_on_device = step_on_device;
    queue_step(batch_images_, batch_labels_, context, values.update_rate, rate_on_device);
  };
  const StepLaunch launch = next_launch();
  if (launch == StepLaunch::replay) {
    gpu_->graph->replay();
  } else if (launch == StepLaunch::record) {
    cuda::synchronize();  // nothing of the eager steps still running while the graph is recorded
    if (record_gpu_step(work)) {
      gpu_->graph->replay();
    } else {
      work();
    }
  } else {
    // First steps, or buffers replaced since the graph was recorded (one that had to grow, a library handle
    // made anew): run eagerly, letting the layers allocate what they need.
    gpu_->graph.reset();
    work();
    gpu_->allocations_after_eager_step = allocation_count(Device::cuda);
  }
  communicator_->watch_queued_work("collectives of a training step");
  gpu_->queued_steps.mark();
  optimizer_.count_update();
  rows_since_read_ += rows;
}

StepLaunch Trainer::next_launch() {
  if (!config_.cuda_graph || gpu_->recording_failed) return StepLaunch::eager;
  const std::uint64_t allocations = allocation_count(Device::cuda);
  StepLaunch mine = StepLaunch::eager;
  if (gpu_->graph != nullptr && gpu_->allocations_after_recording == allocations) {
    mine = StepLaunch::replay;
  } else if (gpu_->allocations_after_eager_step == allocations) {
    mine = StepLaunch::record;
  }
  return agree_on_launch(mine, *communicator_);
}

bool Trainer::record_gpu_step(const std::function<void()>& work) {
  auto graph = std::make_unique<cuda::CapturedWork>();
  try {
    graph->capture([&] {
      try {
        work();
      } catch (...) {
        buckets_->abandon();  // inside the recording: its sums' streams join back, so the recording can end
        throw;
      }
    });
  } catch (const Error& error) {
    // Collectives recorded before the failure may leave other ranks' sequences out of step: only a single
    // process goes on, without graphs.
    if (communicator_->size() > 1) throw;
    gpu_->recording_failed = true;
    std::cerr << "ringtrain: warning: " << error.what() << "; training goes on without CUDA graphs"
              << std::endl;
    return false;
  }
  gpu_->graph = std::move(graph);
  ++gpu_->recordings;
  gpu_->allocations_after_recording = allocation_count(Device::cuda);
  return true;
}

StepResult Trainer::train_steps_on_gpu(const data::Dataset& train, std::int64_t first, std::int64_t steps,
                                       float rate) {
  RT_CHECK(model_.device() == Device::cuda, "train_steps_on_gpu: the model is on the CPU");
  const std::int64_t per_epoch = steps_per_epoch(train);
  std::int64_t epoch = first / per_epoch, step_in_epoch = first % per_epoch;
  if (gpu_ == nullptr || gpu_->train_id != train.id() || gpu_->epoch != epoch)
    prepare_gpu_epoch(train, epoch);
  totals_.fill_zero();
  rows_since_read_ = 0;
  for (std::int64_t i = 0; i < steps; ++i, ++step_in_epoch) {
    if (step_in_epoch == per_epoch) {
      step_in_epoch = 0;
      prepare_gpu_epoch(train, ++epoch);
    }
    queue_gpu_step(step_in_epoch, static_cast<std::uint64_t>(epoch * per_epoch + step_in_epoch), rate);
  }
  return read_totals();
}

std::size_t Trainer::step_graph_nodes() const {
  return gpu_ != nullptr && gpu_->graph != nullptr ? gpu_->graph->node_count() : 0;
}

std::uint64_t Trainer::step_recordings() const {
  return gpu_ != nullptr ? gpu_->recordings : 0;
}

const data::DeviceDataset& Trainer::evaluated_on_gpu(const data::Dataset& dataset) {
  if (gpu_ == nullptr) gpu_ = std::make_unique<OnGpu>();
  if (gpu_->evaluated_id != dataset.id()) {
    gpu_->evaluated = std::make_unique<data::DeviceDataset>(dataset);
    gpu_->evaluated->set_order(data::in_order(dataset.count()));
    gpu_->evaluated_id = dataset.id();
  }
  return *gpu_->evaluated;
}

}  // namespace ringtrain
