// Inverted dropout with masks from the counter-based generator: element e of the sample at global index s
// in step t of layer l is kept when Philox(seed, dropout, l).uniform(t, s * features + e) >= rate, and kept
// values are scaled by 1 / (1 - rate). The mask depends on nothing else (not the rank, not the batch split).
#pragma once

#include <cstdint>

#include "core/tensor.hpp"

namespace ringtrain::ops {

struct DropoutKey {
  std::uint64_t seed = 0;
  std::uint64_t layer = 0;
  std::uint64_t step = 0;
  std::uint64_t first_sample = 0;  // global index of row 0 of x
  // On the GPU, where the step is read instead of `step` when set (a step captured as a CUDA graph).
  const std::uint64_t* step_on_device = nullptr;
};

// x [batch, features...]; y may be x.
void dropout_forward(const Tensor& x, float rate, const DropoutKey& key, Tensor& y);
// dx = dy * mask / (1 - rate) for the same key; dx may be dy.
void dropout_backward(const Tensor& dy, float rate, const DropoutKey& key, Tensor& dx);

}  // namespace ringtrain::ops
