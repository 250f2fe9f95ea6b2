// Communicator: the narrow interface data parallelism needs (sums over all replicas of a flat buffer,
// blocking or started now and awaited later, broadcast, small scalar sums, a barrier). Implementations: one
// process (make_single_process_communicator, here) and MPI on CPU tensors (distributed/mpi_communicator.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/tensor.hpp"

namespace ringtrain {

// A reduction started by Communicator::start_sum; wait() returns once the buffer holds the sum.
class PendingSum {
 public:
  virtual ~PendingSum() = default;
  // Lets the reduction advance without waiting for it (MPI advances non-blocking collectives only inside
  // MPI calls, so the caller polls between pieces of work).
  virtual void poll() = 0;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // buffer = elementwise sum of every rank's buffer, in place.
  virtual void sum(Tensor& buffer) = 0;
  // The same, started now; the buffer must stay untouched until wait() returns.
  virtual std::unique_ptr<PendingSum> start_sum(Tensor& buffer) = 0;
  // Every rank's buffer = root's buffer.
  virtual void broadcast(Tensor& buffer, int root) = 0;
  // values = elementwise sum over ranks (exact for integers below 2^53).
  virtual void sum(std::span<double> values) = 0;
  // Every rank's value, in rank order.
  virtual std::vector<std::uint64_t> all_gather(std::uint64_t value) = 0;
  virtual void barrier() = 0;
  // GPU work this thread has queued so far (a replayed CUDA graph holding collectives) must finish within the
  // communicator's timeout, or the communicator is aborted and the next call reports it. Communicators
  // without a watchdog do nothing.
  virtual void watch_queued_work(const char* /*what*/) {}
  // Throws when the communicator has already failed (NCCL: aborted by its watchdog), before more work that
  // uses it is queued. Communicators that fail only inside their calls do nothing.
  virtual void throw_if_failed() const {}
};

// The elements of `buffer` for a communicator that takes float32 and float64 tensors on `device`; another
// type or device is an error naming the communicator and the call.
void* float_elements(const Tensor& buffer, Device device, const char* communicator, const char* call);

// World size 1: sums and broadcasts leave buffers as they are.
std::unique_ptr<Communicator> make_single_process_communicator();

}  // namespace ringtrain
