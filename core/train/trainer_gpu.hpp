// Trainer::OnGpu: what the trainer keeps on the GPU (the datasets' copies, the step's scalars, the recorded
// step, the bound on queued steps). Private to the trainer's sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/data/device_dataset.hpp"
#include "core/step_scalars.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain {

struct Trainer::OnGpu {
  std::uint64_t train_id = 0;  // Dataset::id of the copy in `train`
  std::unique_ptr<data::DeviceDataset> train;
  std::uint64_t evaluated_id = 0;  // of the copy in `evaluated`, in its own order
  std::unique_ptr<data::DeviceDataset> evaluated;
  std::int64_t epoch = -1;  // whose order the GPU holds
  Tensor scalars = Tensor::zeros({static_cast<std::int64_t>(sizeof(StepScalars))}, DType::u8, Device::cuda);
  std::unique_ptr<cuda::CapturedWork> graph;
  std::uint64_t recordings = 0;  // of the training step, successful ones
  // allocation_count(Device::cuda) after the last eager step and after the graph was recorded: a step is
  // recorded when nothing was allocated since the last eager step ended (its buffers are the ones the next
  // step uses), and replayed while nothing was allocated since the recording.
  std::uint64_t allocations_after_eager_step = ~std::uint64_t{0};
  std::uint64_t allocations_after_recording = ~std::uint64_t{0};
  cuda::QueueDepthLimit queued_steps{8};
  bool recording_failed = false;  // one process only: steps then run eagerly

  // Where a field of the step's scalars lives on the GPU.
  template <typename Field>
  Field* scalar(std::size_t offset) const {
    return reinterpret_cast<Field*>(scalars.data<std::uint8_t>() + offset);
  }
};

}  // namespace ringtrain
