// World: this process's place among the processes of a run (rank, size, local rank on its node), from MPI,
// which MpiRuntime initializes once per process. Without a launcher the world is one process.
#pragma once

#include <chrono>
#include <memory>

#include "core/comm/communicator.hpp"

namespace ringtrain {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;  // among the processes of this node (shared-memory split), picks the GPU
  int local_size = 1;
};

// Initializes MPI on construction and finalizes it on destruction; one per process.
class MpiRuntime {
 public:
  MpiRuntime(int& argc, char**& argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  const World& world() const { return world_; }
  // MPI for CPU tensors when the world has several processes, else the single-process communicator.
  std::unique_ptr<Communicator> communicator() const;
  // NCCL for CUDA tensors on GPU `device` (collective: every rank calls it), aborted when a collective has
  // not finished after `timeout`; an error where the build has no CUDA.
  std::unique_ptr<Communicator> gpu_communicator(int device, std::chrono::milliseconds timeout) const;
  // Ends every process of the run with `code` (MPI_Abort when the world has several processes).
  [[noreturn]] void abort(int code) const;

 private:
  World world_;
};

}  // namespace ringtrain
