// BatchPrefetcher: a double buffer handed between a worker thread and the trainer under one mutex.
#include "core/data/prefetcher.hpp"

#include "core/check.hpp"

namespace ringtrain::data {

BatchPrefetcher::BatchPrefetcher(const Dataset& dataset, const EpochSampler& sampler, std::int64_t epoch,
                                 std::int64_t first_step, Shard shard)
    : dataset_(dataset), sampler_(sampler), shard_(shard) {
  RT_CHECK(epoch >= 0, "epoch " << epoch << " is negative; epochs count from 0");
  RT_CHECK(first_step >= 0 && first_step < sampler_.steps_per_epoch(),
           "first step " << first_step << " outside the epoch of " << sampler_.steps_per_epoch() << " steps");
  const std::int64_t rows = (shard.index + 1) * sampler_.batch_size() / shard.count -
                            shard.index * sampler_.batch_size() / shard.count;
  const Shape images_shape = dataset_.sample_shape().with_batch(rows);
  for (Batch& buffer : buffers_) {
    buffer.images = Tensor::empty(images_shape, DType::f32);
    buffer.labels = Tensor::empty(Shape{rows}, DType::i32);
  }
  worker_ = std::thread([this, epoch, first_step] { run_worker(epoch, first_step); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

const Batch& BatchPrefetcher::next() {
  std::unique_lock lock(mutex_);
  if (consumer_holds_) {
    consumer_holds_ = false;
    read_slot_ ^= 1;
    changed_.notify_all();
  }
  changed_.wait(lock, [this] { return ready_count_ > 0 || worker_error_; });
  if (ready_count_ == 0) std::rethrow_exception(worker_error_);
  --ready_count_;
  consumer_holds_ = true;
  return buffers_[static_cast<std::size_t>(read_slot_)];
}

void BatchPrefetcher::run_worker(std::int64_t epoch, std::int64_t step) {
  try {
    while (true) {
      int slot = 0;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || ready_count_ + (consumer_holds_ ? 1 : 0) < 2; });
        if (stopping_) return;
        slot = write_slot_;
      }
      // The buffer in `slot` belongs to this thread until it is counted ready.
      Batch& buffer = buffers_[static_cast<std::size_t>(slot)];
      dataset_.gather_batch(shard_of(sampler_.batch(epoch, step), shard_), buffer.images, buffer.labels);
      buffer.epoch = epoch;
      buffer.step = step;
      {
        std::lock_guard lock(mutex_);
        ++ready_count_;
        write_slot_ ^= 1;
      }
      changed_.notify_all();
      if (++step == sampler_.steps_per_epoch()) {
        step = 0;
        ++epoch;
      }
    }
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      worker_error_ = std::current_exception();
    }
    changed_.notify_all();
  }
}

}  // namespace ringtrain::data
