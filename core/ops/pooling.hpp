// Max pooling (NHWC, with the argmax kept for backward) and global average pooling.
#pragma once

#include "core/ops/conv2d.hpp"
#include "core/tensor.hpp"

namespace ringtrain::ops {

// Geometry as conv2d with out_c == in_c; padded positions never win the max.
// y [batch, out_h, out_w, c]; argmax (int32, same shape as y) gets the flat index into x of each maximum.
void maxpool2d_forward(const Conv2DGeometry& geometry, const Tensor& x, Tensor& y, Tensor& argmax);
// dx = 0, then dx[argmax[i]] += dy[i] for i in increasing order (where windows overlap, the CPU and the GPU
// add in that order: the same bits).
void maxpool2d_backward(const Conv2DGeometry& geometry, const Tensor& dy, const Tensor& argmax, Tensor& dx);

// x [batch, h, w, c] -> y [batch, c]: the mean over h and w.
void global_average_pool_forward(const Tensor& x, Tensor& y);
void global_average_pool_backward(const Tensor& dy, Tensor& dx);

}  // namespace ringtrain::ops
