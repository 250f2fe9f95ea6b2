// Batch normalization over the rows of x viewed as [rows, channels] (rows = batch * height * width for
// NHWC images, batch for dense features), split into a reduction and an elementwise part so that the
// per-channel sums can be all-reduced between ranks for synchronised batch norm.
#pragma once

#include "core/tensor.hpp"

namespace ringtrain::ops {

// sum[c] = sum_r x[r, c]; sum_sq[c] = sum_r x[r, c]^2, float64 [channels]: the variance below is a
// difference of these sums, which float32 would round away when a channel's mean is large next to its
// spread (and they are all-reduced as they are, for synchronised batch norm).
void batchnorm_sums(const Tensor& x, Tensor& sum, Tensor& sum_sq);

// From per-channel sums over `count` rows: mean = sum / count, variance = sum_sq / count - mean^2 (biased,
// clamped at 0), inv_std = 1 / sqrt(variance + epsilon).
void batchnorm_statistics(const Tensor& sum, const Tensor& sum_sq, double count, float epsilon, Tensor& mean,
                          Tensor& variance, Tensor& inv_std);

// inv_std = 1 / sqrt(variance + epsilon), for inference with the moving variance.
void batchnorm_inverse_std(const Tensor& variance, float epsilon, Tensor& inv_std);

// moving = momentum * moving + (1 - momentum) * batch, for mean and variance (Keras' update).
void batchnorm_update_moving(Tensor& moving_mean, Tensor& moving_variance, const Tensor& mean,
                             const Tensor& variance, float momentum);

// y = gamma * (x - mean) * inv_std + beta per channel; gamma and beta may be undefined (1 and 0).
void batchnorm_normalize(const Tensor& x, const Tensor& mean, const Tensor& inv_std, const Tensor& gamma,
                         const Tensor& beta, Tensor& y);

// With xhat = (x - mean) * inv_std: sum_dy[c] = sum_r dy[r, c]; sum_dy_xhat[c] = sum_r dy[r, c] * xhat[r, c].
// These are also dbeta and dgamma.
void batchnorm_backward_sums(const Tensor& x, const Tensor& dy, const Tensor& mean, const Tensor& inv_std,
                             Tensor& sum_dy, Tensor& sum_dy_xhat);

// dx for training mode, the batch statistics taken over `count` rows in all:
// dx = gamma * inv_std * (dy - sum_dy / count - xhat * sum_dy_xhat / count); gamma may be undefined.
void batchnorm_backward_data(const Tensor& x, const Tensor& dy, const Tensor& mean, const Tensor& inv_std,
                             const Tensor& gamma, const Tensor& sum_dy, const Tensor& sum_dy_xhat,
                             double count, Tensor& dx);

}  // namespace ringtrain::ops
