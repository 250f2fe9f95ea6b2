// MetricsFile: the rows it writes, the rows a resumed run keeps, and what it does with a file it cannot use
// (permissions: permissions_test.cpp).
#include "core/checkpoint/metrics_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/check.hpp"
#include "core/checkpoint/hdf5_file.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;
using ::testing::HasSubstr;

// Two epochs of four steps, a row every second step.
void write_two_epochs(MetricsFile& metrics) {
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (std::int64_t step = 0; step < 4; ++step) {
      StepMetrics row;
      row.epoch = epoch;
      row.step = step;
      row.steps = 4;
      row.global_step = epoch * 4 + step + 1;
      row.loss = 1.0 / static_cast<double>(row.global_step);
      metrics.on_step_end(row);
    }
    EpochMetrics end;
    end.epoch = epoch;
    end.val_accuracy = 0.5 + epoch * 0.25;
    metrics.on_epoch_end(end);
  }
}

int entries_starting_with(const fs::path& directory, const std::string& prefix) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(directory))
    count += entry.path().filename().string().starts_with(prefix) ? 1 : 0;
  return count;
}

TEST(MetricsFile, HoldsTheSampledStepsAndEveryEpoch) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "metrics.h5";
  {
    MetricsFile metrics(path, 2, TrainingPosition{});
    write_two_epochs(metrics);
  }
  const Hdf5File file = Hdf5File::open_for_reading(path);
  EXPECT_EQ(file.read_doubles("steps/global_step").values, (std::vector<double>{2, 4, 6, 8}));
  EXPECT_EQ(file.read_doubles("steps/loss").values, (std::vector<double>{0.5, 0.25, 1.0 / 6, 0.125}));
  EXPECT_EQ(file.read_doubles("epochs/val_accuracy").values, (std::vector<double>{0.5, 0.75}));
}

TEST(MetricsFile, AResumedRunKeepsOnlyTheRowsUpToItsPosition) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "metrics.h5";
  {
    MetricsFile metrics(path, 2, TrainingPosition{});
    write_two_epochs(metrics);
  }
  TrainingPosition resumed;  // the second epoch's first step taken
  resumed.epoch = 1;
  resumed.step = 1;
  resumed.global_step = 5;
  { MetricsFile metrics(path, 2, resumed); }
  const Hdf5File file = Hdf5File::open_for_reading(path);
  EXPECT_EQ(file.read_doubles("steps/global_step").values, (std::vector<double>{2, 4}));
  EXPECT_EQ(file.read_doubles("epochs/epoch").values, (std::vector<double>{0}));
}

TEST(MetricsFile, ADamagedFileIsSetAsideAndANewOneBegun) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "metrics.h5";
  std::ofstream(path) << "not an HDF5 file";
  {
    MetricsFile metrics(path, 1, TrainingPosition{});
    write_two_epochs(metrics);
  }
  EXPECT_EQ(entries_starting_with(dir.path(), "metrics.h5.damaged-"), 1);
  EXPECT_EQ(Hdf5File::open_for_reading(path).read_doubles("epochs/epoch").values,
            (std::vector<double>{0, 1}));
}

TEST(MetricsFile, ADirectoryOfThatNameIsAnErrorAndStaysWhereItIs) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "metrics.h5";
  fs::create_directory(path);
  try {
    MetricsFile metrics(path, 1, TrainingPosition{});
    FAIL() << "a directory was taken for metrics.h5";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path.string() + " is not a regular file"));
  }
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(entries_starting_with(dir.path(), "metrics.h5"), 1);
}

}  // namespace
}  // namespace ringtrain
