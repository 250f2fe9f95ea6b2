// Tests of the NCCL communicator on CUDA tensors: sums of awkward sizes, in buckets, and broadcasts, read
// back to the host. They need one GPU per rank and skip cleanly where there is none or the build has no CUDA.
#include <gtest/gtest.h>
#include <mpi.h>

#include "core/comm/gradient_buckets.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "distributed/nccl_communicator.hpp"

namespace ringtrain {
namespace {

class NcclCommunicatorTest : public testing::Test {
 protected:
  void SetUp() override {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!nccl_built()) GTEST_SKIP() << "this build has no CUDA backend";
    if (cuda::device_count() < size)
      GTEST_SKIP() << cuda::device_count() << " usable GPU(s) for " << size << " rank(s): " << cuda::describe();
    NcclSettings settings;
    settings.device = rank;
    communicator_ = make_nccl_communicator(MPI_COMM_WORLD, settings);
  }

  // Rank `rank`'s element i: small integers, so that sums are exact in float.
  static Tensor on_gpu(std::int64_t count, int rank) {
    std::vector<float> values(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i)
      values[static_cast<std::size_t>(i)] = static_cast<float>((rank + 1) * (i % 13 + 1));
    return Tensor::from_vector({count}, values).to(Device::cuda);
  }

  // Elements of `gpu` that differ from the sum over ranks of on_gpu's values.
  std::int64_t wrong_sums(const Tensor& gpu) const {
    const int ranks = communicator_->size();
    const Tensor host = gpu.to(Device::cpu);
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < host.numel(); ++i)
      wrong += host.data<float>()[i] != static_cast<float>(ranks * (ranks + 1) / 2 * (i % 13 + 1));
    return wrong;
  }

  std::unique_ptr<Communicator> communicator_;
};

TEST_F(NcclCommunicatorTest, SumsAwkwardSizes) {
  for (const std::int64_t count : {std::int64_t{1}, std::int64_t{3}, std::int64_t{65537}, std::int64_t{(1 << 20) + 7}}) {
    Tensor buffer = on_gpu(count, communicator_->rank());
    communicator_->sum(buffer);
    EXPECT_EQ(wrong_sums(buffer), 0) << count << " elements";
  }
}

TEST_F(NcclCommunicatorTest, SumsInBucketsStartedFromTheEnd) {
  const std::int64_t count = 100003;
  Tensor gradients = on_gpu(count, communicator_->rank());
  GradientBuckets buckets(*communicator_, gradients, 4096);
  for (std::int64_t offset = count; offset > 0; offset -= 20000)
    buckets.ready_from(offset);
  buckets.finish();
  EXPECT_EQ(wrong_sums(gradients), 0);
}

TEST_F(NcclCommunicatorTest, BroadcastsFromRankZeroAndSumsScalarsOverMpi) {
  Tensor buffer = on_gpu(4099, communicator_->rank());
  communicator_->broadcast(buffer, 0);
  const Tensor host = buffer.to(Device::cpu);
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < host.numel(); ++i)
    wrong += host.data<float>()[i] != static_cast<float>(i % 13 + 1);
  EXPECT_EQ(wrong, 0);
  std::vector<double> values{1.0};
  communicator_->sum(values);
  EXPECT_EQ(values[0], communicator_->size());
  communicator_->barrier();
}

TEST_F(NcclCommunicatorTest, RefusesHostTensors) {
  Tensor host = Tensor::zeros({4});
  EXPECT_THROW(communicator_->sum(host), Error);
}

}  // namespace
}  // namespace ringtrain
