// ThreadHandle: one library handle (cuBLAS, cuDNN) or scratch object per thread for the current device, made
// on first use and remade when the thread changes device.
#pragma once

#include <cuda_runtime.h>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/stream.hpp"

namespace ringtrain::cuda {

// Handle: the library's handle type. Make: creates one for the current device and sets it up (never while a
// step is recorded: `what` names the handle in that error); Destroy: releases one.
template <typename Handle, typename Make, typename Destroy>
Handle thread_handle(const char* what, Make make, Destroy destroy) {
  struct Current {
    Handle handle = nullptr;
    int device = -1;
    Destroy destroy;
    ~Current() {
      if (handle != nullptr) destroy(handle);
    }
  };
  thread_local Current current{nullptr, -1, destroy};
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  if (current.handle == nullptr || current.device != device) {
    if (current.handle != nullptr) destroy(current.handle);
    current.handle = nullptr;
    require_not_recording(what);
    current.handle = make();
    current.device = device;
  }
  return current.handle;
}

}  // namespace ringtrain::cuda
