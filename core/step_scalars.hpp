// StepScalars: the values that change from one training step to the next on the GPU. They are written to
// device memory before each step and read there by the kernels that need them, so a step captured once as a
// CUDA graph replays with the right step, batch and rate.
#pragma once

#include <cstdint>

namespace ringtrain {

struct StepScalars {
  std::uint64_t step = 0;      // optimizer steps taken before this one (keys dropout)
  std::int64_t first_row = 0;  // this process's first row of the batch in the epoch's sample order
  float update_rate = 0;       // the rate the optimizer's update applies (Adam's is bias-corrected)
  std::uint32_t padding = 0;
};

}  // namespace ringtrain
