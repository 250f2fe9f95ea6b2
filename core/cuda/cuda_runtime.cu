// The CUDA runtime for builds with the CUDA backend: device discovery, memory, copies, the scale kernel.
#include <cudnn.h>
#include <nccl.h>

#include <atomic>
#include <sstream>
#include <vector>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/kernels.hpp"
#include "core/cuda/stream.hpp"

namespace ringtrain::cuda {

namespace {

__global__ void scale_kernel(float* y, const float* x, float alpha, std::size_t count) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < count) y[i] = alpha * x[i];
}

}  // namespace

bool built() {
  return true;
}

namespace {

// Why cudaGetDeviceCount found no GPU ("" when it found some): for describe().
std::atomic<const char*> no_gpu_reason{""};

}  // namespace

cudaStream_t stream() {
  // One per device, kept for the thread's life and never destroyed: the cuDNN and cuBLAS handles set to it
  // are destroyed at thread exit, after it would be; the process's end releases it with its context.
  thread_local std::vector<cudaStream_t> streams;
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  if (static_cast<std::size_t>(device) >= streams.size())
    streams.resize(static_cast<std::size_t>(device) + 1);
  cudaStream_t& made = streams[static_cast<std::size_t>(device)];
  if (made == nullptr) CUDA_CHECK(cudaStreamCreateWithFlags(&made, cudaStreamNonBlocking));
  return made;
}

void require_not_recording(const std::string& what) {
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  CUDA_CHECK(cudaStreamIsCapturing(stream(), &capturing));
  RT_CHECK(capturing == cudaStreamCaptureStatusNone,
           what << " was needed while a step was being recorded as a CUDA graph: run the step eagerly first");
}

int device_count() {
  int count = 0;
  // No driver, a driver older than this CUDA, or no device is not an error here: it means "no GPU".
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    // The runtime says "driver version is insufficient" also where there is no driver at all.
    no_gpu_reason.store(status == cudaErrorInsufficientDriver
                            ? "no NVIDIA driver, or one older than this build's CUDA needs"
                            : cudaGetErrorString(status));
    cudaGetLastError();
    return 0;
  }
  return count;
}

void set_device(int index) {
  const int count = device_count();
  RT_CHECK(index >= 0 && index < count, "GPU " << index << " does not exist: " << count << " usable GPU(s)");
  CUDA_CHECK(cudaSetDevice(index));
}

std::string describe() {
  std::ostringstream out;
  int nccl_version = 0;
  ncclGetVersion(&nccl_version);
  out << "CUDA " << CUDART_VERSION / 1000 << '.' << (CUDART_VERSION % 1000) / 10 << ", cuDNN "
      << cudnnGetVersion() / 10000 << '.' << (cudnnGetVersion() % 10000) / 100 << '.'
      << cudnnGetVersion() % 100 << ", NCCL " << nccl_version / 10000 << '.' << (nccl_version % 10000) / 100
      << '.' << nccl_version % 100 << ", " << cublas_version() << ", " << device_count() << " GPU(s) usable";
  const std::string reason = no_gpu_reason.load();
  if (device_count() == 0 && !reason.empty()) out << " (" << reason << ")";
  return out.str();
}

std::string current_device_name() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp properties{};
  CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  return "GPU " + std::to_string(device) + " (" + properties.name + ")";
}

void synchronize() {
  CUDA_CHECK(cudaDeviceSynchronize());
}

void* allocate(std::size_t bytes) {
  RT_CHECK(device_count() > 0, "no usable CUDA device: run with --device cpu");
  void* pointer = nullptr;
  CUDA_CHECK(cudaMalloc(&pointer, bytes));
  return pointer;
}

void release(void* pointer) noexcept {
  free_device_memory(pointer);
}

void copy(void* destination, const void* source, std::size_t bytes, CopyReturns returns) {
  CUDA_CHECK(cudaMemcpyAsync(destination, source, bytes, cudaMemcpyDefault, stream()));
  if (returns == CopyReturns::when_done) CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void fill_zero(void* pointer, std::size_t bytes) {
  CUDA_CHECK(cudaMemsetAsync(pointer, 0, bytes, stream()));
}

void scale(float* y, const float* x, float alpha, std::size_t count) {
  if (count == 0) return;
  constexpr unsigned kThreads = 256;
  const unsigned blocks = static_cast<unsigned>((count + kThreads - 1) / kThreads);
  scale_kernel<<<blocks, kThreads, 0, stream()>>>(y, x, alpha, count);
  CUDA_CHECK(cudaGetLastError());
}

QueueDepthLimit::QueueDepthLimit(std::size_t depth) : events_(depth, nullptr) {
  RT_CHECK(depth >= 1, "a queue depth limit of " << depth << " units: it must be at least 1");
  for (void*& event : events_) {
    cudaEvent_t made = nullptr;
    CUDA_CHECK(cudaEventCreateWithFlags(&made, cudaEventDisableTiming));
    event = made;
  }
}

QueueDepthLimit::~QueueDepthLimit() {
  for (void* event : events_)
    cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

void QueueDepthLimit::mark() {
  auto event = static_cast<cudaEvent_t>(events_[next_]);
  if (marked_ >= events_.size()) CUDA_CHECK(cudaEventSynchronize(event));
  CUDA_CHECK(cudaEventRecord(event, stream()));
  next_ = (next_ + 1) % events_.size();
  ++marked_;
}

}  // namespace ringtrain::cuda
