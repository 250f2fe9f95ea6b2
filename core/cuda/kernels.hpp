// The GPU side of every op: our kernels for elementwise activations, dropout with the shared Philox
// generator, the fused softmax cross-entropy, the optimizers as one pass over the flat parameter buffer
// (kernels.cu), batch normalization (batchnorm_kernels.cu) and pooling (pooling_kernels.cu); convolution with
// cuDNN (conv.cu) and dense layers with cuBLAS (dense.cu). Pointers are device memory; kernels run on
// this thread's stream (cuda::stream(), stream.hpp). Declared for every build; cuda_absent.cpp makes each a
// clear error where CUDA is not built. The ops in core/ops call these for CUDA tensors, with the same
// argument checks as on the CPU.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops/conv2d_geometry.hpp"
#include "core/ops/max_pool_window.hpp"
#include "core/step_scalars.hpp"

namespace ringtrain::cuda {

// kind: the value of ops::Activation (linear, relu, sigmoid, tanh, softmax); columns: the softmax axis.
void activation_forward(int kind, const float* x, float* y, std::int64_t count, std::int64_t columns);
void activation_backward(int kind, const float* y, const float* dy, float* dx, std::int64_t count,
                         std::int64_t columns);

// The per-step values of the next step, written into device memory in stream order (a one-thread kernel
// takes them by value, so the host may reuse its copy at once).
void write_step_scalars(StepScalars* destination, const StepScalars& values);

// Batch rows r in [0, rows): images[r] = dataset_images[order[first + r]] / 256 as float, labels[r] =
// dataset_labels[order[first + r]], where first is *first_row_on_device when that is not null, else
// first_row. dataset_images holds `pixels` bytes per sample.
void gather_batch(const std::uint8_t* dataset_images, const std::uint8_t* dataset_labels, std::int64_t pixels,
                  const std::int32_t* order, std::int64_t first_row, const std::int64_t* first_row_on_device,
                  std::int64_t rows, float* images, std::int32_t* labels);

// out = in * (kept ? 1 / (1 - rate) : 0), kept when philox::uniform(k0, k1, step, (first_sample + row) *
// features + feature) >= rate: the CPU's mask bit for bit. step is *step_on_device when that is not null.
void dropout(const float* in, float* out, std::int64_t rows, std::int64_t features, float rate,
             std::uint32_t k0, std::uint32_t k1, std::uint64_t step, const std::uint64_t* step_on_device,
             std::uint64_t first_sample);

// Per row: loss -log softmax(logits)[label] and arg-max == label. Adds to totals (device memory, 3 doubles)
// the summed loss, the correct rows and the rows whose label is outside [0, classes); one block sums them in
// a fixed order, so the totals are the same bits on every run. dlogits (nullable) = (softmax - onehot) *
// gradient_scale. Queued only: nothing waits.
void softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::int64_t rows,
                           std::int64_t classes, float gradient_scale, float* dlogits, double* totals);

// velocity null: p -= rate * g; else u = momentum * u - rate * g, p += u. The rate is *rate_on_device when
// that is not null.
void sgd_update(float* params, const float* grads, float* velocity, std::int64_t count, float rate,
                const float* rate_on_device, float momentum);
// Adam with the bias correction folded into corrected_rate (as on the CPU); *rate_on_device instead when that
// is not null.
void adam_update(float* params, const float* grads, float* m, float* v, std::int64_t count,
                 float corrected_rate, const float* rate_on_device, float beta1, float beta2, float epsilon);

// "cuBLAS 13.1", loading it (dense.cu loads it on first use), or why it cannot be loaded; never throws.
std::string cublas_version();

// Dense layers with cuBLAS (dense.cu): row-major x [batch, in], w [in, out], y [batch, out]; bias, dx and
// dbias may be null.
void dense_forward(const float* x, const float* w, const float* bias, float* y, std::int64_t batch,
                   std::int64_t in, std::int64_t out);
void dense_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* dbias,
                    std::int64_t batch, std::int64_t in, std::int64_t out);

// Convolution with cuDNN (conv.cu), shapes as ops::conv2d_forward: x [batch, in_h, in_w, in_c], w HWIO, y
// NHWC; bias, dbias may be null; outputs overwritten. Deterministic mode (off by default) restricts cuDNN to
// algorithms that give the same bits on every run, chosen by its heuristics (no timing), so that every
// process on the same card and cuDNN chooses the same ones. It is one setting for the process, read at every
// call (each geometry has a plan per mode): a Trainer sets it from its TrainConfig, for every convolution
// from then on, its own and any other Trainer's.
void set_deterministic_convolutions(bool deterministic);
bool deterministic_convolutions();
void conv2d_forward(const ops::Conv2DGeometry& geometry, const float* x, const float* w, const float* bias,
                    float* y);
void conv2d_backward_data(const ops::Conv2DGeometry& geometry, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(const ops::Conv2DGeometry& geometry, const float* x, const float* dy, float* dw,
                            float* dbias);

// Batch normalization over x viewed as [rows, channels]; per-channel vectors have `channels` floats; gamma or
// beta may be null (1 and 0). The sums accumulate in double, as on the CPU; the forward ones stay double.
void batchnorm_sums(const float* x, std::int64_t rows, std::int64_t channels, double* sum, double* sum_sq);
void batchnorm_statistics(const double* sum, const double* sum_sq, std::int64_t channels, double count,
                          float epsilon, float* mean, float* variance, float* inv_std);
void batchnorm_inverse_std(const float* variance, std::int64_t channels, float epsilon, float* inv_std);
void batchnorm_update_moving(float* moving_mean, float* moving_variance, const float* mean,
                             const float* variance, std::int64_t channels, float momentum);
void batchnorm_normalize(const float* x, std::int64_t rows, std::int64_t channels, const float* mean,
                         const float* inv_std, const float* gamma, const float* beta, float* y);
void batchnorm_backward_sums(const float* x, const float* dy, std::int64_t rows, std::int64_t channels,
                             const float* mean, const float* inv_std, float* sum_dy, float* sum_dy_xhat);
void batchnorm_backward_data(const float* x, const float* dy, std::int64_t rows, std::int64_t channels,
                             const float* mean, const float* inv_std, const float* gamma, const float* sum_dy,
                             const float* sum_dy_xhat, double count, float* dx);

// Max pooling, NHWC, with the winner's input index per output (int32), and its backward (every dx written:
// the sum of the dy whose winner it is, in increasing output order, as the CPU adds them); global average
// pooling [batch, pixels, channels] -> [batch, channels] and back.
void maxpool2d_forward(const ops::PoolWindow& window, const float* x, float* y, std::int32_t* argmax);
void maxpool2d_backward(const ops::PoolWindow& window, const float* dy, const std::int32_t* argmax,
                        float* dx);
void global_average_pool_forward(const float* x, std::int64_t batch, std::int64_t pixels,
                                 std::int64_t channels, float* y);
void global_average_pool_backward(const float* dy, std::int64_t batch, std::int64_t pixels,
                                  std::int64_t channels, float* dx);

}  // namespace ringtrain::cuda
