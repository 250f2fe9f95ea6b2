// Reference max pooling (windows as in conv2d, padding never winning) and global average pooling, in double.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/reference/conv2d.hpp"

namespace ringtrain::reference {

struct MaxPoolForward {
  Values y;                          // [batch, out_h, out_w, channels]
  std::vector<std::int64_t> argmax;  // flat index into x of each maximum (the first one on ties)
};
// Windows of problem.kernel_h x kernel_w over x [batch, in_h, in_w, in_c]; out_c is ignored.
MaxPoolForward maxpool2d_forward(const ConvProblem& problem, const Values& x);
// dx: each dy goes to the position of its window's maximum (accumulated where windows overlap).
Values maxpool2d_backward(const ConvProblem& problem, const Values& x, const Values& dy);

// x [batch, spatial, channels] -> y [batch, channels]: the mean over `spatial` positions.
Values global_average_pool_forward(const Values& x, std::int64_t spatial, std::int64_t channels);
// dx [batch, spatial, channels] = dy / spatial at every position.
Values global_average_pool_backward(const Values& dy, std::int64_t spatial, std::int64_t channels);

}  // namespace ringtrain::reference
