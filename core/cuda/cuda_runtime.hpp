// The CUDA runtime as ringtrain uses it: device discovery, memory and copies. Declared for every build;
// defined by cuda_runtime.cu when the CUDA backend is built and by cuda_absent.cpp otherwise.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ringtrain::cuda {

// True when this binary was built with the CUDA backend.
bool built();
// Usable GPUs; 0 when the build has no CUDA, there is no driver or no device (never throws).
int device_count();
// Makes GPU `index` this process's current device (under mpirun: the GPU of its local rank).
void set_device(int index);
// "CUDA 13.0, cuDNN 9.19.0, NCCL 2.28.9", or why there is none.
std::string describe();
// The current GPU's name and index, e.g. "GPU 0 (NVIDIA H200)".
std::string current_device_name();
// Waits until every piece of work queued on the current GPU has finished.
void synchronize();

void* allocate(std::size_t bytes);
void release(void* pointer) noexcept;
// When a copy returns: once queued (device to device), or once done (host memory on either side must be).
enum class CopyReturns { when_queued, when_done };
// Copies between any two of host and device memory in this thread's stream order.
void copy(void* destination, const void* source, std::size_t bytes, CopyReturns returns);
// Queues zeroing device memory in this thread's stream order.
void fill_zero(void* pointer, std::size_t bytes);
// Queues y[i] = alpha * x[i] on the device: the backend's first kernel, used by tests of the seam.
void scale(float* y, const float* x, float alpha, std::size_t count);

// Keeps the host at most `depth` units of queued work ahead of this thread's stream: mark() after queueing
// each unit; when `depth` marked units are still unfinished, it first waits for the oldest. A collective
// stuck on another rank then stalls the host after a few steps, where the NCCL watchdog's timeout applies,
// instead of letting it queue work without end.
class QueueDepthLimit {
 public:
  explicit QueueDepthLimit(std::size_t depth);
  ~QueueDepthLimit();
  QueueDepthLimit(const QueueDepthLimit&) = delete;
  QueueDepthLimit& operator=(const QueueDepthLimit&) = delete;

  void mark();

 private:
  std::vector<void*> events_;  // cudaEvent_t, a ring
  std::size_t next_ = 0;
  std::size_t marked_ = 0;
};

}  // namespace ringtrain::cuda
