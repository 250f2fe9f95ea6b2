// Our CUDA kernels: grid-stride loops over the elements, one block per row where a row is reduced.
#include <cuda_runtime.h>

#include <cfloat>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"
#include "core/cuda/stream.hpp"
#include "core/philox.hpp"

namespace ringtrain::cuda {

namespace {

// The ops::Activation values.
enum Kind { kLinear = 0, kRelu = 1, kSigmoid = 2, kTanh = 3, kSoftmax = 4 };

__global__ void elementwise_forward(int kind, const float* x, float* y, std::int64_t count) {
  RT_GRID_STRIDE(i, count) {
    const float value = x[i];
    y[i] = kind == kRelu      ? (value < 0.0f ? 0.0f : value)  // NaN passes, as on the CPU
           : kind == kSigmoid ? 1.0f / (1.0f + expf(-value))
           : kind == kTanh    ? tanhf(value)
                              : value;
  }
}

__global__ void elementwise_backward(int kind, const float* y, const float* dy, float* dx,
                                     std::int64_t count) {
  RT_GRID_STRIDE(i, count) {
    const float out = y[i], gradient = dy[i];
    dx[i] = kind == kRelu      ? (out > 0.0f ? gradient : 0.0f)
            : kind == kSigmoid ? gradient * out * (1.0f - out)
            : kind == kTanh    ? gradient * (1.0f - out * out)
                               : gradient;
  }
}

// A thread per row (grid-stride): the rows are short (classes), and there are many of them.
__global__ void softmax_rows(const float* x, float* y, std::int64_t rows, std::int64_t columns) {
  RT_GRID_STRIDE(r, rows) {
    const float* in = x + r * columns;
    float* out = y + r * columns;
    float largest = -FLT_MAX;
    for (std::int64_t c = 0; c < columns; ++c)
      largest = fmaxf(largest, in[c]);
    float total = 0;
    for (std::int64_t c = 0; c < columns; ++c) {
      out[c] = expf(in[c] - largest);
      total += out[c];
    }
    for (std::int64_t c = 0; c < columns; ++c)
      out[c] /= total;
  }
}

__global__ void softmax_rows_backward(const float* y, const float* dy, float* dx, std::int64_t rows,
                                      std::int64_t columns) {
  RT_GRID_STRIDE(r, rows) {
    float dot = 0;
    for (std::int64_t c = 0; c < columns; ++c)
      dot += dy[r * columns + c] * y[r * columns + c];
    for (std::int64_t c = 0; c < columns; ++c)
      dx[r * columns + c] = y[r * columns + c] * (dy[r * columns + c] - dot);
  }
}

__global__ void write_scalars_kernel(StepScalars* destination, StepScalars values) {
  *destination = values;
}

__global__ void gather_kernel(const std::uint8_t* dataset_images, const std::uint8_t* dataset_labels,
                              std::int64_t pixels, const std::int32_t* order, std::int64_t first_row,
                              const std::int64_t* first_row_on_device, std::int64_t rows, float* images,
                              std::int32_t* labels) {
  const std::int64_t first = first_row_on_device != nullptr ? *first_row_on_device : first_row;
  RT_GRID_STRIDE(i, rows * pixels) {
    const std::int64_t row = i / pixels, pixel = i % pixels;
    const std::int64_t sample = order[first + row];
    images[i] = static_cast<float>(dataset_images[sample * pixels + pixel]) / 256.0f;
    if (pixel == 0) labels[row] = dataset_labels[sample];
  }
}

__global__ void dropout_kernel(const float* in, float* out, std::int64_t count, std::int64_t features,
                               float rate, float keep_scale, std::uint32_t k0, std::uint32_t k1,
                               std::uint64_t step_value, const std::uint64_t* step_on_device,
                               std::uint64_t first_sample) {
  const std::uint64_t step = step_on_device != nullptr ? *step_on_device : step_value;
  RT_GRID_STRIDE(i, count) {
    const std::uint64_t row = static_cast<std::uint64_t>(i / features),
                        feature = static_cast<std::uint64_t>(i % features);
    const std::uint64_t index = (first_sample + row) * static_cast<std::uint64_t>(features) + feature;
    const bool kept = philox::uniform(k0, k1, step, index) >= rate;
    out[i] = kept ? in[i] * keep_scale : 0.0f;
  }
}

// One block of kThreads threads: each thread takes rows threadIdx.x, + blockDim.x, ...; the block then sums
// the threads' totals in a fixed tree (halving: kThreads must be a power of two), and thread 0 adds them to
// totals[0..2] (loss, correct, bad labels).
static_assert((kThreads & (kThreads - 1)) == 0, "cross_entropy_block's tree sum needs a power of two");
__global__ void cross_entropy_block(const float* logits, const std::int32_t* labels, std::int64_t rows,
                                    std::int64_t classes, float gradient_scale, float* dlogits,
                                    double* totals) {
  __shared__ double partial[3][kThreads];
  double loss = 0, correct = 0, bad = 0;
  for (std::int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    const float* row = logits + r * classes;
    const std::int32_t target = labels[r];
    if (target < 0 || target >= classes) {  // counted; the host reports it
      bad += 1;
      for (std::int64_t c = 0; dlogits != nullptr && c < classes; ++c)
        dlogits[r * classes + c] = 0.0f;
      continue;
    }
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c)
      if (row[c] > row[best]) best = c;
    const float largest = row[best];
    double total = 0;
    for (std::int64_t c = 0; c < classes; ++c)
      total += exp(static_cast<double>(row[c] - largest));
    const double log_total = log(total);
    loss += log_total - static_cast<double>(row[target] - largest);
    correct += best == target ? 1 : 0;
    if (dlogits == nullptr) continue;
    for (std::int64_t c = 0; c < classes; ++c) {
      const double probability = exp(static_cast<double>(row[c] - largest) - log_total);
      dlogits[r * classes + c] =
          static_cast<float>((probability - (c == target ? 1.0 : 0.0)) * gradient_scale);
    }
  }
  partial[0][threadIdx.x] = loss;
  partial[1][threadIdx.x] = correct;
  partial[2][threadIdx.x] = bad;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      for (int k = 0; k < 3; ++k)
        partial[k][threadIdx.x] += partial[k][threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    for (int k = 0; k < 3; ++k)
      totals[k] += partial[k][0];
  }
}

__global__ void sgd_kernel(float* p, const float* g, float* u, std::int64_t count, float rate_value,
                           const float* rate_on_device, float momentum) {
  const float rate = rate_on_device != nullptr ? *rate_on_device : rate_value;
  RT_GRID_STRIDE(i, count) {
    if (u == nullptr) {
      p[i] -= rate * g[i];
    } else {
      u[i] = momentum * u[i] - rate * g[i];
      p[i] += u[i];
    }
  }
}

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, std::int64_t count,
                            float rate_value, const float* rate_on_device, float beta1, float beta2,
                            float epsilon) {
  const float corrected_rate = rate_on_device != nullptr ? *rate_on_device : rate_value;
  RT_GRID_STRIDE(i, count) {
    const float gradient = g[i];
    m[i] = beta1 * m[i] + (1.0f - beta1) * gradient;
    v[i] = beta2 * v[i] + (1.0f - beta2) * gradient * gradient;
    p[i] -= corrected_rate * m[i] / (sqrtf(v[i]) + epsilon);
  }
}

}  // namespace

