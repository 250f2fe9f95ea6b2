// require_cpu and on_cuda: the single place where an op finds which device its tensors are on, and where an
// op on a device without a kernel for it, or on tensors of two devices, becomes a clear error.
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
