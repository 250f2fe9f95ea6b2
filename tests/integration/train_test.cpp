// Training experiment 1 with the real ringtrain binary on the real MNIST: the final line, the CSV, the
// accuracy the codelab's settings reach, bench's output, determinism for a fixed seed, and a process started
// alone that never starts MPI.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/data/idx_test_files.hpp"
#include "tests/integration/cli_fixtures.hpp"
#include "tests/scoped_environment.hpp"

namespace ringtrain::integration {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;

const std::string kExperiment1 = experiment("01_dense_softmax.ini");

class TrainExperiment1 : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    const auto dir = real_mnist_dir(why);
    if (!dir) GTEST_SKIP() << why;
    mnist_ = dir->string();
  }

  // Runs train on experiment 1 with `extra` flags; expects exit 0 and a well-formed final line.
  FinalLine train(const std::vector<std::string>& extra) {
    std::vector<std::string> arguments{"train", "--config", kExperiment1, "--data", mnist_};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    const auto result = run_ringtrain(arguments);
    last_ = result;
    EXPECT_TRUE(result.exited && result.exit_code == 0) << result.describe();
    const auto final_line = parse_final_line(last_line(result.out));
    EXPECT_TRUE(final_line.has_value())
        << "last line '" << last_line(result.out)
        << "' is not 'final val_accuracy=<x> val_loss=<y> epochs=<n> seconds=<s>'; " << result.describe();
    return final_line.value_or(FinalLine{});
  }

  std::string mnist_;
  CommandResult last_;
  TemporaryDirectory dir_;
};

TEST_F(TrainExperiment1, TwoEpochsWriteFinalLineAndCsv) {
  const fs::path csv = dir_.path() / "history.csv";
  const FinalLine final_line = train({"--epochs", "2", "--csv", csv.string()});
  EXPECT_EQ(final_line.epochs, 2);
  EXPECT_GT(final_line.seconds, 0.0);
  // The codelab's settings (SGD lr 0.01, batch 128) reach 0.861 after 2 epochs in a PyTorch reference run.
  EXPECT_GE(final_line.val_accuracy, 0.85) << last_.describe();
  EXPECT_GT(final_line.val_loss, 0.0);
  EXPECT_LT(final_line.val_loss, 1.0);

  ASSERT_TRUE(fs::exists(csv));
  const auto lines = split_lines(read_text(csv));
  ASSERT_EQ(lines.size(), 3u) << read_text(csv);
  EXPECT_EQ(lines[0], "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds");
  for (std::size_t row = 1; row < lines.size(); ++row) {
    std::vector<double> values;
    std::istringstream in(lines[row]);
    std::string field;
    while (std::getline(in, field, ','))
      values.push_back(std::stod(field));
    ASSERT_EQ(values.size(), 7u) << lines[row];
    EXPECT_EQ(values[0], static_cast<double>(row - 1)) << lines[row];
    EXPECT_GT(values[1], 0.0) << lines[row];           // loss
    EXPECT_GT(values[2], 0.5) << lines[row];           // accuracy
    EXPECT_GE(values[4], 0.80) << lines[row];          // val_accuracy
    EXPECT_NEAR(values[5], 0.01, 1e-9) << lines[row];  // lr, no decay
    EXPECT_GE(values[6], 0.0) << lines[row];           // seconds
    if (row == 2) {
      EXPECT_NEAR(values[4], final_line.val_accuracy, 5e-5) << lines[row];
      EXPECT_NEAR(values[3], final_line.val_loss, 5e-5) << lines[row];
    }
  }
}

TEST_F(TrainExperiment1, TwoEpochsAtATenTimesLargerRateReach90Percent) {
  // At the codelab's rate (0.01) a faithful SGD needs about 10 epochs for 90% (above: 0.86 after 2, as
  // PyTorch gives). Ten times the rate gets there in 2 epochs: PyTorch 0.9070 and 0.9074 (seeds 0, 1);
  // ringtrain 0.9072-0.9078 (seeds 1-3).
  const FinalLine final_line = train({"--epochs", "2", "--lr", "0.1"});
  EXPECT_EQ(final_line.epochs, 2);
  EXPECT_GE(final_line.val_accuracy, 0.90) << last_.describe();
}

TEST_F(TrainExperiment1, TenEpochsReachCodelabAccuracy) {
  // The PyTorch reference of the same settings gives 0.8986 after 10 epochs.
  const FinalLine final_line = train({});
  EXPECT_EQ(final_line.epochs, 10);
  EXPECT_GE(final_line.val_accuracy, 0.895) << last_.describe();
}

TEST_F(TrainExperiment1, SameSeedGivesSameResult) {
  const FinalLine first = train({"--epochs", "1", "--seed", "7"});
  const FinalLine second = train({"--epochs", "1", "--seed", "7"});
  EXPECT_EQ(first.accuracy_text, second.accuracy_text);
  EXPECT_EQ(first.loss_text, second.loss_text);
}

TEST_F(TrainExperiment1, AProcessStartedAloneTrainsWithoutStartingMpi) {
  // An MPI that cannot start (its components not found) would end the run in MPI_Init.
  const ScopedEnvironment broken_mpi("OMPI_MCA_mca_base_component_path", "/nonexistent");
  const FinalLine final_line = train({"--epochs", "1"});
  EXPECT_FALSE(final_line.accuracy_text.empty());
}

TEST_F(TrainExperiment1, BenchPrintsPositiveRates) {
  const auto result = run_ringtrain({"bench", "--config", kExperiment1, "--data", mnist_, "--steps", "20"});
  ASSERT_TRUE(result.exited) << result.describe();
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const auto bench = find_bench_line(result.out);
  ASSERT_TRUE(bench.has_value()) << "no line 'bench img_per_s=<x> ms_per_step=<y>'; " << result.describe();
  EXPECT_GT(bench->images_per_second, 0.0);
  EXPECT_GT(bench->ms_per_step, 0.0);
  // One dense layer of 784 x 10, the first trained one (no input gradient): 2 x 7840 multiply-adds a sample,
  // 2 operations each, 128 samples a step.
  double gflop_per_step = 0, gflop_per_s = 0;
  const auto line = result.out.find("bench gflop_per_step=");
  ASSERT_NE(line, std::string::npos) << result.describe();
  ASSERT_EQ(std::sscanf(result.out.c_str() + line, "bench gflop_per_step=%lf gflop_per_s=%lf",
                        &gflop_per_step, &gflop_per_s),
            2);
  EXPECT_NEAR(gflop_per_step, 2.0 * 2 * 7840 * 128 / 1e9, 1e-6);
  // Against the image rate, which is printed with more significant digits than the step time.
  EXPECT_NEAR(gflop_per_s, gflop_per_step * bench->images_per_second / 128, 0.01 * gflop_per_s);
}

}  // namespace
}  // namespace ringtrain::integration
