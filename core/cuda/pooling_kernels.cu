// Pooling kernels, NHWC: max pooling (a thread per output, the winner's input index kept for backward, which
// scatters with atomics since windows may overlap) and global average pooling.
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"

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

__global__ void fill_zero_kernel(float* x, std::int64_t count) {
  RT_GRID_STRIDE(i, count) {
    x[i] = 0;
  }
}

__global__ void maxpool_backward_kernel(const float* dy, const std::int32_t* argmax, std::int64_t outputs,
                                        float* dx) {
  RT_GRID_STRIDE(i, outputs) {
    atomicAdd(dx + argmax[i], dy[i]);
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
  maxpool_forward_kernel<<<blocks_for(outputs), kThreads, 0, cudaStreamPerThread>>>(shape, x, y, argmax,
                                                                                    outputs);
  check_launch("maxpool2d_forward");
}

void maxpool2d_backward(const float* dy, const std::int32_t* argmax, std::int64_t outputs, float* dx,
                        std::int64_t inputs) {
  fill_zero_kernel<<<blocks_for(inputs), kThreads, 0, cudaStreamPerThread>>>(dx, inputs);
  if (outputs > 0)
    maxpool_backward_kernel<<<blocks_for(outputs), kThreads, 0, cudaStreamPerThread>>>(dy, argmax, outputs,
                                                                                       dx);
  check_launch("maxpool2d_backward");
}

void global_average_pool_forward(const float* x, std::int64_t batch, std::int64_t pixels,
                                 std::int64_t channels, float* y) {
  if (batch * channels == 0) return;
  average_forward_kernel<<<blocks_for(batch * channels), kThreads, 0, cudaStreamPerThread>>>(x, batch, pixels,
                                                                                             channels, y);
  check_launch("global_average_pool_forward");
}

void global_average_pool_backward(const float* dy, std::int64_t batch, std::int64_t pixels,
                                  std::int64_t channels, float* dx) {
  const std::int64_t count = batch * pixels * channels;
  if (count == 0) return;
  average_backward_kernel<<<blocks_for(count), kThreads, 0, cudaStreamPerThread>>>(dy, batch, pixels,
                                                                                   channels, dx);
  check_launch("global_average_pool_backward");
}

}  // namespace ringtrain::cuda
