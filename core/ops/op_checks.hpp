// on_cuda and require_shape: the single place where an op finds which device its tensors are on (tensors of
// two devices are a clear error), and where a shape that does not fit is.
#pragma once

#include <initializer_list>

#include "core/tensor.hpp"

namespace ringtrain::ops {

// True when the op's (defined) tensors are all on the GPU, false when all are on the CPU; a mix is an error.
inline bool on_cuda(const char* op, std::initializer_list<const Tensor*> tensors) {
  int cuda = 0, cpu = 0;
  for (const Tensor* tensor : tensors) {
    if (!tensor->defined()) continue;
    (tensor->device() == Device::cuda ? cuda : cpu) += 1;
  }
  RT_CHECK(cuda == 0 || cpu == 0, op << ": " << cuda << " tensor(s) on cuda and " << cpu
                                     << " on cpu; an op's tensors must share a device");
  return cuda > 0;
}

// Shapes must agree; the message names the op and both shapes.
inline void require_shape(const char* op, const char* what, const Tensor& tensor, const Shape& expected) {
  RT_CHECK(tensor.shape() == expected, op << ": " << what << " has shape " << to_string(tensor.shape())
                                          << ", expected " << to_string(expected));
}

}  // namespace ringtrain::ops
