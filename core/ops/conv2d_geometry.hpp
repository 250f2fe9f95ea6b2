// Conv2DGeometry: the sizes of one 2-D convolution (or pooling window), shared by the CPU ops and the CUDA
// kernels (plain C++17, so nvcc reads it too).
#pragma once

#include <cstdint>

namespace ringtrain::ops {

// Input [batch, in_h, in_w, in_c], output [batch, out_h, out_w, out_c], kernel [kernel_h, kernel_w, in_c,
// out_c]; the padding of each side (TensorFlow's 'same' puts the odd row or column after).
struct Conv2DGeometry {
  std::int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  std::int64_t out_h = 0, out_w = 0, out_c = 0;
  std::int64_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

}  // namespace ringtrain::ops
