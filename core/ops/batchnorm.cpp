// Batch normalization: per-channel sums and elementwise passes over x viewed as [rows, channels] (CPU loops
// here, CUDA kernels in core/cuda/batchnorm_kernels.cu).
#include "core/ops/batchnorm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cuda/kernels.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

namespace {

std::int64_t channels_of(const Tensor& x) {
  return x.dim(x.rank() - 1);
}
std::int64_t rows_of(const Tensor& x) {
  return x.numel() / channels_of(x);
}

// Per-channel sums of first(r, c) and second(r, c) over all rows, threads reducing partial sums in double;
// Out: float or double. Each thread sums its rows in order into memory of its own (no cache line shared with
// another thread's), and the threads' sums are added in thread order: the same bits every run.
template <typename Terms, typename Out>
void reduce_per_channel(std::int64_t rows, std::int64_t channels, Terms terms, Out* first_out,
                        Out* second_out) {
  const int threads = omp_get_max_threads();
  std::vector<double> partial(static_cast<std::size_t>(threads * 2 * channels), 0.0);
#pragma omp parallel
  {
    std::vector<double> sums(static_cast<std::size_t>(2 * channels), 0.0);
    double* first = sums.data();
    double* second = first + channels;
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
#pragma omp simd
      for (std::int64_t c = 0; c < channels; ++c) {
        const auto [a, b] = terms(r, c);
        first[c] += a;
        second[c] += b;
      }
    }
    std::copy(sums.begin(), sums.end(), partial.begin() + 2 * channels * omp_get_thread_num());
  }
  for (std::int64_t c = 0; c < channels; ++c) {
    double first = 0, second = 0;
    for (int t = 0; t < threads; ++t) {
      first += partial[static_cast<std::size_t>(2 * channels * t + c)];
      second += partial[static_cast<std::size_t>(2 * channels * t + channels + c)];
    }
    first_out[c] = static_cast<Out>(first);
    second_out[c] = static_cast<Out>(second);
  }
}

}  // namespace

void batchnorm_sums(const Tensor& x, Tensor& sum, Tensor& sum_sq) {
  const std::int64_t channels = channels_of(x), rows = rows_of(x);
  if (on_cuda("batchnorm_sums", {&x, &sum, &sum_sq})) {
    cuda::batchnorm_sums(x.data<float>(), rows, channels, sum.data<double>(), sum_sq.data<double>());
    return;
  }
  const float* input = x.data<float>();
  reduce_per_channel(
      rows, channels,
      [&](std::int64_t r, std::int64_t c) {
        const double value = input[r * channels + c];
        return std::pair{value, value * value};
      },
      sum.data<double>(), sum_sq.data<double>());
}

void batchnorm_statistics(const Tensor& sum, const Tensor& sum_sq, double count, float epsilon, Tensor& mean,
                          Tensor& variance, Tensor& inv_std) {
  RT_CHECK(count > 0, "batchnorm_statistics over " << count << " rows");
  if (on_cuda("batchnorm_statistics", {&sum, &sum_sq, &mean, &variance, &inv_std})) {
    cuda::batchnorm_statistics(sum.data<double>(), sum_sq.data<double>(), sum.numel(), count, epsilon,
                               mean.data<float>(), variance.data<float>(), inv_std.data<float>());
    return;
  }
  for (std::int64_t c = 0; c < sum.numel(); ++c) {
    const double mu = sum.data<double>()[c] / count;
    const double var = std::max(sum_sq.data<double>()[c] / count - mu * mu, 0.0);
    mean.data<float>()[c] = static_cast<float>(mu);
    variance.data<float>()[c] = static_cast<float>(var);
    inv_std.data<float>()[c] = static_cast<float>(1.0 / std::sqrt(var + epsilon));
  }
}

void batchnorm_inverse_std(const Tensor& variance, float epsilon, Tensor& inv_std) {
  if (on_cuda("batchnorm_inverse_std", {&variance, &inv_std})) {
    cuda::batchnorm_inverse_std(variance.data<float>(), variance.numel(), epsilon, inv_std.data<float>());
    return;
  }
  for (std::int64_t c = 0; c < variance.numel(); ++c) {
    inv_std.data<float>()[c] = 1.0f / std::sqrt(variance.data<float>()[c] + epsilon);
  }
}

void batchnorm_update_moving(Tensor& moving_mean, Tensor& moving_variance, const Tensor& mean,
                             const Tensor& variance, float momentum) {
  if (on_cuda("batchnorm_update_moving", {&moving_mean, &moving_variance, &mean, &variance})) {
    cuda::batchnorm_update_moving(moving_mean.data<float>(), moving_variance.data<float>(),
                                  mean.data<float>(), variance.data<float>(), mean.numel(), momentum);
    return;
  }
  for (std::int64_t c = 0; c < mean.numel(); ++c) {
    moving_mean.data<float>()[c] =
        momentum * moving_mean.data<float>()[c] + (1 - momentum) * mean.data<float>()[c];
    moving_variance.data<float>()[c] =
        momentum * moving_variance.data<float>()[c] + (1 - momentum) * variance.data<float>()[c];
  }
}

