// Finite-difference gradients by central differences, in double and on float32 tensors.
#include "tests/reference/gradient_check.hpp"

namespace ringtrain::reference {

Values finite_difference(const std::function<double(const Values&)>& loss, const Values& point, double eps) {
  Values probe = point;
  Values gradient(point.size());
  for (std::size_t i = 0; i < point.size(); ++i) {
    probe[i] = point[i] + eps;
    const double loss_plus = loss(probe);
    probe[i] = point[i] - eps;
    const double loss_minus = loss(probe);
    probe[i] = point[i];
    gradient[i] = (loss_plus - loss_minus) / (2 * eps);
  }
  return gradient;
}

Values finite_difference(const std::function<double(const Tensor&)>& loss, const Tensor& point, float eps) {
  RT_CHECK(point.dtype() == DType::f32 && point.device() == Device::cpu,
           "finite_difference needs a float32 CPU tensor");
  Tensor probe = point.to(Device::cpu);
  float* data = probe.data<float>();
  Values gradient(static_cast<std::size_t>(probe.numel()));
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    const float original = data[i];
    const float plus = original + eps;
    const float minus = original - eps;
    data[i] = plus;
    const double loss_plus = loss(probe);
    data[i] = minus;
    const double loss_minus = loss(probe);
    data[i] = original;
    gradient[i] = (loss_plus - loss_minus) / (static_cast<double>(plus) - static_cast<double>(minus));
  }
  return gradient;
}

}  // namespace ringtrain::reference
