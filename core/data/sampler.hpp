// Which samples make up each batch: a reshuffle every epoch from (seed, epoch), and in-order evaluation
// batches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ringtrain::data {

// 0, 1, ..., count - 1: a dataset's samples in their own order.
std::vector<std::int64_t> in_order(std::int64_t count);

// A permutation of 0..count-1 that depends only on (seed, epoch): Fisher-Yates driven by
// Philox(seed, RandomStream::shuffle, epoch), so any rank can recompute any epoch's order, e.g. on resume.
std::vector<std::int64_t> epoch_permutation(std::int64_t count, std::uint64_t seed, std::int64_t epoch);

// What happens to the samples left over after the last full batch of an epoch.
enum class Remainder { drop, keep };

// This process's part of the data: shard `index` of `count` equal, contiguous parts.
struct Shard {
  int index = 0;
  int count = 1;
};

// The contiguous slice [index * n / count, (index + 1) * n / count) of `indices` (n = its size): every
// element in exactly one shard, sizes differing by at most one.
std::span<const std::int64_t> shard_of(std::span<const std::int64_t> indices, Shard shard);

// Global batches of a shuffled epoch: batch(epoch, step) is slice `step` of epoch_permutation(count, seed,
// epoch).
class EpochSampler {
 public:
  EpochSampler(std::int64_t count, std::int64_t batch_size, std::uint64_t seed, Remainder remainder);

  std::int64_t count() const { return count_; }
  std::int64_t batch_size() const { return batch_size_; }
  std::uint64_t seed() const { return seed_; }
  Remainder remainder() const { return remainder_; }
  // floor(count / batch_size) when dropping the remainder, ceil otherwise.
  std::int64_t steps_per_epoch() const;

  // The sample indices of batch `step` of `epoch`. The permutation of the last epoch asked for is cached; the
  // span stays valid until batch() is called for another epoch. Not thread-safe: give each thread its own
  // copy.
  std::span<const std::int64_t> batch(std::int64_t epoch, std::int64_t step);

 private:
  std::int64_t count_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
  Remainder remainder_;
  std::int64_t cached_epoch_ = -1;
  std::vector<std::int64_t> cached_permutation_;
};

// Batches of 0..count-1 in order, the last one partial: for evaluation, where every sample counts once.
class SequentialBatches {
 public:
  SequentialBatches(std::int64_t count, std::int64_t batch_size);

  std::int64_t count() const { return static_cast<std::int64_t>(indices_.size()); }
  std::int64_t batch_size() const { return batch_size_; }
  // ceil(count / batch_size).
  std::int64_t steps() const;
  std::span<const std::int64_t> batch(std::int64_t step) const;

 private:
  std::int64_t batch_size_;
  std::vector<std::int64_t> indices_;
};

}  // namespace ringtrain::data
