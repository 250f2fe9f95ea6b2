// Batch normalization kernels: per-channel reductions (one block per channel, double accumulators, a tree in
// shared memory), per-channel statistics (a thread per channel) and elementwise passes.
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"

namespace ringtrain::cuda {

namespace {

struct Terms {
  double first, second;
};

// x and x^2.
struct SumTerms {
  const float* x;
  std::int64_t channels;
  __device__ Terms operator()(std::int64_t r, std::int64_t c) const {
    const double value = x[r * channels + c];
    return {value, value * value};
  }
};

// dy and dy * xhat.
struct GradientTerms {
  const float *x, *dy, *mean, *inv_std;
  std::int64_t channels;
  __device__ Terms operator()(std::int64_t r, std::int64_t c) const {
    const double g = dy[r * channels + c];
    return {g, g * (x[r * channels + c] - mean[c]) * inv_std[c]};
  }
};

// Block c sums the two terms over all rows; blockDim.x == kThreads.
template <typename Reduce, typename Out>
__global__ void reduce_per_channel(std::int64_t rows, Reduce terms, Out* first_out, Out* second_out) {
  __shared__ double first[kThreads], second[kThreads];
  const std::int64_t c = blockIdx.x;
  double a = 0, b = 0;
  for (std::int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    const Terms t = terms(r, c);
    a += t.first;
    b += t.second;
  }
  first[threadIdx.x] = a;
  second[threadIdx.x] = b;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      first[threadIdx.x] += first[threadIdx.x + half];
      second[threadIdx.x] += second[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    first_out[c] = static_cast<Out>(first[0]);
    second_out[c] = static_cast<Out>(second[0]);
  }
}

__global__ void statistics_kernel(const double* sum, const double* sum_sq, std::int64_t channels,
                                  double count, float epsilon, float* mean, float* variance, float* inv_std) {
  RT_GRID_STRIDE(c, channels) {
    const double mu = sum[c] / count;
    const double var = fmax(sum_sq[c] / count - mu * mu, 0.0);
    mean[c] = static_cast<float>(mu);
    variance[c] = static_cast<float>(var);
    inv_std[c] = static_cast<float>(1.0 / sqrt(var + epsilon));
  }
}

__global__ void inverse_std_kernel(const float* variance, std::int64_t channels, float epsilon,
                                   float* inv_std) {
  RT_GRID_STRIDE(c, channels) {
    inv_std[c] = 1.0f / sqrtf(variance[c] + epsilon);
  }
}

__global__ void update_moving_kernel(float* moving_mean, float* moving_variance, const float* mean,
                                     const float* variance, std::int64_t channels, float momentum) {
  RT_GRID_STRIDE(c, channels) {
    moving_mean[c] = momentum * moving_mean[c] + (1 - momentum) * mean[c];
    moving_variance[c] = momentum * moving_variance[c] + (1 - momentum) * variance[c];
  }
}

__global__ void normalize_kernel(const float* x, std::int64_t count, std::int64_t channels, const float* mean,
                                 const float* inv_std, const float* gamma, const float* beta, float* y) {
  RT_GRID_STRIDE(i, count) {
    const std::int64_t c = i % channels;
    const float scale = (gamma != nullptr ? gamma[c] : 1.0f) * inv_std[c];
    const float shift = (beta != nullptr ? beta[c] : 0.0f) - mean[c] * scale;
    y[i] = x[i] * scale + shift;
  }
}

__global__ void backward_data_kernel(const float* x, const float* dy, std::int64_t count,
                                     std::int64_t channels, const float* mean, const float* inv_std,
                                     const float* gamma, const float* sum_dy, const float* sum_dy_xhat,
                                     double count_rows, float* dx) {
  RT_GRID_STRIDE(i, count) {
    const std::int64_t c = i % channels;
    const float scale = (gamma != nullptr ? gamma[c] : 1.0f) * inv_std[c];
    const auto mean_dy = static_cast<float>(sum_dy[c] / count_rows);
    const auto mean_dy_xhat = static_cast<float>(sum_dy_xhat[c] / count_rows);
    const float xhat = (x[i] - mean[c]) * inv_std[c];
    dx[i] = scale * (dy[i] - mean_dy - xhat * mean_dy_xhat);
  }
}

}  // namespace

void batchnorm_sums(const float* x, std::int64_t rows, std::int64_t channels, double* sum, double* sum_sq) {
  if (channels == 0) return;
  reduce_per_channel<<<static_cast<unsigned>(channels), kThreads, 0, cudaStreamPerThread>>>(
      rows, SumTerms{x, channels}, sum, sum_sq);
  check_launch("batchnorm_sums");
}

void batchnorm_statistics(const double* sum, const double* sum_sq, std::int64_t channels, double count,
                          float epsilon, float* mean, float* variance, float* inv_std) {
  RT_CHECK(count > 0, "batchnorm_statistics over " << count << " rows");
  statistics_kernel<<<blocks_for(channels), kThreads, 0, cudaStreamPerThread>>>(
      sum, sum_sq, channels, count, epsilon, mean, variance, inv_std);
  check_launch("batchnorm_statistics");
}

void batchnorm_inverse_std(const float* variance, std::int64_t channels, float epsilon, float* inv_std) {
  inverse_std_kernel<<<blocks_for(channels), kThreads, 0, cudaStreamPerThread>>>(variance, channels, epsilon,
                                                                                 inv_std);
  check_launch("batchnorm_inverse_std");
}

void batchnorm_update_moving(float* moving_mean, float* moving_variance, const float* mean,
                             const float* variance, std::int64_t channels, float momentum) {
  update_moving_kernel<<<blocks_for(channels), kThreads, 0, cudaStreamPerThread>>>(
      moving_mean, moving_variance, mean, variance, channels, momentum);
  check_launch("batchnorm_update_moving");
}

void batchnorm_normalize(const float* x, std::int64_t rows, std::int64_t channels, const float* mean,
                         const float* inv_std, const float* gamma, const float* beta, float* y) {
  const std::int64_t count = rows * channels;
  if (count == 0) return;
  normalize_kernel<<<blocks_for(count), kThreads, 0, cudaStreamPerThread>>>(x, count, channels, mean, inv_std,
                                                                            gamma, beta, y);
  check_launch("batchnorm_normalize");
}

void batchnorm_backward_sums(const float* x, const float* dy, std::int64_t rows, std::int64_t channels,
                             const float* mean, const float* inv_std, float* sum_dy, float* sum_dy_xhat) {
  if (channels == 0) return;
  reduce_per_channel<<<static_cast<unsigned>(channels), kThreads, 0, cudaStreamPerThread>>>(
      rows, GradientTerms{x, dy, mean, inv_std, channels}, sum_dy, sum_dy_xhat);
  check_launch("batchnorm_backward_sums");
}

void batchnorm_backward_data(const float* x, const float* dy, std::int64_t rows, std::int64_t channels,
                             const float* mean, const float* inv_std, const float* gamma, const float* sum_dy,
                             const float* sum_dy_xhat, double count, float* dx) {
  const std::int64_t elements = rows * channels;
  if (elements == 0) return;
  backward_data_kernel<<<blocks_for(elements), kThreads, 0, cudaStreamPerThread>>>(
      x, dy, elements, channels, mean, inv_std, gamma, sum_dy, sum_dy_xhat, count, dx);
  check_launch("batchnorm_backward_data");
}

}  // namespace ringtrain::cuda
