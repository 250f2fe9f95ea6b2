// Max pooling and global average pooling on the CPU, NHWC.
#include "core/ops/pooling.hpp"

#include <limits>

#include "core/ops/cpu_only.hpp"

namespace ringtrain::ops {

void maxpool2d_forward(const Conv2DGeometry& g, const Tensor& x, Tensor& y, Tensor& argmax) {
  require_cpu("maxpool2d_forward", {&x, &y, &argmax});
  require_shape("maxpool2d_forward", "input", x, {g.batch, g.in_h, g.in_w, g.in_c});
  require_shape("maxpool2d_forward", "output", y, {g.batch, g.out_h, g.out_w, g.in_c});
  const float* input = x.data<float>();
  float* output = y.data<float>();
  std::int32_t* winner = argmax.data<std::int32_t>();
  const std::int64_t channels = g.in_c;
#pragma omp parallel for collapse(2)
  for (std::int64_t n = 0; n < g.batch; ++n) {
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        for (std::int64_t c = 0; c < channels; ++c) {
          float best = -std::numeric_limits<float>::infinity();
          std::int64_t best_index = -1;
          for (std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
            const std::int64_t ih = oh * g.stride_h + kh - g.pad_top;
            if (ih < 0 || ih >= g.in_h) continue;
            for (std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
              const std::int64_t iw = ow * g.stride_w + kw - g.pad_left;
              if (iw < 0 || iw >= g.in_w) continue;
              const std::int64_t index = ((n * g.in_h + ih) * g.in_w + iw) * channels + c;
              if (best_index < 0 || input[index] > best) {
                best = input[index];
                best_index = index;
              }
            }
          }
          const std::int64_t out_index = ((n * g.out_h + oh) * g.out_w + ow) * channels + c;
          output[out_index] = best;
          winner[out_index] = static_cast<std::int32_t>(best_index);
        }
      }
    }
  }
}

void maxpool2d_backward(const Tensor& dy, const Tensor& argmax, Tensor& dx) {
  require_cpu("maxpool2d_backward", {&dy, &argmax, &dx});
  dx.fill_zero();
  const float* gradient = dy.data<float>();
  const std::int32_t* winner = argmax.data<std::int32_t>();
  float* output = dx.data<float>();
  for (std::int64_t i = 0; i < dy.numel(); ++i)
    output[winner[i]] += gradient[i];
}

void global_average_pool_forward(const Tensor& x, Tensor& y) {
  require_cpu("global_average_pool_forward", {&x, &y});
  const std::int64_t batch = x.dim(0), pixels = x.dim(1) * x.dim(2), channels = x.dim(3);
  require_shape("global_average_pool_forward", "output", y, {batch, channels});
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
  require_cpu("global_average_pool_backward", {&dy, &dx});
  const std::int64_t batch = dx.dim(0), pixels = dx.dim(1) * dx.dim(2), channels = dx.dim(3);
  require_shape("global_average_pool_backward", "dy", dy, {batch, channels});
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
