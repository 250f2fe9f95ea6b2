// Reference activations and softmax in double, with backward passes computed from the input x (softmax by
// its full Jacobian), independently of the kernels' formulas in terms of the output.
#pragma once

#include <cstdint>

#include "core/ops/activation.hpp"
#include "tests/reference/support.hpp"

namespace ringtrain::reference {

// y = f(x) elementwise; softmax over each row of `row_size` elements.
Values activation_forward(ops::Activation activation, const Values& x, std::int64_t row_size);
// dx = f'(x)^T dy.
Values activation_backward(ops::Activation activation, const Values& x, const Values& dy,
                           std::int64_t row_size);

}  // namespace ringtrain::reference
