// Tests of exact resume in one process: a run stopped at a step boundary (mid-epoch or at an epoch's end),
// its newest checkpoint loaded into a freshly built model, and training continued, ends with parameters,
// batch-norm statistics and optimizer slots bitwise equal to the run never interrupted. Also the run
// directory: pruning to the newest K, the best copy, and skipping a damaged newest checkpoint.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include <random>
#include <sstream>

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/checkpointer.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/model/model_spec.hpp"
#include "core/train/stop_request.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;

// 12x12 digits: class d is a bright 3x3 square at position d of a 5x2 grid, on noise.
data::Dataset small_digits(std::int64_t count, std::uint32_t seed) {
  std::mt19937 generator(seed);
  data::IdxImages images{count, 12, 12, {}};
  data::IdxLabels labels;
  for (std::int64_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(generator() % 10);
    labels.labels.push_back(static_cast<std::uint8_t>(label));
    const int top = 1 + (label / 5) * 6, left = (label % 5) * 2 + 1;
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x) {
        const bool inside = y >= top && y < top + 3 && x >= left && x < left + 3;
        images.pixels.push_back(static_cast<std::uint8_t>(inside ? 230 : generator() % 80));
      }
  }
  return data::Dataset(std::move(images), std::move(labels));
}

TrainConfig small_config() {
  TrainConfig config;
  config.model.input_shape = {12, 12, 1};
  config.model.layers = {"conv2d filters=4 kernel_size=3 padding=same use_bias=false",
                         "batch_normalization center=true scale=false",
                         "activation relu",
                         "flatten",
                         "dense units=16 use_bias=false",
                         "batch_normalization center=true scale=false",
                         "activation relu",
                         "dropout 0.3",
                         "dense units=10 activation=softmax"};
  config.model.source = "resume_test";
  config.optimizer.name = "adam";
  config.schedule = {0.01, 0.666};
  config.epochs = 3;
  config.batch_size = 16;
  config.seed = 5;
  return config;
}

struct Replica {
  explicit Replica(const TrainConfig& config, std::uint64_t build_seed) : model(make_model(config.model)) {
    model->build(build_seed, config.device);
    optimizer = make_optimizer(config.optimizer, model->parameters(), config.device);
  }
  std::vector<std::vector<float>> everything() {
    auto values = [](const Tensor& t) {
      return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
    };
    std::vector<std::vector<float>> all{values(model->parameters().values())};
    for (const auto& state : model->state())
      all.push_back(values(state.value));
    for (const auto& slot : optimizer->state())
      all.push_back(values(slot.value));
    all.push_back({static_cast<float>(optimizer->steps())});
    return all;
  }
  std::unique_ptr<Sequential> model;
  std::unique_ptr<Optimizer> optimizer;
};

// Requests a stop at the end of global step `at` (counted from 1); the trainer sees it in the next step's
// sums, as it sees a signal that arrives during that step. After an epoch's last step the request would be
// taken at that epoch's end, so it is made as the next epoch begins.
class StopAt final : public TrainingObserver {
 public:
  explicit StopAt(std::int64_t at) : at_(at) {}
  void on_step_end(const StepMetrics& metrics) override {
    if ((metrics.epoch * metrics.steps + metrics.step + 1) != at_) return;
    if (metrics.step + 1 < metrics.steps)
      request_stop();
    else
      at_next_epoch_ = true;
  }
  void on_epoch_begin(int, int, double) override {
    if (at_next_epoch_) request_stop();
    at_next_epoch_ = false;
  }

 private:
  std::int64_t at_;
  bool at_next_epoch_ = false;
};

class Resume : public testing::Test {
 protected:
  void TearDown() override { clear_stop_request(); }

  // Fits `run` from the beginning with a checkpointer of `settings` on one process.
  std::vector<EpochMetrics> fit_with_checkpoints(Replica& run, const TrainConfig& config,
                                                 const CheckpointSettings& settings) {
    auto single = make_single_process_communicator();
    Trainer trainer(*run.model, *run.optimizer, config);
    Checkpointer checkpointer(settings, *run.model, *run.optimizer, "adam", *single);
    trainer.set_boundary_handler(checkpointer);
    return trainer.fit(train_, validation_);
  }

  const data::Dataset train_ = small_digits(16 * 9, 1);  // 9 steps an epoch
  const data::Dataset validation_ = small_digits(37, 2);
  TemporaryDirectory dir_;
};

