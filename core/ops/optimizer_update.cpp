// SGD and Adam updates: one vectorizable loop over the flat parameter buffer on the CPU, one kernel on the
// GPU.
#include "core/ops/optimizer_update.hpp"

#include <cmath>

#include "core/cuda/kernels.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

void sgd_update(Tensor& params, const Tensor& grads, Tensor& velocity, float learning_rate, float momentum,
                const float* rate_on_device) {
  if (on_cuda("sgd_update", {&params, &grads, &velocity})) {
    cuda::sgd_update(params.data<float>(), grads.data<float>(),
                     velocity.defined() ? velocity.data<float>() : nullptr, params.numel(), learning_rate,
                     rate_on_device, momentum);
    return;
  }
  float* p = params.data<float>();
  const float* g = grads.data<float>();
  const std::int64_t count = params.numel();
  if (!velocity.defined()) {
#pragma omp parallel for simd
    for (std::int64_t i = 0; i < count; ++i)
      p[i] -= learning_rate * g[i];
    return;
  }
  float* u = velocity.data<float>();
#pragma omp parallel for simd
  for (std::int64_t i = 0; i < count; ++i) {
    u[i] = momentum * u[i] - learning_rate * g[i];
    p[i] += u[i];
  }
}

float adam_corrected_rate(float learning_rate, float beta1, float beta2, std::int64_t step) {
  RT_CHECK(step >= 1, "adam_update: step " << step << " must start at 1");
  const double t = static_cast<double>(step);
  return static_cast<float>(learning_rate * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t)));
}

void adam_update(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, float learning_rate, float beta1,
                 float beta2, float epsilon, std::int64_t step) {
  adam_update_at_rate(params, grads, m, v, adam_corrected_rate(learning_rate, beta1, beta2, step), nullptr,
                      beta1, beta2, epsilon);
}

void adam_update_at_rate(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, float corrected_rate,
                         const float* rate_on_device, float beta1, float beta2, float epsilon) {
  if (on_cuda("adam_update", {&params, &grads, &m, &v})) {
    cuda::adam_update(params.data<float>(), grads.data<float>(), m.data<float>(), v.data<float>(),
                      params.numel(), corrected_rate, rate_on_device, beta1, beta2, epsilon);
    return;
  }
  float* p = params.data<float>();
  const float* g = grads.data<float>();
  float* first = m.data<float>();
  float* second = v.data<float>();
  const std::int64_t count = params.numel();
#pragma omp parallel for simd
  for (std::int64_t i = 0; i < count; ++i) {
    first[i] = beta1 * first[i] + (1.0f - beta1) * g[i];
    second[i] = beta2 * second[i] + (1.0f - beta2) * g[i] * g[i];
    p[i] -= corrected_rate * first[i] / (std::sqrt(second[i]) + epsilon);
  }
}

}  // namespace ringtrain::ops
