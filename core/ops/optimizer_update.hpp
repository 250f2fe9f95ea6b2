// Optimizer updates as single loops over the flat parameter buffer.
#pragma once

#include <cstdint>

#include "core/tensor.hpp"

namespace ringtrain::ops {

// SGD: with momentum m > 0, velocity = m * velocity - lr * grad; param += velocity (Keras' SGD).
// Without momentum (velocity undefined): param -= lr * grad.
// On the GPU the rate is *rate_on_device instead when that is set (a step captured as a CUDA graph).
void sgd_update(Tensor& params, const Tensor& grads, Tensor& velocity, float learning_rate, float momentum,
                const float* rate_on_device = nullptr);

// Adam as Keras: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// param -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon), t = step (1 for the first update).
void adam_update(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, float learning_rate, float beta1,
                 float beta2, float epsilon, std::int64_t step);
// Adam's bias-corrected rate for update number `step` (from 1): lr * sqrt(1 - b2^t) / (1 - b1^t).
float adam_corrected_rate(float learning_rate, float beta1, float beta2, std::int64_t step);
// The same update given the corrected rate; on the GPU *rate_on_device instead when that is set.
void adam_update_at_rate(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, float corrected_rate,
                         const float* rate_on_device, float beta1, float beta2, float epsilon);

}  // namespace ringtrain::ops
