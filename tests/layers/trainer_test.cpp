// Tests of Trainer on tiny in-memory datasets: fit learns, evaluate counts every sample once, a diverging
// loss stops training with an error naming epoch and step, observers see the schedule's rates in order, and a
// seed makes training bitwise reproducible.
#include "core/train/trainer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/kernels.hpp"
#include "tests/layers/small_training.hpp"
#include "tests/layers/training_run.hpp"

namespace ringtrain {
namespace {

using testing::HasSubstr;

// 4x4 images: label 0 dark (pixels 0..99), label 1 bright (156..255); or pure noise when `noise`.
data::Dataset brightness_dataset(std::int64_t count, std::uint32_t seed, bool noise = false) {
  std::mt19937 generator(seed);
  data::IdxImages images{count, 4, 4, {}};
  data::IdxLabels labels;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::uint8_t label = static_cast<std::uint8_t>(generator() % 2);
    labels.labels.push_back(label);
    for (int p = 0; p < 16; ++p) {
      const auto level = static_cast<std::uint8_t>(generator() % (noise ? 256 : 100));
      images.pixels.push_back(noise || label == 0 ? level : static_cast<std::uint8_t>(level + 156));
    }
  }
  return data::Dataset(std::move(images), std::move(labels));
}

TrainConfig config_with(std::vector<std::string> layers) {
  TrainConfig config;
  config.model.input_shape = {4, 4, 1};
  config.model.layers = std::move(layers);
  config.model.source = "trainer_test";
  config.optimizer.name = "adam";
  config.schedule = {0.05, 1.0};
  config.epochs = 8;
  config.batch_size = 8;
  config.seed = 7;
  return config;
}

const std::vector<std::string> kSoftmaxRegression{"flatten", "dense units=2 activation=softmax"};
const std::vector<std::string> kWithDropout{"flatten", "dense units=8 activation=relu", "dropout 0.5",
                                            "dense units=2 activation=softmax"};

TEST(Trainer, FitLearnsToTellDarkFromBright) {
  TrainingRun run(config_with(kSoftmaxRegression));
  const data::Dataset train = brightness_dataset(64, 1), validation = brightness_dataset(30, 2);
  const auto history = run.trainer->fit(train, validation);
  ASSERT_EQ(history.size(), 8u);
  EXPECT_LT(history.back().loss, 0.5 * history.front().loss);
  EXPECT_GE(history.back().accuracy, 0.95);
  EXPECT_GE(history.back().val_accuracy, 0.95);
  const Evaluation evaluation = run.trainer->evaluate(validation);
  EXPECT_EQ(evaluation.accuracy, history.back().val_accuracy);
  EXPECT_NEAR(evaluation.loss, history.back().val_loss, 1e-12);
}

TEST(Trainer, EvaluateCountsEverySampleOnceWithAPartialLastBatch) {
  TrainConfig config = config_with(kSoftmaxRegression);
  config.batch_size = 3;
  TrainingRun run(config);
  const data::Dataset dataset = brightness_dataset(10, 3, /*noise=*/true);
  const Evaluation evaluation = run.trainer->evaluate(dataset);
  EXPECT_EQ(evaluation.count, 10);

  std::vector<std::int64_t> all(10);
  for (std::int64_t i = 0; i < 10; ++i)
    all[static_cast<std::size_t>(i)] = i;
  Tensor images, labels;
  dataset.gather_batch(all, images, labels);
  const std::vector<float> probabilities = run.model->predict(images).to_vector();
  double loss = 0;
  int correct = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    const int label = dataset.label(static_cast<std::int64_t>(i));
    const int predicted = probabilities[2 * i + 1] > probabilities[2 * i] ? 1 : 0;
    correct += predicted == label;
    loss -= std::log(static_cast<double>(probabilities[2 * i + static_cast<std::size_t>(label)]));
  }
  EXPECT_EQ(evaluation.accuracy, correct / 10.0);
  EXPECT_NEAR(evaluation.loss, loss / 10.0, 1e-5 * loss / 10.0);
}

TEST(Trainer, AfterTheFirstEpochNeitherStepsNorEvaluationsAllocate) {
  // Evaluation's last batch is smaller (70 = 4 x 16 + 6); the layers' buffers shrink for it and grow back for
  // the next step in their own memory, which on the GPU keeps a recorded step valid.
  TrainConfig config = small_batch_norm_config(Device::cpu);
  config.epochs = 1;
  TrainingRun run(config);
  const data::Dataset train = quadrant_dataset(64, 1);
  const data::Dataset validation = quadrant_dataset(70, 2);
  run.trainer->fit(train, validation);
  data::Batch batch;
  const std::vector<std::int64_t> rows{3, 1, 4, 15, 9, 26, 5, 35, 8, 9, 7, 10, 32, 38, 46, 2};
  train.gather_batch(rows, batch.images, batch.labels);
  const std::uint64_t allocations = allocation_count(Device::cpu);
  const Evaluation first = run.trainer->evaluate(validation);
  run.trainer->train_step(batch, 0.01f, 4);
  const Evaluation second = run.trainer->evaluate(validation);
  run.trainer->train_step(batch, 0.01f, 5);
  EXPECT_EQ(allocation_count(Device::cpu), allocations);
  EXPECT_EQ(first.count, 70);
  EXPECT_EQ(second.count, 70);
  EXPECT_NE(first.loss, second.loss);  // the step between them trained
}

