// World: this process's place among the processes of a run (rank, size, local rank on its node), from MPI,
// which MpiRuntime initializes once per process. Without a launcher the world is one process, and MPI is not
// started at all unless asked.
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
  int local_cores = 0;         // the cores this node's processes may run on together (0: not known)
  int local_fewest_cores = 0;  // the fewest cores one of this node's processes may run on (0: not known)
};

// When MPI is started: only for a process that a launcher started as a rank of a run (mpirun, srun with
// --mpi=pmix or pmi2, MPICH's hydra: they leave their variables in its environment), or always. A process
// started alone then trains without touching MPI, also where MPI could not start a singleton.
enum class MpiStart { when_launched, always };

// Initializes MPI on construction (see MpiStart) and finalizes it on destruction; one per process.
class MpiRuntime {
 public:
  MpiRuntime(int& argc, char**& argv, MpiStart start = MpiStart::when_launched);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  const World& world() const { return world_; }
  bool started() const { return started_; }
  // MPI for CPU tensors when the world has several processes, else the single-process communicator.
  std::unique_ptr<Communicator> communicator() const;
  // NCCL for CUDA tensors on GPU `device` (collective: every rank calls it), aborted when a collective has
  // not finished after `timeout`; an error where the build has no CUDA.
  std::unique_ptr<Communicator> gpu_communicator(int device, std::chrono::milliseconds timeout) const;
  // Ends every process of the run with `code` (MPI_Abort when the world has several processes).
  [[noreturn]] void abort(int code) const;

 private:
  World world_;
  bool started_ = false;
};

// Whether this process's environment shows a launcher that started it as a rank (MpiStart::when_launched).
bool started_by_a_launcher();

}  // namespace ringtrain
