// Epoch permutations (Philox-driven Fisher-Yates), shuffled training batches and in-order evaluation batches.
#include "core/data/sampler.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/check.hpp"
#include "core/rng.hpp"

namespace ringtrain::data {

namespace {

// Batch `step` of `indices` cut into batches of `batch_size`; the last one may be shorter.
std::span<const std::int64_t> slice_batch(const std::vector<std::int64_t>& indices, std::int64_t batch_size,
                                          std::int64_t step) {
  const auto begin = static_cast<std::size_t>(step * batch_size);
  const std::size_t end = std::min(begin + static_cast<std::size_t>(batch_size), indices.size());
  return std::span<const std::int64_t>(indices).subspan(begin, end - begin);
}

}  // namespace

std::vector<std::int64_t> in_order(std::int64_t count) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  return indices;
}

std::vector<std::int64_t> epoch_permutation(std::int64_t count, std::uint64_t seed, std::int64_t epoch) {
  RT_CHECK(count >= 0, "cannot shuffle a dataset of " << count << " samples");
  RT_CHECK(epoch >= 0, "epoch " << epoch << " is negative; epochs count from 0");
  std::vector<std::int64_t> permutation = in_order(count);
  const Philox generator(seed, RandomStream::shuffle, static_cast<std::uint64_t>(epoch));
  for (std::int64_t i = count - 1; i >= 1; --i) {
    const auto counter = static_cast<std::uint64_t>(i);
    const std::uint64_t random =
        static_cast<std::uint64_t>(generator.word(0, 2 * counter)) << 32 | generator.word(0, 2 * counter + 1);
    const auto j = static_cast<std::int64_t>(random % (counter + 1));
    std::swap(permutation[static_cast<std::size_t>(i)], permutation[static_cast<std::size_t>(j)]);
  }
  return permutation;
}

EpochSampler::EpochSampler(std::int64_t count, std::int64_t batch_size, std::uint64_t seed,
                           Remainder remainder)
    : count_(count), batch_size_(batch_size), seed_(seed), remainder_(remainder) {
  RT_CHECK(batch_size > 0, "batch size " << batch_size << " must be positive");
  RT_CHECK(count > 0, "cannot sample from a dataset of " << count << " samples");
  RT_CHECK(steps_per_epoch() > 0, "batch size " << batch_size << " is larger than the " << count
                                                << " samples and the remainder is dropped: no batch is left; "
                                                << "use a smaller batch size");
}

std::int64_t EpochSampler::steps_per_epoch() const {
  return remainder_ == Remainder::drop ? count_ / batch_size_ : (count_ + batch_size_ - 1) / batch_size_;
}

std::span<const std::int64_t> EpochSampler::batch(std::int64_t epoch, std::int64_t step) {
  RT_CHECK(step >= 0 && step < steps_per_epoch(),
           "step " << step << " outside the epoch of " << steps_per_epoch() << " steps");
  if (epoch != cached_epoch_) {
    cached_permutation_ = epoch_permutation(count_, seed_, epoch);
    cached_epoch_ = epoch;
  }
  return slice_batch(cached_permutation_, batch_size_, step);
}

SequentialBatches::SequentialBatches(std::int64_t count, std::int64_t batch_size) : batch_size_(batch_size) {
  RT_CHECK(batch_size > 0, "batch size " << batch_size << " must be positive");
  RT_CHECK(count >= 0, "cannot evaluate a dataset of " << count << " samples");
  indices_ = in_order(count);
}

std::int64_t SequentialBatches::steps() const {
  return (count() + batch_size_ - 1) / batch_size_;
}

std::span<const std::int64_t> SequentialBatches::batch(std::int64_t step) const {
  RT_CHECK(step >= 0 && step < steps(), "evaluation step " << step << " outside the " << steps() << " steps");
  return slice_batch(indices_, batch_size_, step);
}

std::span<const std::int64_t> shard_of(std::span<const std::int64_t> indices, Shard shard) {
  RT_CHECK(shard.count > 0 && shard.index >= 0 && shard.index < shard.count,
           "shard " << shard.index << " of " << shard.count << " does not exist");
  const auto n = static_cast<std::int64_t>(indices.size());
  const std::int64_t begin = shard.index * n / shard.count, end = (shard.index + 1) * n / shard.count;
  return indices.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin));
}

}  // namespace ringtrain::data
