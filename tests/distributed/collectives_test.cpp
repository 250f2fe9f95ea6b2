// Tests of the MPI communicator under mpirun: sums and broadcasts of awkward sizes, sums started bucket by
// bucket as backward would start them, scalar sums, gathers, and the replica checksum, against values every
// rank can compute for every other rank.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/comm/agreement.hpp"
#include "core/comm/gradient_buckets.hpp"
#include "core/comm/replicas.hpp"
#include "core/model/parameter_store.hpp"
#include "tests/distributed/world_communicator.hpp"

namespace ringtrain {
namespace {

using testing_support::world_communicator;

const std::vector<std::int64_t> kAwkwardSizes{1, 3, 1000, 65537, (1 << 20) + 7};

// Rank `rank`'s element i: a small integer, so that sums in float are exact whatever their order.
float integer_value(int rank, std::int64_t i) {
  return static_cast<float>((rank + 1) * (i % 13 + 1));
}

// Rank `rank`'s random element i, the same on every rank that asks.
std::vector<float> random_values(int rank, std::int64_t count) {
  std::mt19937 generator(static_cast<std::uint32_t>(1000 + rank));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& value : values)
    value = uniform(generator);
  return values;
}

Tensor filled(std::int64_t count, float (*value)(int, std::int64_t), int rank) {
  Tensor tensor = Tensor::empty({count});
  for (std::int64_t i = 0; i < count; ++i)
    tensor.data<float>()[i] = value(rank, i);
  return tensor;
}

TEST(MpiCommunicator, RunsOnSeveralProcesses) {
  EXPECT_GE(world_communicator().size(), 2) << "run this test under mpirun -np 2 or more";
}

TEST(MpiCommunicator, SumsIntegersExactlyForAwkwardSizes) {
  Communicator& communicator = world_communicator();
  const int ranks = communicator.size();
  for (const std::int64_t count : kAwkwardSizes) {
    Tensor buffer = filled(count, integer_value, communicator.rank());
    communicator.sum(buffer);
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < count; ++i)
      wrong += buffer.data<float>()[i] != static_cast<float>(ranks * (ranks + 1) / 2 * (i % 13 + 1));
    EXPECT_EQ(wrong, 0) << "of " << count << " elements";
  }
}

TEST(MpiCommunicator, SumsRandomFloatsToTheDoubleSum) {
  Communicator& communicator = world_communicator();
  for (const std::int64_t count : kAwkwardSizes) {
    const auto mine = random_values(communicator.rank(), count);
    Tensor buffer = Tensor::from_vector({count}, mine);
    communicator.sum(buffer);
    std::vector<double> expected(static_cast<std::size_t>(count), 0.0);
    for (int rank = 0; rank < communicator.size(); ++rank) {
      const auto theirs = random_values(rank, count);
      for (std::size_t i = 0; i < expected.size(); ++i)
        expected[i] += theirs[i];
    }
    double worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i)
      worst = std::max(worst, std::abs(buffer.data<float>()[i] - expected[i]));
    EXPECT_LE(worst, 1e-6 * communicator.size()) << "of " << count << " elements";
  }
}

TEST(MpiCommunicator, BroadcastsFromEveryRoot) {
  Communicator& communicator = world_communicator();
  for (int root = 0; root < communicator.size(); ++root) {
    for (const std::int64_t count : {std::int64_t{1}, std::int64_t{4099}}) {
      Tensor buffer = filled(count, integer_value, communicator.rank());
      communicator.broadcast(buffer, root);
      std::int64_t wrong = 0;
      for (std::int64_t i = 0; i < count; ++i)
        wrong += buffer.data<float>()[i] != integer_value(root, i);
      EXPECT_EQ(wrong, 0) << "root " << root << ", " << count << " elements";
    }
  }
}

TEST(MpiCommunicator, RefusesTensorsOfOtherTypesNamingThem) {
  Tensor integers = Tensor::zeros({4}, DType::i32);
  try {
    world_communicator().sum(integers);  // every rank throws before any collective starts
    FAIL() << "an int32 sum was accepted";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), testing::HasSubstr("MPI communicator takes float32 or float64 cpu tensors"));
    EXPECT_THAT(error.what(), testing::HasSubstr("int32"));
  }
}

