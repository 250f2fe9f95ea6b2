// require_cpu: the single place where an op on a device without a kernel for it becomes a clear error.
#pragma once

#include <initializer_list>

#include "core/tensor.hpp"

namespace ringtrain::ops {

// Until the CUDA backend provides a kernel, an op on a CUDA tensor says so instead of misbehaving.
inline void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* tensor : tensors) {
    RT_CHECK(!tensor->defined() || tensor->device() == Device::cpu,
             op << ": no kernel for device " << to_string(tensor->device()) << " in this build yet");
  }
}

// Shapes must agree; the message names the op and both shapes.
inline void require_shape(const char* op, const char* what, const Tensor& tensor, const Shape& expected) {
  RT_CHECK(tensor.shape() == expected, op << ": " << what << " has shape " << to_string(tensor.shape())
                                          << ", expected " << to_string(expected));
}

}  // namespace ringtrain::ops
