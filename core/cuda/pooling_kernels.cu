// Pooling kernels, NHWC: max pooling (forward: a thread per output, the winner's input index kept; backward:
// a thread per input, which sums the gradients of the outputs it won in their order, so that overlapping
// windows give the CPU's bits) and global average pooling.
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"
#include "core/cuda/stream.hpp"

namespace ringtrain::cuda {

namespace {

__global__ void maxpool_forward_kernel(ops::PoolWindow w, const float* x, float* y, std::int32_t* argmax,
                                       std::int64_t outputs) {
  RT_GRID_STRIDE(i, outputs) {
    const std::int64_t c = i % w.channels, ow = (i / w.channels) % w.out_w,
                       oh = (i / w.channels / w.out_w) % w.out_h, n = i / w.channels / w.out_w / w.out_h;
    const ops::PoolWinner best = ops::max_in_window(w, x, n, oh, ow, c);
    y[i] = best.value;
    argmax[i] = static_cast<std::int32_t>(best.index);
  }
}

// The outputs along one axis whose window holds input position `in`: [first, last] (empty when first > last).
__device__ void outputs_covering(std::int64_t in, std::int64_t pad, std::int64_t kernel, std::int64_t stride,
                                 std::int64_t outputs, std::int64_t& first, std::int64_t& last) {
  // Output o covers inputs [o * stride - pad, o * stride - pad + kernel - 1].
  const std::int64_t lowest = in + pad - kernel + 1;
  first = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  last = min((in + pad) / stride, outputs - 1);
}

__global__ void maxpool_backward_kernel(ops::PoolWindow w, const float* dy, const std::int32_t* argmax,
                                        float* dx, std::int64_t inputs) {
  RT_GRID_STRIDE(i, inputs) {
    const std::int64_t c = i % w.channels, iw = (i / w.channels) % w.in_w,
                       ih = (i / w.channels / w.in_w) % w.in_h, n = i / w.channels / w.in_w / w.in_h;
    std::int64_t first_h = 0, last_h = 0, first_w = 0, last_w = 0;
    outputs_covering(ih, w.pad_top, w.kernel_h, w.stride_h, w.out_h, first_h, last_h);
    outputs_covering(iw, w.pad_left, w.kernel_w, w.stride_w, w.out_w, first_w, last_w);
    float total = 0.0f;
    for (std::int64_t oh = first_h; oh <= last_h; ++oh) {
      for (std::int64_t ow = first_w; ow <= last_w; ++ow) {
        const std::int64_t o = ((n * w.out_h + oh) * w.out_w + ow) * w.channels + c;
        if (argmax[o] == static_cast<std::int32_t>(i)) total += dy[o];
      }
    }
    dx[i] = total;
  }
}

__global__ void average_forward_kernel(const float* x, std::int64_t batch, std::int64_t pixels,
                                       std::int64_t channels, float* y) {
  RT_GRID_STRIDE(i, batch * channels) {
    const std::int64_t n = i / channels, c = i % channels;
    float total = 0;
    for (std::int64_t p = 0; p < pixels; ++p)
      total += x[(n * pixels + p) * channels + c];
    y[i] = total / static_cast<float>(pixels);
  }
}

__global__ void average_backward_kernel(const float* dy, std::int64_t batch, std::int64_t pixels,
                                        std::int64_t channels, float* dx) {
  const float share = 1.0f / static_cast<float>(pixels);
  RT_GRID_STRIDE(i, batch * pixels * channels) {
    const std::int64_t c = i % channels, n = i / channels / pixels;
    dx[i] = dy[n * channels + c] * share;
  }
}

}  // namespace

void maxpool2d_forward(const ops::PoolWindow& shape, const float* x, float* y, std::int32_t* argmax) {
  const std::int64_t outputs = shape.batch * shape.out_h * shape.out_w * shape.channels;
  if (outputs == 0) return;
  maxpool_forward_kernel<<<blocks_for(outputs), kThreads, 0, stream()>>>(shape, x, y, argmax, outputs);
  check_launch("maxpool2d_forward");
}

void maxpool2d_backward(const ops::PoolWindow& window, const float* dy, const std::int32_t* argmax,
                        float* dx) {
  const std::int64_t inputs = window.batch * window.in_h * window.in_w * window.channels;
  if (inputs == 0) return;
  maxpool_backward_kernel<<<blocks_for(inputs), kThreads, 0, stream()>>>(window, dy, argmax, dx, inputs);
  check_launch("maxpool2d_backward");
}

void global_average_pool_forward(const float* x, std::int64_t batch, std::int64_t pixels,
                                 std::int64_t channels, float* y) {
  if (batch * channels == 0) return;
  average_forward_kernel<<<blocks_for(batch * channels), kThreads, 0, stream()>>>(x, batch, pixels, channels,
                                                                                  y);
  check_launch("global_average_pool_forward");
}

void global_average_pool_backward(const float* dy, std::int64_t batch, std::int64_t pixels,
                                  std::int64_t channels, float* dx) {
  const std::int64_t count = batch * pixels * channels;
  if (count == 0) return;
  average_backward_kernel<<<blocks_for(count), kThreads, 0, stream()>>>(dy, batch, pixels, channels, dx);
  check_launch("global_average_pool_backward");
}

}  // namespace ringtrain::cuda
