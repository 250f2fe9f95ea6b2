// Reference dense layer in double: y = x w + b and its gradients, straight from the definitions.
#pragma once

#include <cstdint>

#include "tests/reference/support.hpp"

namespace ringtrain::reference {

// x [batch, in], w [in, out], bias [out] or empty for none; returns y [batch, out].
Values dense_forward(const Values& x, const Values& w, const Values& bias, std::int64_t in, std::int64_t out);

struct DenseGradients {
  Values dx;     // [batch, in]
  Values dw;     // [in, out]
  Values dbias;  // [out]
};
// Gradients of sum(y * dy).
DenseGradients dense_backward(const Values& x, const Values& w, const Values& dy, std::int64_t in,
                              std::int64_t out);

}  // namespace ringtrain::reference