TEST_F(Resume, StoppedAndResumedAtAnyStepEndsBitwiseEqualToTheUninterruptedRun) {
  const TrainConfig config = small_config();
  Replica whole(config, config.seed);
  Trainer(*whole.model, *whole.optimizer, config).fit(train_, validation_);
  const auto expected = whole.everything();

  for (const std::int64_t stop_after : {1, 4, 9, 10, 17, 25}) {
    SCOPED_TRACE("stopped after step " + std::to_string(stop_after));
    const fs::path run_dir = dir_.path() / ("run-" + std::to_string(stop_after));
    auto single = make_single_process_communicator();
    {
      Replica first(config, config.seed);
      Trainer trainer(*first.model, *first.optimizer, config);
      Checkpointer checkpointer({run_dir, 0, 2, false, "test"}, *first.model, *first.optimizer, "adam",
                                *single);
      if (stop_after == 1) request_stop();
      StopAt stop(stop_after - 1);
      trainer.add_observer(stop);
      trainer.set_boundary_handler(checkpointer);
      trainer.fit(train_, validation_);
      EXPECT_TRUE(trainer.stopped());
      clear_stop_request();
    }
    std::ostringstream report;
    const auto newest = newest_usable_checkpoint(run_dir, "resume", report);
    ASSERT_TRUE(newest.has_value());
    EXPECT_EQ(newest->path, checkpoint_path(run_dir, stop_after));
    const CheckpointInfo& info = newest->info;
    EXPECT_EQ(info.position.global_step, stop_after);
    EXPECT_EQ(info.position.epoch * 9 + info.position.step, stop_after);

    Replica second(config, 1234);  // other initial weights: all must come from the checkpoint
    restore_checkpoint(newest->path, *second.model, second.optimizer.get());
    Trainer trainer(*second.model, *second.optimizer, config);
    CheckpointSettings resumed{run_dir, 0, 2, false, "test"};
    resumed.resuming = true;
    resumed.start_step = info.position.global_step;
    Checkpointer checkpointer(resumed, *second.model, *second.optimizer, "adam", *single);
    trainer.set_boundary_handler(checkpointer);
    trainer.fit(train_, validation_, info.position);
    EXPECT_FALSE(trainer.stopped());
    EXPECT_TRUE(second.everything() == expected);
    EXPECT_EQ(list_checkpoints(run_dir).size(), 2u) << "--keep 2";
  }
}

TEST_F(Resume, TheNewestDamagedCheckpointIsReportedAndThePreviousOneUsed) {
  TrainConfig config = small_config();
  config.epochs = 2;
  Replica run(config, config.seed);
  const auto history = fit_with_checkpoints(run, config, {dir_.path(), 4, 10, true, "test"});
  // Every 4 steps and at both epoch ends: steps 4, 8, 9, 12, 16, 18.
  const auto paths = list_checkpoints(dir_.path());
  ASSERT_EQ(paths.size(), 6u);
  EXPECT_EQ(paths.back(), checkpoint_path(dir_.path(), 18));
  EXPECT_TRUE(fs::exists(best_checkpoint_path(dir_.path())));
  EXPECT_EQ(read_checkpoint(best_checkpoint_path(dir_.path())).val_accuracy,
            std::max(history[0].val_accuracy, history[1].val_accuracy));

  fs::resize_file(paths.back(), fs::file_size(paths.back()) / 3);
  std::ostringstream report;
  const auto usable = newest_usable_checkpoint(dir_.path(), "resume", report);
  ASSERT_TRUE(usable.has_value());
  EXPECT_EQ(usable->path, paths[paths.size() - 2]);
  EXPECT_EQ(usable->info.position.global_step, 16);
  EXPECT_THAT(report.str(), testing::HasSubstr("skipping " + paths.back().string()));
}

TEST_F(Resume, AFreshRunRefusesADirectoryWithCheckpointsAndAResumedOneSetsAsideThosePastItsStart) {
  TrainConfig config = small_config();
  config.epochs = 1;
  Replica run(config, config.seed);
  fit_with_checkpoints(run, config, {dir_.path(), 3, 10, false, "test"});
  auto single = make_single_process_communicator();
  ASSERT_EQ(list_checkpoints(dir_.path()).size(), 3u);  // steps 3, 6 and 9, the epoch's end
  try {
    Checkpointer fresh({dir_.path(), 3, 10, false, "test"}, *run.model, *run.optimizer, "adam", *single);
    FAIL() << "a fresh run took over a directory with checkpoints";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), testing::HasSubstr("--resume auto"));
  }
  CheckpointSettings resumed{dir_.path(), 3, 10, false, "test"};
  resumed.resuming = true;
  resumed.start_step = 3;
  Checkpointer checkpointer(resumed, *run.model, *run.optimizer, "adam", *single);
  EXPECT_EQ(list_checkpoints(dir_.path()), std::vector<fs::path>{checkpoint_path(dir_.path(), 3)});
  int superseded = 0;
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    superseded += entry.path().filename().string().find(".h5.superseded-") != std::string::npos;
  EXPECT_EQ(superseded, 2) << "6 and 9 kept, not deleted";
}