void batchnorm_normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std, const Tensor& gamma,
                         const Tensor& beta, Tensor& y) {
  const std::int64_t channels = channels_of(x), rows = rows_of(x);
  if (on_cuda("batchnorm_normalize", {&x, &mean, &inv_std, &gamma, &beta, &y})) {
    cuda::batchnorm_normalize(x.data<float>(), rows, channels, mean.data<float>(), inv_std.data<float>(),
                              gamma.defined() ? gamma.data<float>() : nullptr,
                              beta.defined() ? beta.data<float>() : nullptr, y.data<float>());
    return;
  }
  std::vector<float> scale(static_cast<std::size_t>(channels)), shift(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    const float g = gamma.defined() ? gamma.data<float>()[c] : 1.0f;
    const float b = beta.defined() ? beta.data<float>()[c] : 0.0f;
    scale[c] = g * inv_std.data<float>()[c];
    shift[c] = b - mean.data<float>()[c] * scale[c];
  }
  const float* input = x.data<float>();
  float* output = y.data<float>();
#pragma omp parallel for
  for (std::int64_t r = 0; r < rows; ++r) {
#pragma omp simd
    for (std::int64_t c = 0; c < channels; ++c)
      output[r * channels + c] = input[r * channels + c] * scale[c] + shift[c];
  }
}

void batchnorm_backward_sums(const Tensor& x, const Tensor& dy, const Tensor& mean, const Tensor& inv_std,
                             Tensor& sum_dy, Tensor& sum_dy_xhat) {
  const std::int64_t channels = channels_of(x), rows = rows_of(x);
  if (on_cuda("batchnorm_backward_sums", {&x, &dy, &mean, &inv_std, &sum_dy, &sum_dy_xhat})) {
    cuda::batchnorm_backward_sums(x.data<float>(), dy.data<float>(), rows, channels, mean.data<float>(),
                                  inv_std.data<float>(), sum_dy.data<float>(), sum_dy_xhat.data<float>());
    return;
  }
  const float* input = x.data<float>();
  const float* gradient = dy.data<float>();
  const float* mu = mean.data<float>();
  const float* inverse = inv_std.data<float>();
  reduce_per_channel(
      rows, channels,
      [&](std::int64_t r, std::int64_t c) {
        const double g = gradient[r * channels + c];
        return std::pair{g, g * (input[r * channels + c] - mu[c]) * inverse[c]};
      },
      sum_dy.data<float>(), sum_dy_xhat.data<float>());
}

void batchnorm_backward_data(const Tensor& x, const Tensor& dy, const Tensor& mean, const Tensor& inv_std,
                             const Tensor& gamma, const Tensor& sum_dy, const Tensor& sum_dy_xhat,
                             double count, Tensor& dx) {
  const std::int64_t channels = channels_of(x), rows = rows_of(x);
  if (on_cuda("batchnorm_backward_data", {&x, &dy, &mean, &inv_std, &gamma, &sum_dy, &sum_dy_xhat, &dx})) {
    cuda::batchnorm_backward_data(x.data<float>(), dy.data<float>(), rows, channels, mean.data<float>(),
                                  inv_std.data<float>(), gamma.defined() ? gamma.data<float>() : nullptr,
                                  sum_dy.data<float>(), sum_dy_xhat.data<float>(), count, dx.data<float>());
    return;
  }
  std::vector<float> scale(static_cast<std::size_t>(channels)), mean_dy(static_cast<std::size_t>(channels)),
      mean_dy_xhat(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    scale[c] = (gamma.defined() ? gamma.data<float>()[c] : 1.0f) * inv_std.data<float>()[c];
    mean_dy[c] = static_cast<float>(sum_dy.data<float>()[c] / count);
    mean_dy_xhat[c] = static_cast<float>(sum_dy_xhat.data<float>()[c] / count);
  }
  const float* input = x.data<float>();
  const float* gradient = dy.data<float>();
  const float* mu = mean.data<float>();
  const float* inverse = inv_std.data<float>();
  float* output = dx.data<float>();
#pragma omp parallel for
  for (std::int64_t r = 0; r < rows; ++r) {
#pragma omp simd
    for (std::int64_t c = 0; c < channels; ++c) {
      const std::int64_t i = r * channels + c;
      const float xhat = (input[i] - mu[c]) * inverse[c];
      output[i] = scale[c] * (gradient[i] - mean_dy[c] - xhat * mean_dy_xhat[c]);
    }
  }
}

}  // namespace ringtrain::ops
