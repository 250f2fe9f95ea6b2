// CapturedWork with CUDA stream capture on stream() (thread-local mode: other threads' CUDA calls
// are not checked), instantiated once and launched per replay.
#include <cuda_runtime.h>

#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_check.hpp"
#include "core/cuda/stream.hpp"

namespace ringtrain::cuda {

struct CapturedWork::Graph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t executable = nullptr;

  ~Graph() {
    if (executable != nullptr) cudaGraphExecDestroy(executable);
    if (graph != nullptr) cudaGraphDestroy(graph);
  }
};

CapturedWork::CapturedWork() = default;
CapturedWork::~CapturedWork() = default;

void CapturedWork::capture(const std::function<void()>& queue) {
  graph_.reset();
  auto made = std::make_unique<Graph>();
  CUDA_CHECK(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal));
  try {
    queue();
  } catch (...) {
    // End the capture so the stream works again; what was recorded is dropped.
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(stream(), &partial);
    if (partial != nullptr) cudaGraphDestroy(partial);
    cudaGetLastError();
    throw;
  }
  const cudaError_t ended = cudaStreamEndCapture(stream(), &made->graph);
  if (ended != cudaSuccess) cudaGetLastError();
  RT_CHECK(ended == cudaSuccess, "the training step could not be captured as a CUDA graph ("
                                     << cudaGetErrorString(ended) << "): run with --cuda-graph false");
  CUDA_CHECK(cudaGraphInstantiate(&made->executable, made->graph, 0));
  graph_ = std::move(made);
}

std::size_t CapturedWork::node_count() const {
  if (graph_ == nullptr) return 0;
  std::size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph_->graph, nullptr, &count));
  return count;
}

void CapturedWork::replay() {
  RT_CHECK(graph_ != nullptr, "replay of GPU work that was not captured");
  CUDA_CHECK(cudaGraphLaunch(graph_->executable, stream()));
}

}  // namespace ringtrain::cuda
