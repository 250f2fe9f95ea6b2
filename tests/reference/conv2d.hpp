// Reference 2-D convolution (and the window geometry max pooling shares) in double, by naive loops over
// NHWC images and HWIO kernels, with TensorFlow's 'same' padding worked out here from its definition.
#pragma once

#include <cstdint>

#include "core/ops/conv2d.hpp"
#include "tests/reference/support.hpp"

namespace ringtrain::reference {

// One spatial dimension: output size and padding before and after.
struct SpatialSize {
  std::int64_t out = 0;
  std::int64_t pad_before = 0;
  std::int64_t pad_after = 0;
};
// 'same': out = ceil(in / stride), total padding max((out - 1) * stride + kernel - in, 0), the smaller half
// before. 'valid': out = floor((in - kernel) / stride) + 1, no padding.
SpatialSize spatial_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, ops::Padding padding);

// A convolution (or a pooling window when out_c is ignored): input [batch, in_h, in_w, in_c].
struct ConvProblem {
  std::int64_t batch = 1, in_h = 1, in_w = 1, in_c = 1, out_c = 1;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  ops::Padding padding = ops::Padding::valid;

  SpatialSize rows() const { return spatial_size(in_h, kernel_h, stride_h, padding); }
  SpatialSize cols() const { return spatial_size(in_w, kernel_w, stride_w, padding); }
  Shape input_shape() const { return {batch, in_h, in_w, in_c}; }
  Shape kernel_shape() const { return {kernel_h, kernel_w, in_c, out_c}; }
  Shape output_shape() const { return {batch, rows().out, cols().out, out_c}; }
};

// y [batch, out_h, out_w, out_c]; bias [out_c] or empty.
Values conv2d_forward(const ConvProblem& problem, const Values& x, const Values& w, const Values& bias);
// Gradient of sum(y * dy) with respect to x: every product of the forward sum sends dy back to its x.
Values conv2d_backward_data(const ConvProblem& problem, const Values& dy, const Values& w);
// Gradient of sum(y * dy) with respect to w.
Values conv2d_backward_filter(const ConvProblem& problem, const Values& x, const Values& dy);
// Gradient with respect to the bias: dy summed over every position of each channel ([rows, channels]).
Values sum_over_rows(const Values& values, std::int64_t channels);

}  // namespace ringtrain::reference
