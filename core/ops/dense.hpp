// Dense (fully connected) forward and backward: y = x w + b, with w stored [in, out] as in Keras.
#pragma once

#include "core/tensor.hpp"

namespace ringtrain::ops {

// x [batch, in], w [in, out], bias [out] or undefined for none; writes y [batch, out].
void dense_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);

// Given dy [batch, out]: dx = dy w^T (skipped when dx is undefined), dw = x^T dy, dbias = sum over the
// batch of dy (skipped when dbias is undefined). dw and dbias are overwritten, not accumulated.
void dense_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                    Tensor& dbias);

}  // namespace ringtrain::ops
