// Tests of the NCCL communicator on CUDA tensors: sums of awkward sizes, in buckets, of float64, recorded in
// a CUDA graph between other work, and broadcasts, read back to the host; and the GPU trainer with it. They
// need one GPU per rank and skip cleanly where there is none or the build has no CUDA.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <string>

#include "core/comm/gradient_buckets.hpp"
#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/model/model_spec.hpp"
#include "distributed/nccl_communicator.hpp"
#include "tests/layers/small_training.hpp"
#include "tests/layers/training_run.hpp"
#include "tests/reference/support.hpp"

namespace ringtrain {
namespace {

// dense, batch norm, dense on the GPU: the batch norm's input gradient is needed, so both of its sums run.
std::unique_ptr<Sequential> batch_norm_model() {
  ModelSpec spec;
  spec.input_shape = {4};
  spec.layers = {"dense units=6", "batch_normalization", "dense units=3"};
  auto model = make_model(spec);
  model->build(5, Device::cuda);
  return model;
}

// Logits and every parameter gradient of the training pass last run, in host memory.
std::vector<float> pass_results(Sequential& model, const Tensor& logits) {
  std::vector<float> results = logits.to(Device::cpu).to_vector();
  const std::vector<float> gradients = model.parameters().gradients().to(Device::cpu).to_vector();
  results.insert(results.end(), gradients.begin(), gradients.end());
  return results;
}

class NcclCommunicatorTest : public testing::Test {
 protected:
  void SetUp() override {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!nccl_built()) GTEST_SKIP() << "this build has no CUDA backend";
    if (cuda::device_count() < size)
      GTEST_SKIP() << cuda::device_count() << " usable GPU(s) for " << size
                   << " rank(s): " << cuda::describe();
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

  // Elements of `gpu` that differ from `factor` times the sum over ranks of on_gpu's values.
  std::int64_t wrong_sums(const Tensor& gpu, float factor = 1) const {
    const int ranks = communicator_->size();
    const Tensor host = gpu.to(Device::cpu);
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < host.numel(); ++i)
      wrong += host.data<float>()[i] != factor * static_cast<float>(ranks * (ranks + 1) / 2 * (i % 13 + 1));
    return wrong;
  }

