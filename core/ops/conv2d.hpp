// 2-D convolution (cross-correlation, as Keras) on NHWC images with HWIO kernels: geometry, forward,
// backward data and backward filter.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops/conv2d_geometry.hpp"
#include "core/tensor.hpp"

namespace ringtrain::ops {

enum class Padding { valid, same };
Padding parse_padding(const std::string& text);
std::string to_string(Padding padding);

// Sizes of one spatial dimension: TensorFlow's rule. 'same': out = ceil(in / stride), total padding
// max((out - 1) * stride + kernel - in, 0), floor(total / 2) before and the rest after. 'valid':
// out = floor((in - kernel) / stride) + 1, no padding.
struct PaddedDim {
  std::int64_t out = 0;
  std::int64_t pad_before = 0;
  std::int64_t pad_after = 0;
};
PaddedDim padded_dim(std::int64_t in, std::int64_t kernel, std::int64_t stride, Padding padding);

// Geometry for input [batch, in_h, in_w, in_c], a square-or-not kernel and strides.
Conv2DGeometry conv2d_geometry(std::int64_t batch, std::int64_t in_h, std::int64_t in_w, std::int64_t in_c,
                               std::int64_t filters, std::int64_t kernel_h, std::int64_t kernel_w,
                               std::int64_t stride_h, std::int64_t stride_w, Padding padding);

// y[n, oh, ow, co] = bias[co] + sum_{kh, kw, ci} x[n, oh*sh + kh - pad_top, ow*sw + kw - pad_left, ci]
//                                                 * w[kh, kw, ci, co], out-of-range x read as 0.
// x [batch, in_h, in_w, in_c], w [kernel_h, kernel_w, in_c, out_c], bias [out_c] or undefined.
void conv2d_forward(const Conv2DGeometry& geometry, const Tensor& x, const Tensor& w, const Tensor& bias,
                    Tensor& y);

// dx = gradient of sum(y * dy) with respect to x (overwritten).
void conv2d_backward_data(const Conv2DGeometry& geometry, const Tensor& dy, const Tensor& w, Tensor& dx);

// dw (and dbias = sum of dy over batch and space, when dbias is defined), overwritten.
void conv2d_backward_filter(const Conv2DGeometry& geometry, const Tensor& x, const Tensor& dy, Tensor& dw,
                            Tensor& dbias);

// How the CPU convolutions hand activations to oneDNN: in their own NHWC memory wherever oneDNN has an
// optimised implementation for it (automatic, the default), or always reordered to and from the blocked
// layout oneDNN prefers (blocked; what automatic falls back to). Applies to the calls after it; tests run
// both.
enum class CpuConvolutionLayout { automatic, blocked };
void set_cpu_convolution_layout(CpuConvolutionLayout layout);

}  // namespace ringtrain::ops
