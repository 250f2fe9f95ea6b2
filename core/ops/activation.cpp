// Activations and softmax on the CPU.
#include "core/ops/activation.hpp"

#include <algorithm>
#include <cmath>

#include "core/cuda/kernels.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

Activation parse_activation(const std::string& text) {
  if (text == "linear" || text == "none") return Activation::linear;
  if (text == "relu") return Activation::relu;
  if (text == "sigmoid") return Activation::sigmoid;
  if (text == "tanh") return Activation::tanh;
  if (text == "softmax") return Activation::softmax;
  RT_FAIL("unknown activation '" << text << "': use linear, relu, sigmoid, tanh or softmax");
}

std::string to_string(Activation activation) {
  switch (activation) {
    case Activation::linear:
      return "linear";
    case Activation::relu:
      return "relu";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::tanh:
      return "tanh";
    case Activation::softmax:
      return "softmax";
  }
  return "?";
}

namespace {

void softmax_rows(const float* input, float* output, std::int64_t rows, std::int64_t columns) {
#pragma omp parallel for
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = input + r * columns;
    float* out = output + r * columns;
    const float largest = *std::max_element(in, in + columns);
    float total = 0;
    for (std::int64_t c = 0; c < columns; ++c) {
      out[c] = std::exp(in[c] - largest);
      total += out[c];
    }
    for (std::int64_t c = 0; c < columns; ++c)
      out[c] /= total;
  }
}

}  // namespace

void activation_forward(Activation activation, const Tensor& x, Tensor& y) {
  require_shape("activation_forward", "output", y, x.shape());
  if (on_cuda("activation_forward", {&x, &y})) {
    cuda::activation_forward(static_cast<int>(activation), x.data<float>(), y.data<float>(), x.numel(),
                             x.dim(x.rank() - 1));
    return;
  }
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const std::int64_t count = x.numel();
  switch (activation) {
    case Activation::linear:
      if (in != out) std::copy(in, in + count, out);
      return;
    case Activation::relu:
      // As std::max(in, 0) (NaN and -0 pass through), in a form the compiler vectorises.
#pragma omp parallel for simd
      for (std::int64_t i = 0; i < count; ++i)
        out[i] = in[i] < 0.0f ? 0.0f : in[i];
      return;
    case Activation::sigmoid:
#pragma omp parallel for simd
      for (std::int64_t i = 0; i < count; ++i)
        out[i] = 1.0f / (1.0f + std::exp(-in[i]));
      return;
    case Activation::tanh:
#pragma omp parallel for simd
      for (std::int64_t i = 0; i < count; ++i)
        out[i] = std::tanh(in[i]);
      return;
    case Activation::softmax: {
      const std::int64_t columns = x.dim(x.rank() - 1);
      softmax_rows(in, out, count / columns, columns);
      return;
    }
  }
}

void activation_backward(Activation activation, const Tensor& y, const Tensor& dy, Tensor& dx) {
  require_shape("activation_backward", "dy", dy, y.shape());
  if (on_cuda("activation_backward", {&y, &dy, &dx})) {
    cuda::activation_backward(static_cast<int>(activation), y.data<float>(), dy.data<float>(),
                              dx.data<float>(), y.numel(), y.dim(y.rank() - 1));
    return;
  }
  const float* out = y.data<float>();
  const float* gradient = dy.data<float>();
  float* result = dx.data<float>();
  const std::int64_t count = y.numel();
  switch (activation) {
    case Activation::linear:
      if (gradient != result) std::copy(gradient, gradient + count, result);
      return;
    case Activation::relu:
#pragma omp parallel for simd
      for (std::int64_t i = 0; i < count; ++i)
        result[i] = out[i] > 0.0f ? gradient[i] : 0.0f;
      return;
    case Activation::sigmoid:
#pragma omp parallel for simd
      for (std::int64_t i = 0; i < count; ++i)
        result[i] = gradient[i] * out[i] * (1.0f - out[i]);
      return;
    case Activation::tanh:
#pragma omp parallel for simd
      for (std::int64_t i = 0; i < count; ++i)
        result[i] = gradient[i] * (1.0f - out[i] * out[i]);
      return;
    case Activation::softmax: {
      const std::int64_t columns = y.dim(y.rank() - 1);
#pragma omp parallel for
      for (std::int64_t r = 0; r < count / columns; ++r) {
        float dot = 0;
        for (std::int64_t c = 0; c < columns; ++c)
          dot += gradient[r * columns + c] * out[r * columns + c];
        for (std::int64_t c = 0; c < columns; ++c) {
          result[r * columns + c] = out[r * columns + c] * (gradient[r * columns + c] - dot);
        }
      }
      return;
    }
  }
}

}  // namespace ringtrain::ops
