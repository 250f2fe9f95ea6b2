// CUDA_CHECK: turns a failed CUDA runtime call into a ringtrain::Error naming the call, file and line; and
// free_device_memory, cudaFree for destructors.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>

#include "core/check.hpp"

#define CUDA_CHECK(call)                                                                                \
  do {                                                                                                  \
    const cudaError_t cuda_check_status_ = (call);                                                      \
    RT_CHECK(cuda_check_status_ == cudaSuccess, "CUDA error " << cudaGetErrorString(cuda_check_status_) \
                                                              << " in " #call " at " << __FILE__ << ':' \
                                                              << __LINE__);                             \
  } while (false)

namespace ringtrain::cuda {

// Never throws. A failure is reported on stderr and cleared, so that a later check does not take it for the
// error of an unrelated call; after the runtime has unloaded (process exit) it is silent.
inline void free_device_memory(void* pointer) noexcept {
  const cudaError_t status = cudaFree(pointer);
  if (status == cudaSuccess) return;
  cudaGetLastError();
  if (status != cudaErrorCudartUnloading)
    std::fprintf(stderr, "ringtrain: warning: cudaFree failed: %s\n", cudaGetErrorString(status));
}

}  // namespace ringtrain::cuda
