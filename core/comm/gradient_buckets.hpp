// GradientBuckets: sums the flat gradient buffer over all replicas in buckets, each started as soon as
// backward has produced it. Parameters are laid out in layer order and backward runs from the last layer, so
// the buffer fills from its end: buckets are cut from the end, and every rank starts them in the same order.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/tensor.hpp"

namespace ringtrain {

class GradientBuckets {
 public:
  // bucket_elements: the size of each bucket but the one nearest the buffer's start (at least 1).
  GradientBuckets(Communicator& communicator, Tensor gradients, std::int64_t bucket_elements);

  // Gradients [offset, end) are final: starts every bucket that lies inside them and has not started.
  void ready_from(std::int64_t offset);
  // Starts the remaining buckets and waits for all; then the buffer holds the sum over replicas.
  void finish();
  // For a step that failed midway (its recording as a CUDA graph): queues the waits for the sums it started,
  // ignoring their errors (on the GPU this joins their streams back to the caller's, without which a
  // recording cannot end), and forgets them, so that the next step starts from the first bucket again.
  void abandon();

  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::int64_t begin = 0;
    Tensor view;
  };

  Communicator& communicator_;
  std::vector<Bucket> buckets_;  // from the end of the buffer to its start
  std::size_t started_ = 0;
  std::vector<std::unique_ptr<PendingSum>> pending_;
};

}  // namespace ringtrain
