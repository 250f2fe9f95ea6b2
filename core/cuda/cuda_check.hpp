// CUDA_CHECK: turns a failed CUDA runtime call into a ringtrain::Error naming the call, file and line.
#pragma once

#include <cuda_runtime.h>

#include "core/check.hpp"

#define CUDA_CHECK(call)                                                                                \
  do {                                                                                                  \
    const cudaError_t cuda_check_status_ = (call);                                                      \
    RT_CHECK(cuda_check_status_ == cudaSuccess, "CUDA error " << cudaGetErrorString(cuda_check_status_) \
                                                              << " in " #call " at " << __FILE__ << ':' \
                                                              << __LINE__);                             \
  } while (false)