TEST_F(Resume, AFreshRunRefusesADirectoryWithAnotherRunsMetricsOrBestCheckpoint) {
  TrainConfig config = small_config();
  Replica run(config, config.seed);
  auto single = make_single_process_communicator();
  for (const fs::path& earlier : {metrics_path(dir_.path()), best_checkpoint_path(dir_.path())}) {
    SCOPED_TRACE(earlier.string());
    std::ofstream(earlier) << "rows of another run";
    try {
      Checkpointer fresh({dir_.path(), 3, 10, false, "test"}, *run.model, *run.optimizer, "adam", *single);
      FAIL() << "a fresh run took over " << earlier;
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), testing::HasSubstr(earlier.filename().string()));
      EXPECT_THAT(error.what(), testing::HasSubstr("--resume auto, or give this run another --run-dir"));
    }
    fs::remove(earlier);
  }
  EXPECT_NO_THROW(
      Checkpointer({dir_.path(), 3, 10, false, "test"}, *run.model, *run.optimizer, "adam", *single));
}

// Asks for a stop when an epoch's metrics come, after its validation: as a signal during validation does.
class StopAtEpochEnd final : public TrainingObserver {
 public:
  void on_epoch_end(const EpochMetrics&) override { request_stop(); }
};

TEST_F(Resume, AStopDuringValidationStopsAtThatEpochsCheckpoint) {
  TrainConfig config = small_config();
  config.epochs = 3;
  Replica run(config, config.seed);
  auto single = make_single_process_communicator();
  Trainer trainer(*run.model, *run.optimizer, config);
  Checkpointer checkpointer({dir_.path(), 0, 10, false, "test"}, *run.model, *run.optimizer, "adam", *single);
  StopAtEpochEnd stop;
  trainer.add_observer(stop);
  trainer.set_boundary_handler(checkpointer);
  const auto history = trainer.fit(train_, validation_);
  EXPECT_TRUE(trainer.stopped());
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(list_checkpoints(dir_.path()), std::vector<fs::path>{checkpoint_path(dir_.path(), 9)})
      << "no step of the next epoch, and no second checkpoint";
}

TEST_F(Resume, ADamagedBestCheckpointIsSetAsideWithAWarning) {
  TrainConfig config = small_config();
  config.epochs = 1;
  Replica run(config, config.seed);
  fit_with_checkpoints(run, config, {dir_.path(), 0, 10, true, "test"});
  const fs::path best = best_checkpoint_path(dir_.path());
  fs::resize_file(best, fs::file_size(best) / 2);
  auto single = make_single_process_communicator();
  CheckpointSettings resumed{dir_.path(), 0, 10, true, "test"};
  resumed.resuming = true;
  resumed.start_step = 9;  // the epoch's end
  std::ostringstream warnings;
  {
    // std::clog into `warnings` while the checkpointer is made, however that ends.
    struct Redirect {
      std::streambuf* kept;
      ~Redirect() { std::clog.rdbuf(kept); }
    } redirect{std::clog.rdbuf(warnings.rdbuf())};
    Checkpointer checkpointer(resumed, *run.model, *run.optimizer, "adam", *single);
  }
  EXPECT_THAT(warnings.str(), testing::HasSubstr("it is kept as " + best.string() + ".damaged-"));
  EXPECT_FALSE(fs::exists(best));
  int damaged = 0;
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    damaged += entry.path().filename().string().starts_with("best.h5.damaged-");
  EXPECT_EQ(damaged, 1);
}

TEST_F(Resume, AnEmptyRunDirectoryHasNoCheckpoint) {
  std::ostringstream report;
  EXPECT_FALSE(newest_usable_checkpoint(dir_.path(), "resume", report).has_value());
  EXPECT_FALSE(newest_usable_checkpoint(dir_.path() / "absent", "resume", report).has_value());
}

}  // namespace
}  // namespace ringtrain