  std::unique_ptr<Communicator> communicator_;
};

TEST_F(NcclCommunicatorTest, SumsAwkwardSizes) {
  for (const std::int64_t count :
       {std::int64_t{1}, std::int64_t{3}, std::int64_t{65537}, std::int64_t{(1 << 20) + 7}}) {
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

// As a training step is recorded: work before the sums, bucketed sums started from the end, work after them,
// all in one CUDA graph (the NCCL stream joins the recording and must leave it), replayed twice.
TEST_F(NcclCommunicatorTest, BucketedSumsRecordedInACudaGraphReplayBetweenTheWorkAroundThem) {
  const std::int64_t count = 50021;
  const int ranks = communicator_->size();
  Tensor gradients = on_gpu(count, communicator_->rank());
  GradientBuckets buckets(*communicator_, gradients, 4096);
  float* values = gradients.data<float>();
  Tensor first =
      on_gpu(8, communicator_->rank());  // as a training step's first run, an eager sum comes first
  communicator_->sum(first);
  cuda::CapturedWork step;
  step.capture([&] {
    cuda::scale(values, values, 2.0f, static_cast<std::size_t>(count));
    for (std::int64_t offset = count; offset > 0; offset -= 10000)
      buckets.ready_from(offset);
    buckets.finish();
    cuda::scale(values, values, 3.0f, static_cast<std::size_t>(count));
  });
  ASSERT_TRUE(step.captured());
  // NCCL's in-place sum over one rank is no work at all (no node); over several it is a kernel.
  if (ranks > 1) {
    EXPECT_GT(step.node_count(), 2u) << "the sums are not in the graph";
  }
  EXPECT_EQ(gradients.to(Device::cpu).to_vector(),
            on_gpu(count, communicator_->rank()).to(Device::cpu).to_vector())
      << "recording ran the work";
  step.replay();  // x -> 6 * (sum of x)
  EXPECT_EQ(wrong_sums(gradients, 6), 0);
  step.replay();
  EXPECT_EQ(wrong_sums(gradients, 36.0f * static_cast<float>(ranks)), 0);
}

// A recording that fails after its first sums started (a kernel error, a failing layer): the sums' stream
// joins back before the recording ends, so the error is the step's own and both streams work afterwards,
// eagerly and in a new recording.
TEST_F(NcclCommunicatorTest, ARecordingThatFailsAfterItsSumsStartedLeavesBothStreamsUsable) {
  const std::int64_t count = 30011;
  Tensor gradients = on_gpu(count, communicator_->rank());
  GradientBuckets buckets(*communicator_, gradients, 4096);
  float* values = gradients.data<float>();
  Tensor first = on_gpu(8, communicator_->rank());
  communicator_->sum(first);
  cuda::CapturedWork step;
  try {
    step.capture([&] {
      try {
        buckets.ready_from(count / 2);
        RT_FAIL("a layer failed halfway through backward");
      } catch (...) {
        buckets.abandon();
        throw;
      }
    });
    FAIL() << "the recording did not fail";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("a layer failed halfway"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(step.captured());
  buckets.finish();  // eagerly
  EXPECT_EQ(wrong_sums(gradients), 0);
  gradients.copy_from(on_gpu(count, communicator_->rank()));
  step.capture([&] {
    buckets.ready_from(count / 2);
    buckets.finish();
    cuda::scale(values, values, 2.0f, static_cast<std::size_t>(count));
  });
  ASSERT_TRUE(step.captured());
  step.replay();
  EXPECT_EQ(wrong_sums(gradients, 2), 0);
}

TEST_F(NcclCommunicatorTest, SumsFloat64) {
  const std::int64_t count = 1001;
  const int ranks = communicator_->size();
  Tensor host = Tensor::empty({count}, DType::f64);
  for (std::int64_t i = 0; i < count; ++i)  // beyond float32's 24 bits, exact in float64
    host.data<double>()[i] = (communicator_->rank() + 1) * (1e10 + static_cast<double>(i));
  Tensor buffer = host.to(Device::cuda);
  communicator_->sum(buffer);
  const Tensor summed = buffer.to(Device::cpu);
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < count; ++i)
    wrong += summed.data<double>()[i] != ranks * (ranks + 1) / 2 * (1e10 + static_cast<double>(i));
  EXPECT_EQ(wrong, 0);
}

// The GPU trainer with NCCL at world size 1 (its gradient sums recorded in each step's graph) trains exactly
// as it does alone. NCCL's in-place sum over one rank is no work, so the graphs cannot tell the two apart.
TEST_F(NcclCommunicatorTest, TheGpuTrainerWithItAtWorldSizeOneTrainsAsAlone) {
  if (communicator_->size() != 1) GTEST_SKIP() << "compares with one process training alone";
  const data::Dataset train = quadrant_dataset(200, 1), validation = quadrant_dataset(70, 2);
  TrainingRun alone(small_batch_norm_config(Device::cuda));
  TrainingRun with_nccl(small_batch_norm_config(Device::cuda), communicator_.get());
  const auto alone_history = alone.trainer->fit(train, validation);
  const auto nccl_history = with_nccl.trainer->fit(train, validation);
  ASSERT_EQ(nccl_history.size(), alone_history.size());
  EXPECT_EQ(nccl_history.back().loss, alone_history.back().loss);
  EXPECT_EQ(nccl_history.back().val_accuracy, alone_history.back().val_accuracy);
  EXPECT_EQ(with_nccl.parameters(), alone.parameters());
  EXPECT_GT(with_nccl.trainer->step_graph_nodes(), 0u) << "the step with NCCL in it was not recorded";
}

// Synchronised batch norm on the GPU sums its statistics through NCCL (float64 forward, float32 backward),
// eagerly and recorded in a CUDA graph: at world size 1 it computes what the layer computes alone.
TEST_F(NcclCommunicatorTest, SynchronisedBatchNormSumsItsStatisticsThroughItOnTheGpu) {
  if (communicator_->size() != 1) GTEST_SKIP() << "compares with the layer alone";
  const Tensor x = reference::random_tensor({8, 4}, 1).to(Device::cuda),
               dlogits = reference::random_tensor({8, 3}, 2).to(Device::cuda);
  StepContext alone_context;
  alone_context.mode = Mode::train;
  StepContext synchronised_context = alone_context;
  synchronised_context.batch_statistics = communicator_.get();
  auto alone = batch_norm_model(), synchronised = batch_norm_model();
  Tensor logits = alone->forward_logits(x, alone_context);
  alone->backward(dlogits, alone_context);
  const std::vector<float> expected = pass_results(*alone, logits);

  logits = synchronised->forward_logits(x, synchronised_context);
  synchronised->backward(dlogits, synchronised_context);
  EXPECT_EQ(pass_results(*synchronised, logits), expected);

  // Cleared, so that only the replay can bring the results back.
  logits.fill_zero();
  synchronised->parameters().gradients().fill_zero();
  cuda::CapturedWork step;
  step.capture([&] {
    logits = synchronised->forward_logits(x, synchronised_context);
    synchronised->backward(dlogits, synchronised_context);
  });
  step.replay();
  EXPECT_EQ(pass_results(*synchronised, logits), expected) << "replayed";
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
