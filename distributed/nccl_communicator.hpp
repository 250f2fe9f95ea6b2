// The NCCL communicator for CUDA tensors: sums and broadcasts run on its own CUDA stream, ordered by events
// after the work already queued on the compute stream (cuda::stream()) and before the work queued there
// after them, with no host synchronisation; scalar sums, gathers and barriers go over MPI. A watchdog thread
// polls NCCL's asynchronous errors and aborts the communicator when an operation has not finished within the
// timeout, so a dead peer ends the run with an error instead of a hang.
#pragma once

#include <mpi.h>

#include <chrono>
#include <memory>

#include "core/comm/communicator.hpp"

namespace ringtrain {

struct NcclSettings {
  int device = 0;                              // the GPU this rank uses (its local rank)
  std::chrono::milliseconds timeout{300'000};  // an operation unfinished after this aborts the communicator
};

// True when this build has NCCL (the CUDA backend).
bool nccl_built();

// Collective over every rank of `comm`: rank 0 creates the NCCL id and MPI broadcasts it. Throws where the
// build has no CUDA or the GPU is not usable.
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, const NcclSettings& settings);

}  // namespace ringtrain
