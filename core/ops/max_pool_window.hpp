// The max-pooling window of one output, shared by the CPU loop and the CUDA kernel: the largest input in the
// window (inputs outside the image skipped) and its index, the first one on ties.
#pragma once

#include <cstdint>

#include "core/host_device.hpp"

namespace ringtrain::ops {

struct PoolWindow {
  std::int64_t batch, in_h, in_w, channels, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_top,
      pad_left;
};

struct PoolWinner {
  float value;
  std::int64_t index;  // into x, NHWC
};

RT_HOST_DEVICE inline PoolWinner max_in_window(const PoolWindow& w, const float* x, std::int64_t n,
                                               std::int64_t oh, std::int64_t ow, std::int64_t c) {
  PoolWinner best{0.0f, -1};
  for (std::int64_t kh = 0; kh < w.kernel_h; ++kh) {
    const std::int64_t ih = oh * w.stride_h + kh - w.pad_top;
    if (ih < 0 || ih >= w.in_h) continue;
    for (std::int64_t kw = 0; kw < w.kernel_w; ++kw) {
      const std::int64_t iw = ow * w.stride_w + kw - w.pad_left;
      if (iw < 0 || iw >= w.in_w) continue;
      const std::int64_t index = ((n * w.in_h + ih) * w.in_w + iw) * w.channels + c;
      if (best.index < 0 || x[index] > best.value) best = {x[index], index};
    }
  }
  return best;
}

}  // namespace ringtrain::ops
