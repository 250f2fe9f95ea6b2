// Reference dense layer: triple loops in double.
#include "tests/reference/dense.hpp"

namespace ringtrain::reference {

Values dense_forward(const Values& x, const Values& w, const Values& bias, std::int64_t in,
                     std::int64_t out) {
  const std::int64_t batch = static_cast<std::int64_t>(x.size()) / in;
  Values y(static_cast<std::size_t>(batch * out));
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = bias.empty() ? 0.0 : bias[o];
      for (std::int64_t i = 0; i < in; ++i)
        sum += x[n * in + i] * w[i * out + o];
      y[n * out + o] = sum;
    }
  }
  return y;
}

DenseGradients dense_backward(const Values& x, const Values& w, const Values& dy, std::int64_t in,
                              std::int64_t out) {
  const std::int64_t batch = static_cast<std::int64_t>(x.size()) / in;
  DenseGradients gradients{Values(x.size(), 0.0), Values(w.size(), 0.0),
                           Values(static_cast<std::size_t>(out), 0.0)};
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t o = 0; o < out; ++o) {
      const double g = dy[n * out + o];
      gradients.dbias[o] += g;
      for (std::int64_t i = 0; i < in; ++i) {
        gradients.dx[n * in + i] += g * w[i * out + o];
        gradients.dw[i * out + o] += g * x[n * in + i];
      }
    }
  }
  return gradients;
}

}  // namespace ringtrain::reference
