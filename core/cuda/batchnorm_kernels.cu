// Batch normalization kernels: per-channel reductions in two passes (blocks over contiguous chunks of rows,
// reading NHWC rows with neighbouring threads on neighbouring channels, then one thread per channel adding
// the chunks' sums in order: double accumulators, the same order every run), per-channel statistics (a thread
// per channel) and elementwise passes.
#include <algorithm>

#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"
#include "core/cuda/stream.hpp"
#include "core/cuda/thread_handle.cuh"
#include "core/device.hpp"

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

// How a per-channel reduction over [rows, channels] is split. A block takes `rows_per_part` contiguous rows
// (part b: rows [b * rows_per_part, (b + 1) * rows_per_part)); in it, thread t is lane t % lanes of group
// t / lanes: lanes cover neighbouring channels, and group g takes rows g, g + groups, ... of the part.
struct ReductionPlan {
  std::int64_t lanes, groups, rows_per_part, parts;
};

constexpr std::int64_t kRowsPerThread = 16;  // enough work per thread to hide the reads' latency
constexpr std::int64_t kMaxParts = 1024;

ReductionPlan plan_reduction(std::int64_t rows, std::int64_t channels) {
  const std::int64_t lanes = std::min<std::int64_t>(channels, kThreads);
  const std::int64_t groups = kThreads / lanes;
  const std::int64_t wanted = (rows + groups * kRowsPerThread - 1) / (groups * kRowsPerThread);
  const std::int64_t parts = std::clamp<std::int64_t>(wanted, 1, kMaxParts);
  return {lanes, groups, std::max<std::int64_t>((rows + parts - 1) / parts, 1), parts};
}

// Pass 1: part blockIdx.x's two sums per channel into partial[part][0 or 1][channel]; blockDim.x == kThreads.
template <typename Reduce>
__global__ void partial_sums_per_channel(std::int64_t rows, std::int64_t channels, ReductionPlan plan,
                                         Reduce terms, double* partial) {
  __shared__ double first[kThreads], second[kThreads];
  const std::int64_t lane = threadIdx.x % plan.lanes, group = threadIdx.x / plan.lanes;
  const std::int64_t begin = blockIdx.x * plan.rows_per_part;
  const std::int64_t end = begin + plan.rows_per_part < rows ? begin + plan.rows_per_part : rows;
  double* out = partial + blockIdx.x * 2 * channels;
  for (std::int64_t tile = 0; tile < channels; tile += plan.lanes) {
    const std::int64_t c = tile + lane;
    double a = 0, b = 0;
    if (group < plan.groups && c < channels) {
      for (std::int64_t r = begin + group; r < end; r += plan.groups) {
        const Terms t = terms(r, c);
        a += t.first;
        b += t.second;
      }
    }
    first[threadIdx.x] = a;
    second[threadIdx.x] = b;
    __syncthreads();
    if (group == 0 && c < channels) {  // the groups' sums, in group order
      double sum_a = 0, sum_b = 0;
      for (std::int64_t g = 0; g < plan.groups; ++g) {
        sum_a += first[g * plan.lanes + lane];
        sum_b += second[g * plan.lanes + lane];
      }
      out[c] = sum_a;
      out[channels + c] = sum_b;
    }
    __syncthreads();  // the next tile reuses the shared arrays
  }
}

// Pass 2: a thread per channel adds the parts' sums in part order.
template <typename Out>
__global__ void combine_parts(const double* partial, std::int64_t parts, std::int64_t channels,
                              Out* first_out, Out* second_out) {
  RT_GRID_STRIDE(c, channels) {
    double a = 0, b = 0;
    for (std::int64_t part = 0; part < parts; ++part) {
      a += partial[part * 2 * channels + c];
      b += partial[part * 2 * channels + channels + c];
    }
    first_out[c] = static_cast<Out>(a);
    second_out[c] = static_cast<Out>(b);
  }
}

// The partial sums' buffer of this thread on the current GPU (made again when the thread changes GPU, like
// the library handles), grown outside any recorded step (a training step's shapes are first run eagerly)
// through the counted allocator, so that a CUDA graph over the old buffer is recorded again.
double* partial_sums_buffer(std::size_t count) {
  struct Buffer {
    double* data = nullptr;
    std::size_t count = 0;
    ~Buffer() {
      if (data != nullptr) device_free(Device::cuda, data);
    }
  };
  Buffer& buffer = *thread_handle<Buffer*>(
      "batch norm's partial sums", [] { return new Buffer; }, [](Buffer* made) { delete made; });
  if (buffer.count < count) {
    require_not_recording("a larger buffer for batch norm's partial sums");
    if (buffer.data != nullptr) device_free(Device::cuda, buffer.data);
    buffer.data = nullptr;
    buffer.count = 0;
    buffer.data = static_cast<double*>(device_allocate(Device::cuda, count * sizeof(double)));
    buffer.count = count;
  }
  return buffer.data;
}

