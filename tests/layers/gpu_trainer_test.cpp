// Training on the GPU as fit does it there (datasets on the GPU, batches gathered by a kernel, steps replayed
// as a CUDA graph, sums read every few steps), against the same training eagerly and on the CPU: the graph
// changes no bit, reading less often changes no count, and the CPU's curve is matched within float
// tolerance (the dropout masks are the same bits on both). Skipped where no GPU is usable; on the CPU only
// the refusal of a GPU-only call runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/cuda/cuda_runtime.hpp"
#include "core/train/trainer.hpp"
#include "tests/layers/small_training.hpp"
#include "tests/layers/training_run.hpp"

namespace ringtrain {
namespace {

using testing::HasSubstr;

class GpuTraining : public testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no usable GPU: " << cuda::describe();
  }

  const data::Dataset train_ = quadrant_dataset(200, 1);  // 12 steps of 16, 8 samples dropped per epoch
  const data::Dataset validation_ = quadrant_dataset(70, 2);
};

TEST_F(GpuTraining, GraphReplaysGiveTheEagerStepsBitForBit) {
  TrainConfig eager_config = small_batch_norm_config(Device::cuda);
  eager_config.cuda_graph = false;
  TrainingRun eager(eager_config);
  TrainingRun graphed(small_batch_norm_config(Device::cuda));
  const auto eager_history = eager.trainer->fit(train_, validation_);
  const auto graphed_history = graphed.trainer->fit(train_, validation_);
  ASSERT_EQ(graphed_history.size(), eager_history.size());
  for (std::size_t e = 0; e < eager_history.size(); ++e) {
    EXPECT_EQ(graphed_history[e].loss, eager_history[e].loss) << "epoch " << e;
    EXPECT_EQ(graphed_history[e].val_accuracy, eager_history[e].val_accuracy) << "epoch " << e;
  }
  EXPECT_EQ(graphed.parameters(), eager.parameters());
  EXPECT_GT(graphed.trainer->step_graph_nodes(), 20u);  // at least a kernel per layer and direction
  EXPECT_EQ(eager.trainer->step_graph_nodes(), 0u);
  // Evaluations (a smaller last batch of 70 = 4 x 16 + 6) between the epochs leave the recording valid.
  EXPECT_EQ(graphed.trainer->step_recordings(), 1u);
  EXPECT_EQ(eager.trainer->step_recordings(), 0u);
  EXPECT_GE(graphed_history.back().val_accuracy, 0.9);
}

// Convolution biases (forward and gradient) and max pooling inside the recorded step. With cuDNN free to
// choose any algorithm, the ones it picks may add in a different order at every call (atomics), so eager and
// replayed steps agree closely but need not be bit for bit.
TEST_F(GpuTraining, GraphReplaysRecordConvolutionBiasesAndMaxPooling) {
  for (const bool deterministic : {true, false}) {
    SCOPED_TRACE(deterministic ? "deterministic" : "any cuDNN algorithm");
    TrainConfig eager_config = small_convolutional_config(Device::cuda);
    eager_config.cuda_graph = false;
    eager_config.deterministic = deterministic;
    TrainConfig graphed_config = small_convolutional_config(Device::cuda);
    graphed_config.deterministic = deterministic;
    TrainingRun eager(eager_config), graphed(graphed_config);
    const auto eager_history = eager.trainer->fit(train_, validation_);
    const auto graphed_history = graphed.trainer->fit(train_, validation_);
    EXPECT_EQ(graphed.trainer->step_recordings(), 1u);
    ASSERT_EQ(graphed_history.size(), eager_history.size());
    for (std::size_t e = 0; e < eager_history.size(); ++e) {
      if (deterministic) {
        EXPECT_EQ(graphed_history[e].loss, eager_history[e].loss) << "epoch " << e;
      } else {
        EXPECT_NEAR(graphed_history[e].loss, eager_history[e].loss, 1e-3 * eager_history[e].loss)
            << "epoch " << e;
      }
    }
    if (deterministic) {
      EXPECT_EQ(graphed.parameters(), eager.parameters());
    }
    EXPECT_GE(graphed_history.back().val_accuracy, 0.9);
  }
}

TEST_F(GpuTraining, ReadingEveryFewStepsCountsTheSame) {
  TrainConfig every_step = small_batch_norm_config(Device::cuda);
  every_step.gpu_read_every = 1;
  TrainConfig every_fifth = small_batch_norm_config(Device::cuda);
  every_fifth.gpu_read_every = 5;
  TrainingRun one(every_step), five(every_fifth);
  const auto one_history = one.trainer->fit(train_, validation_);
  const auto five_history = five.trainer->fit(train_, validation_);
  ASSERT_EQ(five_history.size(), one_history.size());
  for (std::size_t e = 0; e < one_history.size(); ++e) {
    EXPECT_EQ(five_history[e].accuracy, one_history[e].accuracy) << "epoch " << e;
    EXPECT_NEAR(five_history[e].loss, one_history[e].loss, 1e-12 * one_history[e].loss) << "epoch " << e;
  }
  EXPECT_EQ(five.parameters(), one.parameters());
}

