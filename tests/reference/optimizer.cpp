// Reference optimizer updates: one loop each.
#include "tests/reference/optimizer.hpp"

#include <cmath>

namespace ringtrain::reference {

void sgd_update(Values& params, const Values& grads, Values& velocity, double learning_rate,
                double momentum) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (velocity.empty()) {
      params[i] -= learning_rate * grads[i];
    } else {
      velocity[i] = momentum * velocity[i] - learning_rate * grads[i];
      params[i] += velocity[i];
    }
  }
}

void adam_update(Values& params, const Values& grads, Values& m, Values& v, double learning_rate,
                 double beta1, double beta2, double epsilon, std::int64_t step) {
  const double t = static_cast<double>(step);
  const double corrected_rate =
      learning_rate * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t));
  for (std::size_t i = 0; i < params.size(); ++i) {
    m[i] = beta1 * m[i] + (1.0 - beta1) * grads[i];
    v[i] = beta2 * v[i] + (1.0 - beta2) * grads[i] * grads[i];
    params[i] -= corrected_rate * m[i] / (std::sqrt(v[i]) + epsilon);
  }
}

}  // namespace ringtrain::reference
