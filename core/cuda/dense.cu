// Dense layers on the GPU with cuBLAS: row-major y = x w read as the column-major product y^T = w^T x^T, so
// no transposes are materialized; the bias and its gradient are small kernels. One cuBLAS handle per thread
// and device, on stream(); FP32 math (no TF32), as on the CPU. cuBLAS is loaded on first use:
// merely loading it costs about 200 MB of resident memory, which a process training on the CPU must not pay.
#include <cublas_v2.h>
#include <dlfcn.h>

#include <memory>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"
#include "core/cuda/stream.hpp"
#include "core/cuda/thread_handle.cuh"
#include "core/device.hpp"

namespace ringtrain::cuda {

namespace {

// The cuBLAS functions dense layers use, from the library loaded at the first call.
struct Cublas {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasDestroy_v2) destroy;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasSetWorkspace_v2) set_workspace;
  decltype(&cublasSgemm_v2) sgemm;
  decltype(&cublasGetStatusString) status_string;
  decltype(&cublasGetProperty) property;
};

const Cublas& cublas() {
  static const Cublas loaded = [] {
    void* library = dlopen(RINGTRAIN_CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) library = dlopen(RINGTRAIN_CUBLAS_BUILD_PATH, RTLD_NOW | RTLD_LOCAL);
    RT_CHECK(library != nullptr, "cannot load cuBLAS (" << RINGTRAIN_CUBLAS_SONAME << "): " << dlerror()
                                                        << "; add the CUDA libraries' directory to "
                                                        << "LD_LIBRARY_PATH, or use --device cpu");
    const auto symbol = [library](const char* name) {
      void* found = dlsym(library, name);
      RT_CHECK(found != nullptr, "cuBLAS (" << RINGTRAIN_CUBLAS_SONAME << ") has no " << name
                                            << ": this ringtrain was built against another CUDA version");
      return found;
    };
    return Cublas{reinterpret_cast<decltype(&cublasCreate_v2)>(symbol("cublasCreate_v2")),
                  reinterpret_cast<decltype(&cublasDestroy_v2)>(symbol("cublasDestroy_v2")),
                  reinterpret_cast<decltype(&cublasSetStream_v2)>(symbol("cublasSetStream_v2")),
                  reinterpret_cast<decltype(&cublasSetMathMode)>(symbol("cublasSetMathMode")),
                  reinterpret_cast<decltype(&cublasSetWorkspace_v2)>(symbol("cublasSetWorkspace_v2")),
                  reinterpret_cast<decltype(&cublasSgemm_v2)>(symbol("cublasSgemm_v2")),
                  reinterpret_cast<decltype(&cublasGetStatusString)>(symbol("cublasGetStatusString")),
                  reinterpret_cast<decltype(&cublasGetProperty)>(symbol("cublasGetProperty"))};
  }();
  return loaded;
}

void check_cublas(cublasStatus_t status, const char* call) {
  RT_CHECK(status == CUBLAS_STATUS_SUCCESS,
           "cuBLAS error " << cublas().status_string(status) << " in " << call);
}

// A handle and the workspace it owns. With a workspace of its own, cuBLAS allocates nothing while a step is
// recorded as a CUDA graph (some CUDA 12 versions allocate one per capture otherwise).
struct CublasContext {
  static constexpr std::size_t kWorkspaceBytes = 32 << 20;  // what cuBLAS advises for Hopper
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
  ~CublasContext() {
    if (handle != nullptr) cublas().destroy(handle);
    if (workspace != nullptr) device_free(Device::cuda, workspace);
  }
};

// This thread's handle for the current device: on stream(), FP32 math (no TF32), its own
// workspace.
cublasHandle_t handle() {
  return thread_handle<CublasContext*>(
             "a cuBLAS handle",
             [] {
               auto made = std::make_unique<CublasContext>();
               check_cublas(cublas().create(&made->handle), "cublasCreate");
               check_cublas(cublas().set_stream(made->handle, stream()), "cublasSetStream");
               check_cublas(cublas().set_math_mode(made->handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
               made->workspace = device_allocate(Device::cuda, CublasContext::kWorkspaceBytes);
               check_cublas(
                   cublas().set_workspace(made->handle, made->workspace, CublasContext::kWorkspaceBytes),
                   "cublasSetWorkspace");
               return made.release();
             },
             [](CublasContext* context) { delete context; })
      ->handle;
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

std::string cublas_version() {
  try {
    int major = 0, minor = 0;
    check_cublas(cublas().property(MAJOR_VERSION, &major), "cublasGetProperty");
    check_cublas(cublas().property(MINOR_VERSION, &minor), "cublasGetProperty");
    return "cuBLAS " + std::to_string(major) + "." + std::to_string(minor);
  } catch (const Error& error) {
    return std::string("no cuBLAS: ") + error.what();
  }
}

void dense_forward(const float* x, const float* w, const float* bias, float* y, std::int64_t batch,
                   std::int64_t in, std::int64_t out) {
  const float one = 1.0f, zero = 0.0f;
  const int b = checked_int(batch, "batch"), n = checked_int(in, "inputs"), m = checked_int(out, "outputs");
  if (b == 0 || m == 0) return;
  check_cublas(cublas().sgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, m, b, n, &one, w, m, x, n, &zero, y, m),
               "dense_forward");
  if (bias == nullptr) return;
  add_bias_kernel<<<blocks_for(batch * out), kThreads, 0, stream()>>>(y, bias, batch * out, out);
  check_launch("dense bias");
}

void dense_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* dbias,
                    std::int64_t batch, std::int64_t in, std::int64_t out) {
  const float one = 1.0f, zero = 0.0f;
  const int b = checked_int(batch, "batch"), n = checked_int(in, "inputs"), m = checked_int(out, "outputs");
  // dx [batch, in] = dy w^T: column-major dx^T (in x batch) = w (in x out) dy^T (out x batch).
  if (dx != nullptr && b > 0)
    check_cublas(cublas().sgemm(handle(), CUBLAS_OP_T, CUBLAS_OP_N, n, b, m, &one, w, m, dy, m, &zero, dx, n),
                 "dense_backward (dx)");
  // dw [in, out] = x^T dy: column-major dw^T (out x in) = dy^T (out x batch) x (batch x in).
  check_cublas(cublas().sgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_T, m, n, b, &one, dy, m, x, n, &zero, dw, m),
               "dense_backward (dw)");
  if (dbias == nullptr) return;
  column_sums_kernel<<<blocks_for(out), kThreads, 0, stream()>>>(dy, batch, out, dbias);
  check_launch("dense bias gradient");
}

}  // namespace ringtrain::cuda
