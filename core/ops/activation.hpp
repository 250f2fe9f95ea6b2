// Elementwise activations and softmax, with backward passes written in terms of the forward output.
#pragma once

#include <string>

#include "core/tensor.hpp"

namespace ringtrain::ops {

enum class Activation { linear, relu, sigmoid, tanh, softmax };
Activation parse_activation(const std::string& text);
std::string to_string(Activation activation);

// y = f(x); softmax is over the last dimension. y may be x (in place).
void activation_forward(Activation activation, const Tensor& x, Tensor& y);
// dx from the forward output y and dy: relu dy*(y>0), sigmoid dy*y*(1-y), tanh dy*(1-y^2),
// softmax y*(dy - sum(dy*y)) per row, linear dy. dx may be dy (in place).
void activation_backward(Activation activation, const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace ringtrain::ops
