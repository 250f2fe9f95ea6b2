// Slow: the batch-norm convolutional network (experiment 9) reaches 99% in 3 epochs on 2 threads, its
// process staying under 300 MB of resident memory; and in 3 epochs on the GPU, where one is usable.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "core/cuda/cuda_runtime.hpp"
#include "tests/integration/cli_fixtures.hpp"

namespace ringtrain::integration {
namespace {

// Three epochs sit close to 99% for a faithful implementation, so the seed is fixed and the spread is on
// record: after 3 epochs, seeds 2-6 reached 0.9916, 0.9900, 0.9903, 0.9915 and 0.9878 (batch-norm sums in
// float64; before them seeds 1-5 gave 0.9909-0.9917 and seed 42 0.9896); PyTorch training the same model with
// the same settings reached 0.9926 and 0.9877 for its seeds 0 and 1.
TEST(TrainSlow, BatchNormReaches99PercentInThreeEpochs) {
  std::string why;
  const auto mnist = real_mnist_dir(why);
  if (!mnist) GTEST_SKIP() << why;
  const auto result =
      run_ringtrain({"train", "--config", experiment("09_batch_norm.ini"), "--data", mnist->string(),
                     "--epochs", "3", "--threads", "2", "--seed", "1", "--device", "cpu"},
                    std::chrono::seconds(1800));
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  const auto final_line = parse_final_line(last_line(result.out));
  ASSERT_TRUE(final_line.has_value()) << result.describe();
  EXPECT_EQ(final_line->epochs, 3);
  EXPECT_GE(final_line->val_accuracy, 0.99) << result.describe();
  // The training process is this test's only child: its peak resident memory, in KiB.
  rusage children{};
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &children), 0);
  EXPECT_LT(children.ru_maxrss, 300 * 1024) << "peak resident memory of train, KiB";
}

// The same on the GPU (batch 64, cuDNN restricted to deterministic algorithms, steps replayed as graphs).
TEST(TrainSlow, BatchNormReaches99PercentInThreeEpochsOnTheGpu) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no usable GPU: " << cuda::describe();
  std::string why;
  const auto mnist = real_mnist_dir(why);
  if (!mnist) GTEST_SKIP() << why;
  const auto result = run_ringtrain({"train", "--config", experiment("09_batch_norm.ini"), "--data",
                                     mnist->string(), "--epochs", "3", "--seed", "1", "--device", "cuda"},
                                    std::chrono::seconds(600));
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  const auto final_line = parse_final_line(last_line(result.out));
  ASSERT_TRUE(final_line.has_value()) << result.describe();
  EXPECT_EQ(final_line->epochs, 3);
  EXPECT_GE(final_line->val_accuracy, 0.99) << result.describe();
}

}  // namespace
}  // namespace ringtrain::integration
