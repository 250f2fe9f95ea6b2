// GradientBuckets: cutting the buffer into buckets, starting them as backward proceeds, waiting at the end.
#include "core/comm/gradient_buckets.hpp"

#include <algorithm>
#include <exception>

namespace ringtrain {

GradientBuckets::GradientBuckets(Communicator& communicator, Tensor gradients, std::int64_t bucket_elements)
    : communicator_(communicator) {
  RT_CHECK(bucket_elements > 0, "gradient bucket size " << bucket_elements << " must be positive");
  const std::int64_t total = gradients.numel();
  for (std::int64_t end = total; end > 0; end -= bucket_elements) {
    const std::int64_t begin = std::max<std::int64_t>(end - bucket_elements, 0);
    buckets_.push_back({begin, gradients.view({end - begin}, begin)});
  }
}

void GradientBuckets::ready_from(std::int64_t offset) {
  for (auto& pending : pending_)
    pending->poll();
  while (started_ < buckets_.size() && buckets_[started_].begin >= offset) {
    pending_.push_back(communicator_.start_sum(buckets_[started_].view));
    ++started_;
  }
}

void GradientBuckets::abandon() {
  for (auto& pending : pending_) {
    try {
      pending->wait();
    } catch (const std::exception&) {
      // The step has failed already; its error is the one reported.
    }
  }
  pending_.clear();
  started_ = 0;
}

void GradientBuckets::finish() {
  ready_from(0);
  for (auto& pending : pending_)
    pending->wait();
  pending_.clear();
  started_ = 0;
}

}  // namespace ringtrain
