// Tests of the epoch permutation, the shuffled batch sampler and the in-order evaluation batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/check.hpp"
#include "core/data/sampler.hpp"
#include "core/rng.hpp"

namespace ringtrain::data {
namespace {

std::vector<std::int64_t> sorted(std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  return values;
}

std::vector<std::int64_t> iota_vector(std::int64_t count) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(count));
  std::iota(values.begin(), values.end(), std::int64_t{0});
  return values;
}

TEST(EpochPermutation, HoldsEverySampleExactlyOnce) {
  for (std::int64_t count : {0, 1, 2, 7, 1000}) {
    EXPECT_EQ(sorted(epoch_permutation(count, 42, 3)), iota_vector(count)) << "count " << count;
  }
}

TEST(EpochPermutation, DependsOnlyOnSeedAndEpoch) {
  const auto order = epoch_permutation(1000, 42, 3);
  EXPECT_EQ(epoch_permutation(1000, 42, 3), order);
  EXPECT_NE(epoch_permutation(1000, 42, 4), order);
  EXPECT_NE(epoch_permutation(1000, 43, 3), order);
  EXPECT_NE(order, iota_vector(1000));
}

TEST(EpochPermutation, IsFisherYatesDrivenByPhiloxWords) {
  const Philox generator(7, RandomStream::shuffle, 2);
  std::vector<std::int64_t> expected = iota_vector(50);
  for (std::uint64_t i = 49; i >= 1; --i) {
    const std::uint64_t random = std::uint64_t{generator.word(0, 2 * i)} << 32 | generator.word(0, 2 * i + 1);
    std::swap(expected[i], expected[random % (i + 1)]);
  }
  EXPECT_EQ(epoch_permutation(50, 7, 2), expected);
}

TEST(EpochSampler, BatchesCoverThePermutationInOrder) {
  EpochSampler sampler(103, 10, 5, Remainder::keep);
  ASSERT_EQ(sampler.steps_per_epoch(), 11);
  for (std::int64_t epoch : {0, 1, 0}) {
    std::vector<std::int64_t> concatenated;
    for (std::int64_t step = 0; step < sampler.steps_per_epoch(); ++step) {
      const auto batch = sampler.batch(epoch, step);
      EXPECT_EQ(batch.size(), step < 10 ? 10u : 3u);
      concatenated.insert(concatenated.end(), batch.begin(), batch.end());
    }
    EXPECT_EQ(concatenated, epoch_permutation(103, 5, epoch)) << "epoch " << epoch;
  }
}

TEST(EpochSampler, DroppingTheRemainderLeavesOnlyFullBatches) {
  EpochSampler sampler(103, 10, 5, Remainder::drop);
  ASSERT_EQ(sampler.steps_per_epoch(), 10);
  const auto permutation = epoch_permutation(103, 5, 0);
  for (std::int64_t step = 0; step < 10; ++step) {
    const auto batch = sampler.batch(0, step);
    ASSERT_EQ(batch.size(), 10u);
    EXPECT_TRUE(std::equal(batch.begin(), batch.end(), permutation.begin() + step * 10));
  }
  EXPECT_THROW(sampler.batch(0, 10), ringtrain::Error);
  EXPECT_EQ(EpochSampler(100, 10, 5, Remainder::drop).steps_per_epoch(), 10);
  EXPECT_EQ(EpochSampler(100, 10, 5, Remainder::keep).steps_per_epoch(), 10);
  EXPECT_THROW(EpochSampler(5, 10, 5, Remainder::drop), ringtrain::Error);
  EXPECT_EQ(EpochSampler(5, 10, 5, Remainder::keep).steps_per_epoch(), 1);
}

TEST(SequentialBatches, GoInOrderWithAPartialLastBatch) {
  const SequentialBatches batches(25, 10);
  ASSERT_EQ(batches.steps(), 3);
  std::vector<std::int64_t> concatenated;
  for (std::int64_t step = 0; step < batches.steps(); ++step) {
    const auto batch = batches.batch(step);
    concatenated.insert(concatenated.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(batches.batch(2).size(), 5u);
  EXPECT_EQ(concatenated, iota_vector(25));
  EXPECT_EQ(SequentialBatches(30, 10).steps(), 3);
  EXPECT_EQ(SequentialBatches(0, 10).steps(), 0);
}

}  // namespace
}  // namespace ringtrain::data
