// Reference activations: the textbook formulas, softmax shifted by the row maximum.
#include "tests/reference/activation.hpp"

#include <algorithm>
#include <cmath>

namespace ringtrain::reference {

namespace {

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

Values softmax_rows(const Values& x, std::int64_t row_size) {
  Values y(x.size());
  for (std::size_t begin = 0; begin < x.size(); begin += static_cast<std::size_t>(row_size)) {
    const auto first = x.begin() + static_cast<std::ptrdiff_t>(begin);
    const double shift = *std::max_element(first, first + row_size);
    double total = 0;
    for (std::int64_t j = 0; j < row_size; ++j)
      total += std::exp(x[begin + j] - shift);
    for (std::int64_t j = 0; j < row_size; ++j)
      y[begin + j] = std::exp(x[begin + j] - shift) / total;
  }
  return y;
}

}  // namespace

Values activation_forward(ops::Activation activation, const Values& x, std::int64_t row_size) {
  if (activation == ops::Activation::softmax) return softmax_rows(x, row_size);
  Values y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    switch (activation) {
      case ops::Activation::linear:
        y[i] = x[i];
        break;
      case ops::Activation::relu:
        y[i] = x[i] > 0 ? x[i] : 0.0;
        break;
      case ops::Activation::sigmoid:
        y[i] = sigmoid(x[i]);
        break;
      case ops::Activation::tanh:
        y[i] = std::tanh(x[i]);
        break;
      case ops::Activation::softmax:
        break;
    }
  }
  return y;
}

Values activation_backward(ops::Activation activation, const Values& x, const Values& dy,
                           std::int64_t row_size) {
  Values dx(x.size(), 0.0);
  if (activation == ops::Activation::softmax) {
    // d softmax_j / d x_i = s_j * (delta_ij - s_i)
    const Values s = softmax_rows(x, row_size);
    for (std::size_t begin = 0; begin < x.size(); begin += static_cast<std::size_t>(row_size))
      for (std::int64_t i = 0; i < row_size; ++i)
        for (std::int64_t j = 0; j < row_size; ++j)
          dx[begin + i] += dy[begin + j] * s[begin + j] * ((i == j ? 1.0 : 0.0) - s[begin + i]);
    return dx;
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    switch (activation) {
      case ops::Activation::linear:
        dx[i] = dy[i];
        break;
      case ops::Activation::relu:
        dx[i] = x[i] > 0 ? dy[i] : 0.0;
        break;
      case ops::Activation::sigmoid: {
        // sigmoid'(x) = e^-x / (1 + e^-x)^2, an even function: written with |x| so that e^-|x| cannot
        // overflow.
        const double e = std::exp(-std::abs(x[i]));
        dx[i] = dy[i] * e / ((1.0 + e) * (1.0 + e));
        break;
      }
      case ops::Activation::tanh:
        dx[i] = dy[i] / std::pow(std::cosh(x[i]), 2);
        break;
      case ops::Activation::softmax:
        break;
    }
  }
  return dx;
}

}  // namespace ringtrain::reference