// Both sums of `terms` per channel, over all rows.
template <typename Reduce, typename Out>
void sums_per_channel(std::int64_t rows, std::int64_t channels, Reduce terms, Out* first_out, Out* second_out,
                      const char* name) {
  const ReductionPlan plan = plan_reduction(rows, channels);
  double* partial = partial_sums_buffer(static_cast<std::size_t>(plan.parts * 2 * channels));
  partial_sums_per_channel<<<static_cast<unsigned>(plan.parts), kThreads, 0, stream()>>>(rows, channels, plan,
                                                                                         terms, partial);
  check_launch(name);
  combine_parts<<<blocks_for(channels), kThreads, 0, stream()>>>(partial, plan.parts, channels, first_out,
                                                                 second_out);
  check_launch(name);
}

__global__ void statistics_kernel(const double* sum, const double* sum_sq, std::int64_t channels,
                                  double count, float epsilon, float* mean, float* variance, float* inv_std) {
  RT_GRID_STRIDE(c, channels) {
    const double mu = sum[c] / count;
    const double difference = sum_sq[c] / count - mu * mu;
    const double var = difference < 0.0 ? 0.0 : difference;  // NaN passes, as on the CPU
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
  sums_per_channel(rows, channels, SumTerms{x, channels}, sum, sum_sq, "batchnorm_sums");
}

void batchnorm_statistics(const double* sum, const double* sum_sq, std::int64_t channels, double count,
                          float epsilon, float* mean, float* variance, float* inv_std) {
  RT_CHECK(count > 0, "batchnorm_statistics over " << count << " rows");
  statistics_kernel<<<blocks_for(channels), kThreads, 0, stream()>>>(sum, sum_sq, channels, count, epsilon,
                                                                     mean, variance, inv_std);
  check_launch("batchnorm_statistics");
}

void batchnorm_inverse_std(const float* variance, std::int64_t channels, float epsilon, float* inv_std) {
  inverse_std_kernel<<<blocks_for(channels), kThreads, 0, stream()>>>(variance, channels, epsilon, inv_std);
  check_launch("batchnorm_inverse_std");
}

void batchnorm_update_moving(float* moving_mean, float* moving_variance, const float* mean,
                             const float* variance, std::int64_t channels, float momentum) {
  update_moving_kernel<<<blocks_for(channels), kThreads, 0, stream()>>>(moving_mean, moving_variance, mean,
                                                                        variance, channels, momentum);
  check_launch("batchnorm_update_moving");
}

void batchnorm_normalize(const float* x, std::int64_t rows, std::int64_t channels, const float* mean,
                         const float* inv_std, const float* gamma, const float* beta, float* y) {
  const std::int64_t count = rows * channels;
  if (count == 0) return;
  normalize_kernel<<<blocks_for(count), kThreads, 0, stream()>>>(x, count, channels, mean, inv_std, gamma,
                                                                 beta, y);
  check_launch("batchnorm_normalize");
}

void batchnorm_backward_sums(const float* x, const float* dy, std::int64_t rows, std::int64_t channels,
                             const float* mean, const float* inv_std, float* sum_dy, float* sum_dy_xhat) {
  if (channels == 0) return;
  sums_per_channel(rows, channels, GradientTerms{x, dy, mean, inv_std, channels}, sum_dy, sum_dy_xhat,
                   "batchnorm_backward_sums");
}

void batchnorm_backward_data(const float* x, const float* dy, std::int64_t rows, std::int64_t channels,
                             const float* mean, const float* inv_std, const float* gamma, const float* sum_dy,
                             const float* sum_dy_xhat, double count, float* dx) {
  const std::int64_t elements = rows * channels;
  if (elements == 0) return;
  backward_data_kernel<<<blocks_for(elements), kThreads, 0, stream()>>>(
      x, dy, elements, channels, mean, inv_std, gamma, sum_dy, sum_dy_xhat, count, dx);
  check_launch("batchnorm_backward_data");
}

}  // namespace ringtrain::cuda