TEST_F(GpuTraining, FollowsTheCpusCurve) {
  TrainingRun cpu(small_batch_norm_config(Device::cpu)), gpu(small_batch_norm_config(Device::cuda));
  EXPECT_EQ(gpu.parameters(), cpu.parameters()) << "initialization differs";
  const auto cpu_history = cpu.trainer->fit(train_, validation_);
  const auto gpu_history = gpu.trainer->fit(train_, validation_);
  ASSERT_EQ(gpu_history.size(), cpu_history.size());
  for (std::size_t e = 0; e < cpu_history.size(); ++e) {
    SCOPED_TRACE("epoch " + std::to_string(e));
    EXPECT_NEAR(gpu_history[e].loss, cpu_history[e].loss, 1e-3 * cpu_history[e].loss);
    EXPECT_NEAR(gpu_history[e].val_loss, cpu_history[e].val_loss, 1e-3 * cpu_history[e].val_loss);
    EXPECT_NEAR(gpu_history[e].val_accuracy, cpu_history[e].val_accuracy, 2.0 / 70);
  }
  // Adam divides each step by the gradient's own size, so a parameter whose gradient is mostly cancellation
  // can move by up to the rate on last-bit differences: a failure here says how many and how far, to tell
  // that from a wrong kernel (which moves the loss too).
  const std::vector<float> on_cpu = cpu.parameters(), on_gpu = gpu.parameters();
  double worst = 0, difference_squares = 0, cpu_squares = 0;
  std::size_t worst_at = 0, beyond = 0;
  for (std::size_t i = 0; i < on_cpu.size(); ++i) {
    const double difference = std::abs(static_cast<double>(on_gpu[i]) - on_cpu[i]);
    if (difference > worst) {
      worst = difference;
      worst_at = i;
    }
    beyond += difference > 1e-3;
    difference_squares += difference * difference;
    cpu_squares += static_cast<double>(on_cpu[i]) * on_cpu[i];
  }
  EXPECT_LE(worst, 1e-3) << beyond << " of " << on_cpu.size() << " parameters differ by more; the worst, "
                         << worst_at << ", is " << on_gpu[worst_at] << " on the GPU and " << on_cpu[worst_at]
                         << " on the CPU; relative L2 distance "
                         << std::sqrt(difference_squares / cpu_squares);
}

TEST_F(GpuTraining, StepsOnTheGpuAreFitsSteps) {
  TrainConfig one_epoch = small_batch_norm_config(Device::cuda);
  one_epoch.epochs = 1;
  TrainingRun fitted(one_epoch), whole(one_epoch), split(one_epoch);
  const auto history = fitted.trainer->fit(train_, validation_);
  const StepResult all = whole.trainer->train_steps_on_gpu(train_, 0, 12, 0.01f);
  const StepResult first = split.trainer->train_steps_on_gpu(train_, 0, 5, 0.01f);
  const StepResult rest = split.trainer->train_steps_on_gpu(train_, 5, 7, 0.01f);
  EXPECT_EQ(all.count, 12 * 16);
  EXPECT_EQ(first.count + rest.count, all.count);
  EXPECT_EQ(first.correct + rest.correct, all.correct);
  EXPECT_NEAR(all.loss_sum / static_cast<double>(all.count), history.front().loss, 1e-12);
  EXPECT_EQ(whole.parameters(), fitted.parameters());
  EXPECT_EQ(split.parameters(), fitted.parameters());

  // Between two calls the model predicts 3 images: its buffers change size, so the graph recorded before
  // must not be replayed (it would write freed memory); the steps are still the same.
  TrainingRun interrupted(one_epoch);
  interrupted.trainer->train_steps_on_gpu(train_, 0, 5, 0.01f);
  Tensor images, labels;
  const std::vector<std::int64_t> three{0, 1, 2};
  validation_.gather_batch(three, images, labels);
  EXPECT_EQ(interrupted.model->predict(images).dim(0), 3);
  interrupted.trainer->train_steps_on_gpu(train_, 5, 7, 0.01f);
  EXPECT_EQ(interrupted.parameters(), fitted.parameters());
}

TEST_F(GpuTraining, DivergingLossNamesTheStepsReadTogether) {
  TrainConfig config = small_batch_norm_config(Device::cuda);
  config.schedule = {1e30, 1.0};
  config.gpu_read_every = 4;
  TrainingRun run(config);
  try {
    run.trainer->fit(train_, validation_);
    FAIL() << "a diverging loss did not stop training";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("the loss became"));
    EXPECT_THAT(error.what(), HasSubstr("at epoch 1 in steps"));
  }
}

TEST(GpuTrainingOnTheCpu, StepsOnTheGpuRefuseACpuModel) {
  TrainingRun run(small_batch_norm_config(Device::cpu));
  try {
    run.trainer->train_steps_on_gpu(quadrant_dataset(40, 3), 0, 2, 0.01f);
    FAIL() << "train_steps_on_gpu ran a CPU model";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("the model is on the CPU"));
  }
}

}  // namespace
}  // namespace ringtrain
