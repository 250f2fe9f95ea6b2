// Max pooling and global average pooling, NHWC (CPU loops here, CUDA kernels in
// core/cuda/pooling_kernels.cu).
#include "core/ops/pooling.hpp"

#include <cstdint>
#include <limits>

#include "core/cuda/kernels.hpp"
#include "core/ops/max_pool_window.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

namespace {

PoolWindow pool_window(const Conv2DGeometry& g) {
  return {g.batch,    g.in_h,     g.in_w,     g.in_c,     g.out_h,   g.out_w,
          g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left};
}

}  // namespace

void maxpool2d_forward(const Conv2DGeometry& g, const Tensor& x, Tensor& y, Tensor& argmax) {
  require_shape("maxpool2d_forward", "input", x, {g.batch, g.in_h, g.in_w, g.in_c});
  require_shape("maxpool2d_forward", "output", y, {g.batch, g.out_h, g.out_w, g.in_c});
  // argmax holds flat indices into x as int32.
  RT_CHECK(x.numel() <= std::numeric_limits<std::int32_t>::max(),
           "maxpool2d_forward: an input of " << x.numel() << " values is more than max pooling indexes ("
                                             << std::numeric_limits<std::int32_t>::max()
                                             << "): use a smaller batch-size");
  const PoolWindow window = pool_window(g);
  if (on_cuda("maxpool2d_forward", {&x, &y, &argmax})) {
    cuda::maxpool2d_forward(window, x.data<float>(), y.data<float>(), argmax.data<std::int32_t>());
    return;
  }
  const float* input = x.data<float>();
  float* output = y.data<float>();
  std::int32_t* winner = argmax.data<std::int32_t>();
#pragma omp parallel for collapse(2)
  for (std::int64_t n = 0; n < g.batch; ++n) {
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        for (std::int64_t c = 0; c < g.in_c; ++c) {
          const PoolWinner best = max_in_window(window, input, n, oh, ow, c);
          const std::int64_t out_index = ((n * g.out_h + oh) * g.out_w + ow) * g.in_c + c;
          output[out_index] = best.value;
          winner[out_index] = static_cast<std::int32_t>(best.index);
        }
      }
    }
  }
}

void maxpool2d_backward(const Conv2DGeometry& g, const Tensor& dy, const Tensor& argmax, Tensor& dx) {
  require_shape("maxpool2d_backward", "output gradient", dy, {g.batch, g.out_h, g.out_w, g.in_c});
  require_shape("maxpool2d_backward", "input gradient", dx, {g.batch, g.in_h, g.in_w, g.in_c});
  if (on_cuda("maxpool2d_backward", {&dy, &argmax, &dx})) {
    cuda::maxpool2d_backward(pool_window(g), dy.data<float>(), argmax.data<std::int32_t>(), dx.data<float>());
    return;
  }
  dx.fill_zero();
  const float* gradient = dy.data<float>();
  const std::int32_t* winner = argmax.data<std::int32_t>();
  float* output = dx.data<float>();
  for (std::int64_t i = 0; i < dy.numel(); ++i)
    output[winner[i]] += gradient[i];
}

void global_average_pool_forward(const Tensor& x, Tensor& y) {
  const std::int64_t batch = x.dim(0), pixels = x.dim(1) * x.dim(2), channels = x.dim(3);
  require_shape("global_average_pool_forward", "output", y, {batch, channels});
  if (on_cuda("global_average_pool_forward", {&x, &y})) {
    cuda::global_average_pool_forward(x.data<float>(), batch, pixels, channels, y.data<float>());
    return;
  }
  const float* input = x.data<float>();
  float* output = y.data<float>();
#pragma omp parallel for
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t c = 0; c < channels; ++c)
      output[n * channels + c] = 0;
    for (std::int64_t p = 0; p < pixels; ++p) {
      for (std::int64_t c = 0; c < channels; ++c)
        output[n * channels + c] += input[(n * pixels + p) * channels + c];
    }
    for (std::int64_t c = 0; c < channels; ++c)
      output[n * channels + c] /= static_cast<float>(pixels);
  }
}

void global_average_pool_backward(const Tensor& dy, Tensor& dx) {
  const std::int64_t batch = dx.dim(0), pixels = dx.dim(1) * dx.dim(2), channels = dx.dim(3);
  require_shape("global_average_pool_backward", "dy", dy, {batch, channels});
  if (on_cuda("global_average_pool_backward", {&dy, &dx})) {
    cuda::global_average_pool_backward(dy.data<float>(), batch, pixels, channels, dx.data<float>());
    return;
  }
  const float* gradient = dy.data<float>();
  float* output = dx.data<float>();
  const float share = 1.0f / static_cast<float>(pixels);
#pragma omp parallel for
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t p = 0; p < pixels; ++p) {
      for (std::int64_t c = 0; c < channels; ++c)
        output[(n * pixels + p) * channels + c] = gradient[n * channels + c] * share;
    }
  }
}

}  // namespace ringtrain::ops
