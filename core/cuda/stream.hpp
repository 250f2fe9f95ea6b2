// stream(): the CUDA stream on which this thread queues all of ringtrain's GPU work, for builds with the CUDA
// backend (defined in cuda_runtime.cu).
#pragma once

#include <cuda_runtime.h>

namespace ringtrain::cuda {

// This thread's stream on the current device, made on first use. It is created non-blocking: it does not
// synchronise with the legacy default stream, so that while it is recorded as a CUDA graph, another thread's
// use of the legacy stream (a library's, an NCCL network plugin's) cannot invalidate the recording, and work
// queued on it orders only by this stream, events and explicit synchronisation.
cudaStream_t stream();

}  // namespace ringtrain::cuda