TEST(Trainer, DivergingLossStopsWithAnErrorNamingEpochAndStep) {
  TrainConfig config = config_with({"flatten", "dense units=8", "dense units=2 activation=softmax"});
  config.optimizer.name = "sgd";
  config.schedule = {1e30, 1.0};
  TrainingRun run(config);
  const data::Dataset train = brightness_dataset(32, 4), validation = brightness_dataset(8, 5);
  try {
    run.trainer->fit(train, validation);
    ADD_FAILURE() << "fit with lr 1e30 did not stop";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("epoch 1 step "));
    EXPECT_THAT(error.what(), HasSubstr("learning rate"));
  }
}

TEST(Trainer, BatchLargerThanTheDataIsAnError) {
  TrainConfig config = config_with(kSoftmaxRegression);
  config.batch_size = 64;
  TrainingRun run(config);
  const data::Dataset small = brightness_dataset(10, 6);
  EXPECT_THROW(run.trainer->fit(small, small), Error);
}

TEST(Trainer, TheConfigsDeterministicModeReachesTheConvolutions) {
  if (!cuda::built()) GTEST_SKIP() << "built without CUDA: no convolution algorithms to restrict";
  for (const bool deterministic : {false, true}) {
    TrainConfig config = config_with(kSoftmaxRegression);
    config.deterministic = deterministic;
    TrainingRun run(config);
    EXPECT_EQ(cuda::deterministic_convolutions(), deterministic);
  }
}

// Records every callback as text, and the step metrics.
struct Recorder final : TrainingObserver {
  void on_epoch_begin(int epoch, int epochs, double learning_rate) override {
    events.push_back("begin " + std::to_string(epoch) + "/" + std::to_string(epochs) + " lr " +
                     std::to_string(learning_rate));
  }
  void on_step_end(const StepMetrics& m) override {
    events.push_back("step " + std::to_string(m.epoch) + ":" + std::to_string(m.step) + "/" +
                     std::to_string(m.steps));
    last_step = m;
  }
  void on_epoch_end(const EpochMetrics& m) override {
    events.push_back("end " + std::to_string(m.epoch) + " lr " + std::to_string(m.learning_rate));
    EXPECT_EQ(m.loss, last_step.loss);
    EXPECT_EQ(m.accuracy, last_step.accuracy);
  }
  std::vector<std::string> events;
  StepMetrics last_step;
};

TEST(Trainer, ObserversSeeEpochsAndStepsInOrderWithTheScheduledRate) {
  TrainConfig config = config_with(kSoftmaxRegression);
  config.epochs = 3;
  config.batch_size = 6;  // 20 samples: 3 full batches, the remainder dropped
  config.schedule = {0.01, 0.5};
  TrainingRun run(config);
  Recorder recorder;
  run.trainer->add_observer(recorder);
  const data::Dataset train = brightness_dataset(20, 7), validation = brightness_dataset(5, 8);
  const auto history = run.trainer->fit(train, validation);
  std::vector<std::string> expected;
  for (int epoch = 0; epoch < 3; ++epoch) {
    const std::string rate = std::to_string(0.01 * std::pow(0.5, epoch));
    expected.push_back("begin " + std::to_string(epoch) + "/3 lr " + rate);
    for (int step = 0; step < 3; ++step)
      expected.push_back("step " + std::to_string(epoch) + ":" + std::to_string(step) + "/3");
    expected.push_back("end " + std::to_string(epoch) + " lr " + rate);
  }
  EXPECT_EQ(recorder.events, expected);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].learning_rate, config.schedule.at_epoch(2));
}

std::vector<float> trained_values(std::uint64_t seed) {
  TrainConfig config = config_with(kWithDropout);
  config.epochs = 2;
  config.seed = seed;
  TrainingRun run(config);
  const data::Dataset train = brightness_dataset(40, 9), validation = brightness_dataset(8, 10);
  run.trainer->fit(train, validation);
  return run.model->parameters().values().to_vector();
}

TEST(Trainer, SameSeedGivesBitwiseIdenticalParameters) {
  const std::vector<float> first = trained_values(7);
  EXPECT_EQ(trained_values(7), first);
  EXPECT_NE(trained_values(8), first);
}

}  // namespace
}  // namespace ringtrain
