// Reference optimizer updates in double: Keras' SGD (with momentum) and Adam.
#pragma once

#include <cstdint>

#include "tests/reference/support.hpp"

namespace ringtrain::reference {

// velocity empty: param -= lr * grad. Otherwise velocity = momentum * velocity - lr * grad; param +=
// velocity.
void sgd_update(Values& params, const Values& grads, Values& velocity, double learning_rate, double momentum);

// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// param -= lr * sqrt(1 - b2^step) / (1 - b1^step) * m / (sqrt(v) + epsilon), step counted from 1.
void adam_update(Values& params, const Values& grads, Values& m, Values& v, double learning_rate,
                 double beta1, double beta2, double epsilon, std::int64_t step);

}  // namespace ringtrain::reference