void activation_forward(int kind, const float* x, float* y, std::int64_t count, std::int64_t columns) {
  if (count == 0) return;
  if (kind == kSoftmax) {
    const std::int64_t rows = count / columns;
    softmax_rows<<<blocks_for(rows), kThreads, 0, stream()>>>(x, y, rows, columns);
  } else {
    elementwise_forward<<<blocks_for(count), kThreads, 0, stream()>>>(kind, x, y, count);
  }
  check_launch("activation_forward");
}

void activation_backward(int kind, const float* y, const float* dy, float* dx, std::int64_t count,
                         std::int64_t columns) {
  if (count == 0) return;
  if (kind == kSoftmax) {
    const std::int64_t rows = count / columns;
    softmax_rows_backward<<<blocks_for(rows), kThreads, 0, stream()>>>(y, dy, dx, rows, columns);
  } else {
    elementwise_backward<<<blocks_for(count), kThreads, 0, stream()>>>(kind, y, dy, dx, count);
  }
  check_launch("activation_backward");
}

void write_step_scalars(StepScalars* destination, const StepScalars& values) {
  write_scalars_kernel<<<1, 1, 0, stream()>>>(destination, values);
  check_launch("write_step_scalars");
}

void gather_batch(const std::uint8_t* dataset_images, const std::uint8_t* dataset_labels, std::int64_t pixels,
                  const std::int32_t* order, std::int64_t first_row, const std::int64_t* first_row_on_device,
                  std::int64_t rows, float* images, std::int32_t* labels) {
  if (rows == 0 || pixels == 0) return;
  gather_kernel<<<blocks_for(rows * pixels), kThreads, 0, stream()>>>(
      dataset_images, dataset_labels, pixels, order, first_row, first_row_on_device, rows, images, labels);
  check_launch("gather_batch");
}

void dropout(const float* in, float* out, std::int64_t rows, std::int64_t features, float rate,
             std::uint32_t k0, std::uint32_t k1, std::uint64_t step, const std::uint64_t* step_on_device,
             std::uint64_t first_sample) {
  const std::int64_t count = rows * features;
  if (count == 0) return;
  dropout_kernel<<<blocks_for(count), kThreads, 0, stream()>>>(
      in, out, count, features, rate, 1.0f / (1.0f - rate), k0, k1, step, step_on_device, first_sample);
  check_launch("dropout");
}

void softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::int64_t rows,
                           std::int64_t classes, float gradient_scale, float* dlogits, double* totals) {
  if (rows == 0) return;
  cross_entropy_block<<<1, kThreads, 0, stream()>>>(logits, labels, rows, classes, gradient_scale, dlogits,
                                                    totals);
  check_launch("softmax_cross_entropy");
}

void sgd_update(float* params, const float* grads, float* velocity, std::int64_t count, float rate,
                const float* rate_on_device, float momentum) {
  if (count == 0) return;
  sgd_kernel<<<blocks_for(count), kThreads, 0, stream()>>>(params, grads, velocity, count, rate,
                                                           rate_on_device, momentum);
  check_launch("sgd_update");
}

void adam_update(float* params, const float* grads, float* m, float* v, std::int64_t count,
                 float corrected_rate, const float* rate_on_device, float beta1, float beta2, float epsilon) {
  if (count == 0) return;
  adam_kernel<<<blocks_for(count), kThreads, 0, stream()>>>(params, grads, m, v, count, corrected_rate,
                                                            rate_on_device, beta1, beta2, epsilon);
  check_launch("adam_update");
}

}  // namespace ringtrain::cuda
