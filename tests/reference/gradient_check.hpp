// Finite-difference gradients of a scalar loss: the check every backward pass must agree with.
#pragma once

#include <functional>

#include "core/tensor.hpp"
#include "tests/reference/support.hpp"

namespace ringtrain::reference {

// Central differences (loss(x + eps e_i) - loss(x - eps e_i)) / (2 eps) for every i, in double.
Values finite_difference(const std::function<double(const Values&)>& loss, const Values& point, double eps);

// The same for a loss of a float32 tensor: each element of a copy of `point` is moved by +-eps in float and
// the difference divided by the step actually taken after rounding to float. `loss` gets the perturbed copy.
Values finite_difference(const std::function<double(const Tensor&)>& loss, const Tensor& point, float eps);

}  // namespace ringtrain::reference
