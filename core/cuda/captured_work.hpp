// CapturedWork: GPU work recorded once as a CUDA graph and replayed, so that a training step costs one launch
// instead of one per kernel. Declared for every build; cuda_absent.cpp makes its use an error without CUDA.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace ringtrain::cuda {

class CapturedWork {
 public:
  CapturedWork();
  ~CapturedWork();
  CapturedWork(const CapturedWork&) = delete;
  CapturedWork& operator=(const CapturedWork&) = delete;

  // Records what `queue` queues on this thread's stream (and on the streams it joins to it, such as NCCL's)
  // without running it. Memory the work uses must outlive the recording. An error, in `queue` or from CUDA,
  // leaves nothing recorded and this thread's stream usable.
  void capture(const std::function<void()>& queue);
  bool captured() const { return graph_ != nullptr; }
  // Queues the recorded work on this thread's stream.
  void replay();
  // Operations recorded (kernels, copies, memsets, waits): what one replay launches.
  std::size_t node_count() const;

 private:
  struct Graph;
  std::unique_ptr<Graph> graph_;
};

}  // namespace ringtrain::cuda
