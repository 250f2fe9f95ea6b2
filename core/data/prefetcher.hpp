// BatchPrefetcher: a background thread that gathers the next training batch while the trainer uses this one.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>

#include "core/data/mnist.hpp"
#include "core/data/sampler.hpp"
#include "core/tensor.hpp"

namespace ringtrain::data {

// One gathered batch: images float32 [B, rows, cols, 1], labels int32 [B], and where it comes from.
struct Batch {
  Tensor images;
  Tensor labels;
  std::int64_t epoch = 0;
  std::int64_t step = 0;
};

// Produces the sampler's batches in order from (epoch, first_step) on, running on into the following epochs,
// with one batch prepared ahead in a second buffer. The dataset must outlive the prefetcher; the sampler is
// copied. Destroying it at any point (e.g. while unwinding an exception) stops the thread without waiting
// for the stream to end.
class BatchPrefetcher {
 public:
  BatchPrefetcher(const Dataset& dataset, const EpochSampler& sampler, std::int64_t epoch,
                  std::int64_t first_step, Shard shard = {});
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch; valid until the following call of next(). Rethrows an exception the worker hit.
  const Batch& next();

 private:
  // Gathers batches from (epoch, step) on into whichever buffer is free, until stopped.
  void run_worker(std::int64_t epoch, std::int64_t step);

  const Dataset& dataset_;
  EpochSampler sampler_;
  Shard shard_;  // used by the worker thread only
  std::array<Batch, 2> buffers_;

  std::mutex mutex_;
  std::condition_variable changed_;
  int ready_count_ = 0;          // buffers gathered and not yet handed out
  int write_slot_ = 0;           // the buffer the worker fills next
  int read_slot_ = 0;            // the buffer next() hands out next
  bool consumer_holds_ = false;  // whether the last buffer handed out is still in use
  bool stopping_ = false;
  std::exception_ptr worker_error_;

  std::thread worker_;  // last, so that it starts after everything above is built
};

}  // namespace ringtrain::data
