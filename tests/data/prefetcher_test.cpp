// Tests of BatchPrefetcher: the same batches as gathering directly, worker errors rethrown, early shutdown.
#include <gtest/gtest.h>

#include "core/check.hpp"
#include "core/data/prefetcher.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain::data {
namespace {

Dataset small_dataset(std::int64_t count) {
  IdxLabels labels;
  for (std::int64_t index = 0; index < count; ++index)
    labels.labels.push_back(static_cast<std::uint8_t>(index % 10));
  return Dataset(testing::patterned_images(count, 4, 3), std::move(labels));
}

template <typename T>
void expect_same_tensor_values(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  const std::vector<T> actual_values(actual.data<T>(), actual.data<T>() + actual.numel());
  const std::vector<T> expected_values(expected.data<T>(), expected.data<T>() + expected.numel());
  EXPECT_EQ(actual_values, expected_values);
}

void expect_batches_match_direct_gathering(Remainder remainder, std::int64_t first_epoch) {
  const Dataset dataset = small_dataset(37);
  EpochSampler sampler(dataset.count(), 8, 11, remainder);
  EpochSampler reference_sampler = sampler;
  BatchPrefetcher prefetcher(dataset, sampler, first_epoch, 0);
  for (std::int64_t epoch = first_epoch; epoch < first_epoch + 2; ++epoch) {
    for (std::int64_t step = 0; step < sampler.steps_per_epoch(); ++step) {
      const Batch& batch = prefetcher.next();
      EXPECT_EQ(batch.epoch, epoch);
      EXPECT_EQ(batch.step, step);
      Tensor images;
      Tensor labels;
      dataset.gather_batch(reference_sampler.batch(epoch, step), images, labels);
      expect_same_tensor_values<float>(batch.images, images);
      expect_same_tensor_values<std::int32_t>(batch.labels, labels);
    }
  }
}

TEST(BatchPrefetcher, GivesTheSameBatchesAsDirectGatheringDroppingTheRemainder) {
  expect_batches_match_direct_gathering(Remainder::drop, 0);
}

TEST(BatchPrefetcher, GivesTheSameBatchesAsDirectGatheringKeepingThePartialBatch) {
  expect_batches_match_direct_gathering(Remainder::keep, 3);
}

TEST(BatchPrefetcher, StartsAtTheGivenStep) {
  const Dataset dataset = small_dataset(40);
  EpochSampler sampler(dataset.count(), 10, 1, Remainder::drop);
  BatchPrefetcher prefetcher(dataset, sampler, 2, 3);
  const Batch& last_of_epoch = prefetcher.next();
  EXPECT_EQ(last_of_epoch.epoch, 2);
  EXPECT_EQ(last_of_epoch.step, 3);
  const Batch& first_of_next = prefetcher.next();
  EXPECT_EQ(first_of_next.epoch, 3);
  EXPECT_EQ(first_of_next.step, 0);
}

TEST(BatchPrefetcher, RethrowsTheWorkersError) {
  const Dataset dataset = small_dataset(10);
  EpochSampler sampler_of_a_larger_dataset(20, 20, 1, Remainder::drop);
  BatchPrefetcher prefetcher(dataset, sampler_of_a_larger_dataset, 0, 0);
  EXPECT_THROW(prefetcher.next(), ringtrain::Error);
}

TEST(BatchPrefetcher, DestructionAtAnyPointDoesNotHang) {
  const Dataset dataset = small_dataset(64);
  EpochSampler sampler(dataset.count(), 4, 9, Remainder::drop);
  for (int calls_before_destruction = 0; calls_before_destruction < 40; ++calls_before_destruction) {
    BatchPrefetcher prefetcher(dataset, sampler, 0, 0);
    for (int call = 0; call < calls_before_destruction % 5; ++call)
      prefetcher.next();
  }
  EXPECT_THROW(
      {
        BatchPrefetcher prefetcher(dataset, sampler, 0, 0);
        prefetcher.next();
        throw ringtrain::Error("leaving mid-epoch");
      },
      ringtrain::Error);
}

}  // namespace
}  // namespace ringtrain::data
