// ProgressPrinter: the Keras-like lines, plain (one per epoch) and live (rewritten in place), and a live line
// left open by a run that stopped mid-epoch ended before anything else is printed.
#include "core/train/progress.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "core/check.hpp"

namespace ringtrain {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

StepMetrics step(std::int64_t index, std::int64_t steps) {
  StepMetrics metrics;
  metrics.step = index;
  metrics.steps = steps;
  metrics.global_step = index + 1;
  metrics.loss = 0.5;
  metrics.accuracy = 0.875;
  metrics.images_per_second = 1000;
  metrics.elapsed_seconds = 0.1 * static_cast<double>(index + 1);
  return metrics;
}

EpochMetrics epoch_end() {
  EpochMetrics metrics;
  metrics.loss = 0.25;
  metrics.accuracy = 0.9375;
  metrics.val_loss = 0.125;
  metrics.val_accuracy = 0.96875;
  metrics.seconds = 4;
  metrics.steps_run = 40;
  metrics.images_per_second = 1500;
  return metrics;
}

TEST(ProgressPrinter, PlainPrintsOneKerasLinePerEpoch) {
  std::ostringstream out;
  {
    ProgressPrinter printer(out, ProgressStyle::plain);
    printer.on_epoch_begin(0, 2, 0.01);
    for (std::int64_t i = 0; i < 40; ++i)
      printer.on_step_end(step(i, 40));
    printer.on_epoch_end(epoch_end());
  }
  EXPECT_EQ(out.str(),
            "Epoch 1/2 - learning rate 0.01\n"
            "40/40 [==============================] - 4s 100ms/step - 1500 img/s - loss: 0.2500 - accuracy: "
            "0.9375 - val_loss: 0.1250 - val_accuracy: 0.9688\n");
}

TEST(ProgressPrinter, LiveRewritesTheLineAndEndsItAtTheEpochsEnd) {
  std::ostringstream out;
  ProgressPrinter printer(out, ProgressStyle::live);
  printer.on_epoch_begin(0, 1, 0.01);
  printer.on_step_end(step(0, 40));
  EXPECT_THAT(out.str(),
              EndsWith("\r 1/40 [>.............................] - ETA: 4s - 1000 img/s - loss: 0.5000 "
                       "- accuracy: 0.8750\033[K"));
  printer.on_step_end(step(39, 40));  // the last step is always shown
  EXPECT_THAT(out.str(), HasSubstr("\r40/40 [==============================] - ETA: 0s"));
  printer.on_epoch_end(epoch_end());
  EXPECT_THAT(out.str(), EndsWith("val_accuracy: 0.9688\033[K\n"));
}

TEST(ProgressPrinter, AnEpochResumedPartWayTimesOnlyTheStepsThisRunTook) {
  // Resumed at step 30 of 40: 5 steps in 5 s are 1 s a step, so the 5 left take 5 s; the epoch's 10 steps
  // in 2 s are 200 ms a step.
  std::ostringstream out;
  ProgressPrinter printer(out, ProgressStyle::live);
  printer.on_epoch_begin(0, 1, 0.01);
  StepMetrics resumed = step(34, 40);
  resumed.first_step = 30;
  resumed.elapsed_seconds = 5.0;
  printer.on_step_end(resumed);
  EXPECT_THAT(out.str(), HasSubstr(" - ETA: 5s - ")) << out.str();
  EpochMetrics end = epoch_end();
  end.seconds = 2.0;
  end.steps_run = 10;
  printer.on_epoch_end(end);
  EXPECT_THAT(out.str(), HasSubstr("40/40 [==============================] - 2s 200ms/step - 1500 img/s"));
}

// As Keras: a step under a millisecond in microseconds, one of a second or more in seconds.
TEST(ProgressPrinter, StepTimesTakeKerasUnits) {
  std::ostringstream out;
  ProgressPrinter printer(out, ProgressStyle::plain);
  printer.on_epoch_begin(0, 1, 0.01);
  printer.on_step_end(step(39, 40));
  EpochMetrics end = epoch_end();
  end.seconds = 0.014;
  end.steps_run = 40;
  printer.on_epoch_end(end);
  EXPECT_THAT(out.str(), HasSubstr("40/40 [==============================] - 0s 350us/step - 1500 img/s"));
  end.seconds = 60;  // 1.5 s a step
  printer.on_epoch_end(end);
  EXPECT_THAT(out.str(), HasSubstr("40/40 [==============================] - 60s 2s/step - 1500 img/s"));
}

TEST(ProgressPrinter, SilentPrintsNothing) {
  std::ostringstream out;
  {
    ProgressPrinter printer(out, ProgressStyle::silent);
    printer.on_epoch_begin(0, 1, 0.01);
    printer.on_step_end(step(39, 40));
    printer.on_epoch_end(epoch_end());
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressPrinter, ValuesFixedPointCannotShowComeInExponentForm) {
  std::ostringstream out;
  ProgressPrinter printer(out, ProgressStyle::plain);
  EpochMetrics end = epoch_end();
  end.loss = 1.0884117770268157e31;
  end.val_loss = 2.5e-5;
  end.accuracy = 0;
  printer.on_epoch_end(end);
  EXPECT_THAT(out.str(), HasSubstr(" - loss: 1.0884e+31 - accuracy: 0.0000 - val_loss: 2.5000e-05 - "));
}

TEST(ProgressStyleOption, TakesKerasVerboseValues) {
  EXPECT_EQ(progress_style("0", "test"), ProgressStyle::silent);
  EXPECT_EQ(progress_style("1", "test"), ProgressStyle::live);
  EXPECT_EQ(progress_style("2", "test"), ProgressStyle::plain);
  EXPECT_EQ(progress_style("auto", "test"), progress_style_for_stdout());
  try {
    progress_style("3", "config.ini");
    ADD_FAILURE() << "verbose=3 was taken";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("config.ini: verbose=3 is not auto, 0"));
  }
}

TEST(ProgressPrinter, EndLineEndsAnOpenLineOnce) {
  std::ostringstream out;
  ProgressPrinter printer(out, ProgressStyle::live);
  printer.on_epoch_begin(0, 1, 0.01);
  printer.on_step_end(step(0, 40));
  printer.end_line();
  printer.end_line();
  EXPECT_THAT(out.str(), EndsWith("accuracy: 0.8750\033[K\n"));
  EXPECT_THAT(out.str(), ::testing::Not(EndsWith("\n\n")));
}

TEST(ProgressPrinter, ALiveLineLeftOpenIsEndedWhenThePrinterGoes) {
  std::ostringstream out;
  {
    ProgressPrinter printer(out, ProgressStyle::live);
    printer.on_epoch_begin(0, 1, 0.01);
    printer.on_step_end(step(0, 40));
  }
  EXPECT_THAT(out.str(), EndsWith("accuracy: 0.8750\033[K\n"));
  std::ostringstream finished;
  {
    ProgressPrinter printer(finished, ProgressStyle::live);
    printer.on_epoch_begin(0, 1, 0.01);
    printer.on_step_end(step(39, 40));
    printer.on_epoch_end(epoch_end());
  }
  EXPECT_THAT(finished.str(), StartsWith("Epoch 1/1"));
  EXPECT_THAT(finished.str(), EndsWith("\033[K\n")) << "no second line end after a finished epoch";
  EXPECT_THAT(finished.str(), ::testing::Not(EndsWith("\n\n")));
}

}  // namespace
}  // namespace ringtrain