// Buckets started in the order backward finishes gradients (from the end of the buffer), in uneven steps.
TEST(GradientBuckets, SumTheWholeBufferOverRanksWithSeveralBuckets) {
  Communicator& communicator = world_communicator();
  const int ranks = communicator.size();
  const std::int64_t count = 10007;
  for (const std::int64_t bucket_elements :
       {std::int64_t{1}, std::int64_t{7}, std::int64_t{1000}, count * 2}) {
    Tensor gradients = filled(count, integer_value, communicator.rank());
    GradientBuckets buckets(communicator, gradients, bucket_elements);
    EXPECT_EQ(buckets.bucket_count(),
              static_cast<std::size_t>((count + bucket_elements - 1) / bucket_elements));
    for (std::int64_t offset = count; offset > 0; offset -= 1234)
      buckets.ready_from(offset);
    buckets.finish();
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < count; ++i)
      wrong += gradients.data<float>()[i] != static_cast<float>(ranks * (ranks + 1) / 2 * (i % 13 + 1));
    EXPECT_EQ(wrong, 0) << "bucket size " << bucket_elements;
    // The buckets are reusable for the next step.
    for (std::int64_t i = 0; i < count; ++i)
      gradients.data<float>()[i] = 1.0f;
    buckets.finish();
    EXPECT_EQ(gradients.data<float>()[count - 1], static_cast<float>(ranks));
    EXPECT_EQ(gradients.data<float>()[0], static_cast<float>(ranks));
  }
}

TEST(MpiCommunicator, SumsScalarsAndGathersValuesInRankOrder) {
  Communicator& communicator = world_communicator();
  const int ranks = communicator.size();
  std::vector<double> values{1.0, static_cast<double>(communicator.rank()), 1e15 + communicator.rank()};
  communicator.sum(values);
  EXPECT_EQ(values[0], ranks);
  EXPECT_EQ(values[1], ranks * (ranks - 1) / 2);
  EXPECT_EQ(values[2], 1e15 * ranks + ranks * (ranks - 1) / 2);
  const auto gathered =
      communicator.all_gather(std::uint64_t{100} + static_cast<std::uint64_t>(communicator.rank()));
  ASSERT_EQ(gathered.size(), static_cast<std::size_t>(ranks));
  for (int rank = 0; rank < ranks; ++rank)
    EXPECT_EQ(gathered[static_cast<std::size_t>(rank)],
              std::uint64_t{100} + static_cast<std::uint64_t>(rank));
}

TEST(Replicas, BroadcastMakesEveryRankAgreeAndADriftedRankIsNamed) {
  Communicator& communicator = world_communicator();
  ParameterStore store;
  store.declare("dense/kernel", {5, 3}, Initializer::glorot_uniform);
  store.declare("dense/bias", {3}, Initializer::zeros);
  store.allocate(Device::cpu);
  store.initialize(static_cast<std::uint64_t>(communicator.rank()));  // every rank different
  broadcast_parameters(store, communicator);
  EXPECT_NO_THROW(check_replicas_agree(store, {}, communicator, "after the broadcast"));

  if (communicator.rank() == communicator.size() - 1) store.values().data<float>()[4] += 1e-6f;
  // Every rank ends, agreed; rank 0 alone holds the error to report.
  try {
    check_replicas_agree(store, {}, communicator, "after a drift");
    ADD_FAILURE() << "a drifted replica went unnoticed";
  } catch (const AgreedFailure& failure) {
    ASSERT_EQ(failure.cause() != nullptr, communicator.rank() == 0);
    if (failure.cause() == nullptr) return;
    try {
      std::rethrow_exception(failure.cause());
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), testing::HasSubstr("differ between rank 0 and rank " +
                                                   std::to_string(communicator.size() - 1)));
      EXPECT_THAT(error.what(), testing::HasSubstr("after a drift"));
    }
  }
}

}  // namespace
}  // namespace ringtrain
