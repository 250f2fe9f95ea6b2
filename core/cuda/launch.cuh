// Launch helpers shared by the .cu files: the block size, a grid for a count of elements, and the check
// that a launch started.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/check.hpp"

namespace ringtrain::cuda {

constexpr int kThreads = 256;

inline int blocks_for(std::int64_t count) {
  const std::int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 * 16 ? (blocks > 0 ? blocks : 1) : 65535 * 16);
}

inline void check_launch(const char* kernel) {
  const cudaError_t status = cudaGetLastError();
  RT_CHECK(status == cudaSuccess,
           "CUDA kernel " << kernel << " did not start: " << cudaGetErrorString(status));
}

// for (i = this thread's first; i < count; i += all threads)
#define RT_GRID_STRIDE(i, count)                                                                       \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (count); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

}  // namespace ringtrain::cuda
