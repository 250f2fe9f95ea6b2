// RT_HOST_DEVICE: marks an inline function that compiles for the CPU and, under nvcc, for CUDA kernels too,
// so that the two devices share one implementation of it.
#pragma once

#if defined(__CUDACC__)
#define RT_HOST_DEVICE __host__ __device__
#else
#define RT_HOST_DEVICE
#endif
