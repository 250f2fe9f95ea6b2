// Dense layers on the GPU with cuBLAS: row-major y = x w read as the column-major product y^T = w^T x^T, so
// no transposes are materialized; the bias and its gradient are small kernels. One cuBLAS handle per thread
// and device, on cudaStreamPerThread; FP32 math (no TF32), as on the CPU.
#include <cublas_v2.h>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"
#include "core/cuda/thread_handle.cuh"

namespace ringtrain::cuda {

namespace {

void check_cublas(cublasStatus_t status, const char* call) {
  RT_CHECK(status == CUBLAS_STATUS_SUCCESS,
           "cuBLAS error " << cublasGetStatusString(status) << " in " << call);
}

// This thread's handle for the current device: on cudaStreamPerThread, FP32 math (no TF32).
cublasHandle_t handle() {
  return thread_handle<cublasHandle_t>(
      [] {
        cublasHandle_t made = nullptr;
        check_cublas(cublasCreate(&made), "cublasCreate");
        check_cublas(cublasSetStream(made, cudaStreamPerThread), "cublasSetStream");
        check_cublas(cublasSetMathMode(made, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        return made;
      },
      [](cublasHandle_t handle) { cublasDestroy(handle); });
}

__global__ void add_bias_kernel(float* y, const float* bias, std::int64_t count, std::int64_t out) {
  RT_GRID_STRIDE(i, count) {
    y[i] += bias[i % out];
  }
}

// One thread per column, rows in order (the CPU's order of additions).
__global__ void column_sums_kernel(const float* dy, std::int64_t batch, std::int64_t out, float* sums) {
  RT_GRID_STRIDE(column, out) {
    float total = 0;
    for (std::int64_t row = 0; row < batch; ++row)
      total += dy[row * out + column];
    sums[column] = total;
  }
}

int checked_int(std::int64_t value, const char* what) {
  RT_CHECK(value >= 0 && value <= 0x7fffffff,
           "dense: " << what << " = " << value << " is too large for cuBLAS");
  return static_cast<int>(value);
}

}  // namespace

void dense_forward(const float* x, const float* w, const float* bias, float* y, std::int64_t batch,
                   std::int64_t in, std::int64_t out) {
  const float one = 1.0f, zero = 0.0f;
  const int b = checked_int(batch, "batch"), n = checked_int(in, "inputs"), m = checked_int(out, "outputs");
  if (b == 0 || m == 0) return;
  check_cublas(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, m, b, n, &one, w, m, x, n, &zero, y, m),
               "dense_forward");
  if (bias == nullptr) return;
  add_bias_kernel<<<blocks_for(batch * out), kThreads, 0, cudaStreamPerThread>>>(y, bias, batch * out, out);
  check_launch("dense bias");
}

void dense_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* dbias,
                    std::int64_t batch, std::int64_t in, std::int64_t out) {
  const float one = 1.0f, zero = 0.0f;
  const int b = checked_int(batch, "batch"), n = checked_int(in, "inputs"), m = checked_int(out, "outputs");
  // dx [batch, in] = dy w^T: column-major dx^T (in x batch) = w (in x out) dy^T (out x batch).
  if (dx != nullptr && b > 0)
    check_cublas(cublasSgemm(handle(), CUBLAS_OP_T, CUBLAS_OP_N, n, b, m, &one, w, m, dy, m, &zero, dx, n),
                 "dense_backward (dx)");
  // dw [in, out] = x^T dy: column-major dw^T (out x in) = dy^T (out x batch) x (batch x in).
  check_cublas(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_T, m, n, b, &one, dy, m, x, n, &zero, dw, m),
               "dense_backward (dw)");
  if (dbias == nullptr) return;
  column_sums_kernel<<<blocks_for(out), kThreads, 0, cudaStreamPerThread>>>(dy, batch, out, dbias);
  check_launch("dense bias gradient");
}

}  // namespace ringtrain::cuda
