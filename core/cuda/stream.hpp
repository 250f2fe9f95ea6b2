// stream(): the CUDA stream on which this thread queues all of ringtrain's GPU work, and
// require_not_recording(), for builds with the CUDA backend (defined in cuda_runtime.cu).
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace ringtrain::cuda {

// This thread's stream on the current device, made on first use. It is created non-blocking: it does not
// synchronise with the legacy default stream, so that while it is recorded as a CUDA graph, another thread's
// use of the legacy stream (a library's, an NCCL network plugin's) cannot invalidate the recording, and work
// queued on it orders only by this stream, events and explicit synchronisation.
cudaStream_t stream();

// Throws a clear error when stream() is being recorded as a CUDA graph: `what` (e.g. "a cuBLAS handle")
// needs GPU memory or a wait for the GPU, which a recording forbids. The trainer runs every step shape
// eagerly once, making all of these, before it records the step.
void require_not_recording(const std::string& what);

}  // namespace ringtrain::cuda
