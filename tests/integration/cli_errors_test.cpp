// The ringtrain binary on bad input: every mistake ends with exit code 1 or 2 (never a signal) and one clear
// message naming the file, the field and the value; and --help, summary on the happy path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/checkpoint/run_directory.hpp"
#include "core/data/mnist.hpp"
#include "tests/data/idx_test_files.hpp"
#include "tests/integration/cli_fixtures.hpp"
#include "tests/scoped_environment.hpp"

namespace ringtrain::integration {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;

const std::string kExperiment1 = experiment("01_dense_softmax.ini");

// A valid experiment-1-like config (no optimizer or lr keys) with `layers` and then `extra`.
std::string config_text(
    const std::string& layers = "layer = flatten\nlayer = dense units=10 activation=softmax\n",
    const std::string& extra = "") {
  return "name = test\ninput-shape = 28,28,1\n" + layers + "batch-size = 16\nepochs = 1\n" + extra;
}

// Expects a clean failure: exited (not a signal) with 1 or 2, a ringtrain error (not an internal one) whose
// output contains every one of `fragments`.
void expect_failure(const CommandResult& result, const std::vector<std::string>& fragments,
                    int expected_code = 1) {
  ASSERT_TRUE(result.exited) << result.describe();
  EXPECT_EQ(result.exit_code, expected_code) << result.describe();
  EXPECT_NE(result.err.find("ringtrain: error:"), std::string::npos) << result.describe();
  EXPECT_EQ(result.output().find("internal error"), std::string::npos) << result.describe();
  for (const auto& fragment : fragments) {
    EXPECT_NE(result.output().find(fragment), std::string::npos)
        << "expected the output to mention '" << fragment << "'; " << result.describe();
  }
}

class CliErrors : public ::testing::Test {
 protected:
  // Writes config_text(...) to a file in the temp dir and returns its path.
  std::string write_config(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    write_text(path, text);
    return path.string();
  }
  fs::path path(const std::string& name) const { return dir_.path() / name; }

  TemporaryDirectory dir_;
};

TEST_F(CliErrors, SrunTasksWithoutMpiWireUpAreRefused) {
  // What srun --mpi=none leaves a task: its step's task count, no PMIx or PMI variables.
  const ScopedEnvironment srun_task("SLURM_STEP_NUM_TASKS", "2");
  expect_failure(run_ringtrain({"train", "--config", kExperiment1}), {"one of 2 tasks", "srun --mpi=pmix"});
}

TEST_F(CliErrors, MissingConfigFileIsNamed) {
  const std::string missing = path("no-such-config.ini").string();
  expect_failure(run_ringtrain({"train", "--config", missing}), {"config file", missing});
  expect_failure(run_ringtrain({"summary", "--config", missing}), {"config file", missing});
  expect_failure(run_ringtrain({"summary", "--config", path("").string()}), {"is a directory"});
}

TEST_F(CliErrors, UnknownLayerTypeNamesFileLayerAndType) {
  const auto config =
      write_config("bad_layer.ini", config_text("layer = flatten\nlayer = dense_layer units=10\n"));
  for (const char* command : {"summary", "train"}) {
    expect_failure(run_ringtrain({command, "--config", config}),
                   {config, "layer 2", "unknown layer type", "dense_layer"});
  }
}

TEST_F(CliErrors, UnknownConfigKeyNamesFileAndKey) {
  const auto config = write_config("bad_key.ini", config_text() + "epochz = 3\n");
  expect_failure(run_ringtrain({"train", "--config", config}), {config, "epochz"});
}

TEST_F(CliErrors, AValueOfTheWrongTypeNamesItsLineAndWhatTheOptionTakes) {
  const auto words = write_config("words.ini", config_text() + "seed = ten\n");
  expect_failure(run_ringtrain({"summary", "--config", words}),
                 {words + ":7:", "('ten')", "seed takes a whole number"});
  // A comment after a value is not one: ';' is no comment mark, and '#' only starts a line's comment.
  const auto commented = write_config(
      "commented.ini", config_text("", "lr = 0.1 ; slower\n") + "layer = flatten\nlayer = dense units=10\n");
  expect_failure(run_ringtrain({"summary", "--config", commented}),
                 {commented + ":5:", "('0.1 ; slower')", "lr takes a number"});
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--batch-size", "1.5"}),
                 {"command line:", "('1.5')", "batch-size takes a whole number"});
}

TEST_F(CliErrors, BenchStepsAndAReportWithoutARunSayWhatToGive) {
  expect_failure(run_ringtrain({"bench", "--config", kExperiment1, "--steps", "0"}),
                 {"command line: steps=0 must be at least 1"});
  expect_failure(run_ringtrain({"bench", "--config", kExperiment1, "--warmup", "-1"}),
                 {"command line: warmup=-1 must be 0 or more"});
  fs::create_directories(path("empty-run"));
  expect_failure(run_ringtrain({"report", path("empty-run").string()}),
                 {"metrics.h5 is missing", "holds no training run's metrics", "train with --run-dir"});
}

TEST_F(CliErrors, AKeyWrittenWithUnderscoresIsAnsweredWithItsDashedName) {
  const auto config = write_config("underscore.ini", config_text() + "learning_rate = 3\nbatch_size = 3\n");
  const CommandResult unknown = run_ringtrain({"summary", "--config", config});
  expect_failure(unknown, {config, "'learning_rate'"});
  EXPECT_EQ(unknown.err.find("did you mean"), std::string::npos) << "no such option with dashes either";
  const auto dashed = write_config("dashed.ini", config_text() + "batch_size = 3\n");
  expect_failure(run_ringtrain({"summary", "--config", dashed}),
                 {dashed, "'batch_size' (did you mean batch-size?)"});
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--lr_decay", "0.5"}),
                 {"'--lr_decay' (did you mean --lr-decay?)"});
}

TEST_F(CliErrors, ConfigLineWithoutKeyNamesFileAndLine) {
  const auto config = write_config("no_key.ini", config_text() + "= 0.666\n");
  expect_failure(run_ringtrain({"train", "--config", config}), {config + ":", "'= 0.666'", "no key"});
}

TEST_F(CliErrors, AFileThatIsNoConfigFileIsRefusedWithoutEchoingIt) {
  // A binary file, a huge line, a huge file: each named with its line, none echoed back.
  const auto binary = write_config("binary.ini", config_text() + std::string("x = \0\x7f", 6) + "\n");
  expect_failure(run_ringtrain({"summary", "--config", binary}),
                 {binary + ":7:", "NUL byte", "not a text file"});
  const auto long_line =
      write_config("long_line.ini", config_text() + "name = " + std::string(5000, 'n') + "\n");
  const CommandResult long_result = run_ringtrain({"summary", "--config", long_line});
  expect_failure(long_result, {long_line + ":7:", "a line of 5007 characters", "more than the 4096"});
  EXPECT_LT(long_result.output().size(), 1000u) << long_result.describe();
  std::string huge_text = config_text();
  while (huge_text.size() <= (1u << 20))
    huge_text += "# " + std::string(1000, 'c') + "\n";
  const auto huge = write_config("huge.ini", huge_text);
  const CommandResult huge_result = run_ringtrain({"summary", "--config", huge});
  expect_failure(huge_result, {huge + ": more than 1048576 bytes"});
  EXPECT_LT(huge_result.output().size(), 1000u) << huge_result.describe();
}

TEST_F(CliErrors, LayerThatCannotTakeItsInputNamesFileAndLayer) {
  const auto config = write_config("unflattened.ini", config_text("layer = dense units=10\n"));
  expect_failure(run_ringtrain({"summary", "--config", config}),
                 {config + ": layer 1: ", "flat input", "(28, 28, 1)", "flatten"});
}

TEST_F(CliErrors, AModelTooLargeForMemoryIsAnErrorNamingTheFile) {
  // 784 x 4e9 weights: 12.5 TB of parameters.
  const auto config =
      write_config("huge.ini", config_text("layer = flatten\nlayer = dense units=4000000000\n"));
  expect_failure(run_ringtrain({"summary", "--config", config}), {config + ": ", "do not fit in memory"});
  // Refused as the weights are declared, before the batch norm after them allocates its statistics.
  const auto with_batch_norm = write_config(
      "huge_bn.ini",
      config_text("layer = flatten\nlayer = dense units=2000000000\nlayer = batch_normalization\n"));
  expect_failure(run_ringtrain({"summary", "--config", with_batch_norm}, std::chrono::seconds(20)),
                 {with_batch_norm + ": ", "dense/kernel", "do not fit in memory"});
}

// Flags override the config file, layers too: --layer flags are the whole model, not layers added to the
// file's, and errors in them are the command line's.
TEST_F(CliErrors, LayerFlagsReplaceTheConfigFilesLayers) {
  const CommandResult replaced = run_ringtrain({"summary", "--config", kExperiment1, "--layer", "flatten",
                                                "--layer", "dense units=32 activation=relu"});
  ASSERT_TRUE(replaced.exited && replaced.exit_code == 0) << replaced.describe();
  EXPECT_NE(replaced.out.find("Total params: 25,120"), std::string::npos) << replaced.describe();
  EXPECT_EQ(replaced.out.find("flatten_1"), std::string::npos) << replaced.describe();
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--layer", "flatten", "--layer",
                                "dense units=10 activatio=softmax"}),
                 {"command line: layer 2 'dense units=10 activatio=softmax'"});
  // Without the flags, the file's layers.
  const CommandResult from_file = run_ringtrain({"summary", "--config", kExperiment1});
  EXPECT_NE(from_file.out.find("Total params: 7,850"), std::string::npos) << from_file.describe();
}

// Warnings go to standard error: what a command prints on standard output (a summary, predictions) stays
// clean to pipe on.
TEST_F(CliErrors, TheThreadsWarningIsOnStandardError) {
  const CommandResult result = run_ringtrain({"summary", "--config", kExperiment1, "--threads", "1024"});
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_NE(result.err.find("ringtrain: warning: 1024 threads"), std::string::npos) << result.describe();
  EXPECT_EQ(result.out.find("warning"), std::string::npos) << result.describe();
  EXPECT_EQ(result.out.rfind("Model: \"dense_softmax\"", 0), 0u) << result.describe();
}

// A word that follows no option taking a value is an error, not dropped: --keep-best false would keep
// best.h5.
TEST_F(CliErrors, AStrayArgumentIsRefused) {
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "banana"}),
                 {"command line: unexpected argument 'banana'"});
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--run-dir", path("run").string(),
                                "--keep-best", "false"}),
                 {"command line: unexpected argument 'false'", "switches take none"});
  EXPECT_FALSE(fs::exists(path("run")));
}

// What other INI dialects allow: a byte-order mark is read past; ; comments and sections are refused by line.
TEST_F(CliErrors, ConfigFilesFromOtherIniDialects) {
  const auto with_mark = write_config("mark.ini", "\xEF\xBB\xBF" + config_text());
  const CommandResult marked = run_ringtrain({"summary", "--config", with_mark});
  EXPECT_TRUE(marked.exited && marked.exit_code == 0) << marked.describe();
  const auto semicolon = write_config("semicolon.ini", "; my notes\n" + config_text());
  expect_failure(run_ringtrain({"summary", "--config", semicolon}),
                 {semicolon + ":1: '; my notes': comments start with #, not ;"});
  const auto sections = write_config("sections.ini", "[model]\n" + config_text());
  expect_failure(run_ringtrain({"summary", "--config", sections}),
                 {sections + ":1: '[model]': a config file has no sections"});
  const auto commented =
      write_config("commented.ini", "# my notes\n" + config_text() + "lr = 0.05 # faster\n");
  const CommandResult comments = run_ringtrain({"summary", "--config", commented});
  EXPECT_TRUE(comments.exited && comments.exit_code == 0) << comments.describe();
}

// A model that does not fit an input shape given as a flag names the flag along with the file.
TEST_F(CliErrors, AnInputShapeFlagIsNamedWithTheModelsFile) {
  expect_failure(
      run_ringtrain({"summary", "--config", experiment("07_convolutional.ini"), "--input-shape", "32,32,1"}),
      {experiment("07_convolutional.ini") + " (with input-shape 32,32,1 from the command line): layer 1"});
}

// The test-only failure injection names a rank the run has, or it would silently fail nowhere.
TEST_F(CliErrors, AFailRankOutsideTheRunIsRefused) {
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--fail-at-step", "3"}),
                 {"--fail-rank 1 is no rank of this run's 1 process(es)"});
}

TEST_F(CliErrors, UnknownCommandLineOptionIsNamed) {
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--epochz", "3"}), {"epochz", "--help"});
}

TEST_F(CliErrors, UnknownLayerOptionNamesLayerAndOption) {
  const auto config =
      write_config("bad_option.ini", config_text("layer = flatten\nlayer = dense units=10 unitz=3\n"));
  expect_failure(run_ringtrain({"summary", "--config", config}),
                 {config, "layer 2", "unknown option", "unitz=3"});
}

TEST_F(CliErrors, NegativeLearningRate) {
  // `--lr=-1` on the command line and `lr = -1` in a config file reach the range check.
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--lr=-1"}), {"lr=-1", "positive"});
  const auto config = write_config("negative_lr.ini", config_text() + "lr = -1\n");
  expect_failure(run_ringtrain({"summary", "--config", config}), {config, "lr=-1", "positive"});
}

TEST_F(CliErrors, LrMinusOneAsSeparateArgumentReachesTheRangeCheck) {
  // What a user types: `--lr -1`. The error should say that lr must be positive, not that a value is missing.
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--lr", "-1"}), {"lr=-1", "positive"});
}

TEST_F(CliErrors, CollectiveTimeoutMustBeFromOneSecondToADay) {
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--collective-timeout", "0"}),
                 {"collective-timeout=0", "from 1 to 86400 seconds"});
}

TEST_F(CliErrors, LockWaitMustBeSecondsUpToADay) {
  expect_failure(
      run_ringtrain({"train", "--config", kExperiment1, "--run-dir", "unused", "--lock-wait", "-1"}),
      {"lock-wait=-1", "from 0 to 86400"});
}

TEST_F(CliErrors, BucketSizeMustBeFromOneKibTo1Tib) {
  for (const std::string kib : {"0", "9223372036854775807"}) {
    expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--bucket-kib", kib}),
                   {"command line: bucket-kib=" + kib, "must be from 1 to 1073741824 (1 TiB)"});
  }
}

TEST_F(CliErrors, TrainsOwnFlagsGivenToSummaryOrBenchAreRefused) {
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--run-dir", path("run").string()}),
                 {"--run-dir is train's: summary does not use it"});
  expect_failure(run_ringtrain({"bench", "--config", kExperiment1, "--csv", path("rows.csv").string()}),
                 {"--csv is train's: bench does not use it"});
  expect_failure(run_ringtrain({"bench", "--config", kExperiment1, "--fail-at-step", "3"}),
                 {"--fail-at-step injects failures into train: bench does not use it"});
  EXPECT_FALSE(fs::exists(path("run")));
  // In a config file they are the run's settings, which summary reads along with the model.
  const auto config = write_config("with_run_dir.ini", config_text() + "keep = 5\n");
  EXPECT_EQ(run_ringtrain({"summary", "--config", config}).exit_code, 0);
}

TEST_F(CliErrors, MomentumWithAdamWouldDoNothingAndIsRefused) {
  expect_failure(run_ringtrain({"summary", "--config", experiment("03_relu_adam.ini"), "--momentum", "0.9"}),
                 {"momentum=0.9 is SGD's", "the optimizer is adam", "--optimizer sgd"});
  const auto accepted = run_ringtrain(
      {"summary", "--config", experiment("03_relu_adam.ini"), "--momentum", "0.9", "--optimizer", "sgd"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.describe();
}

TEST_F(CliErrors, WarmupWithoutLinearScalingWouldDoNothingAndIsRefused) {
  expect_failure(run_ringtrain({"summary", "--config", kExperiment1, "--warmup-epochs", "2"}),
                 {"warmup-epochs=2", "lr-scaling linear", "lr-scaling is none"});
  const auto accepted =
      run_ringtrain({"summary", "--config", kExperiment1, "--warmup-epochs", "2", "--lr-scaling", "linear"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.describe();
}

TEST_F(CliErrors, RunDirectoryOptionsWithoutARunDirectoryAreRefused) {
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--keep", "5"}),
                 {"command line: keep", "--run-dir"});
  const auto config = write_config("every.ini", config_text() + "checkpoint-every = 10\n");
  expect_failure(run_ringtrain({"train", "--config", config}), {config + ": checkpoint-every", "--run-dir"});
}

TEST_F(CliErrors, AnEmptyPathIsRefusedRatherThanIgnored) {
  for (const std::string option : {"--resume", "--data"}) {
    expect_failure(run_ringtrain({"train", "--config", kExperiment1, option, ""}),
                   {"command line: " + option.substr(2) + " is empty"});
  }
}

TEST_F(CliErrors, ZeroBatchSize) {
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--batch-size", "0"}),
                 {"batch-size=0", "at least 1"});
}

TEST_F(CliErrors, NonNumericValueIsNamed) {
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--batch-size", "many"}),
                 {"batch-size", "many"});
}

TEST_F(CliErrors, DropoutRateOne) {
  const auto config = write_config(
      "dropout.ini",
      config_text("layer = flatten\nlayer = dropout 1\nlayer = dense units=10 activation=softmax\n"));
  expect_failure(run_ringtrain({"summary", "--config", config}), {config, "layer 2", "rate=1", "[0, 1)"});
}

TEST_F(CliErrors, LearningRateDecayOutOfRange) {
  for (const std::string decay : {"0", "2"}) {
    SCOPED_TRACE("lr-decay " + decay);
    expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--lr-decay", decay}),
                   {"lr-decay=" + decay, "(0, 1]"});
    const auto config = write_config("decay" + decay + ".ini", config_text() + "lr-decay = " + decay + "\n");
    expect_failure(run_ringtrain({"summary", "--config", config}), {config, "lr-decay=" + decay});
  }
}

TEST_F(CliErrors, UnknownCommandExitsTwoAndShowsUsage) {
  const auto result = run_ringtrain({"frobnicate"});
  ASSERT_TRUE(result.exited) << result.describe();
  EXPECT_EQ(result.exit_code, 2) << result.describe();
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos) << result.describe();
  EXPECT_NE(result.out.find("usage: ringtrain COMMAND"), std::string::npos) << result.describe();
}

TEST_F(CliErrors, EmptyDataDirectorySaysHowToFetch) {
  const fs::path empty = path("empty-mnist");
  fs::create_directories(empty);
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--data", empty.string()}),
                 {empty.string(), "train-images-idx3-ubyte", "scripts/fetch-mnist.sh"});
  expect_failure(run_ringtrain({"bench", "--config", kExperiment1, "--data", empty.string(), "--steps", "1"}),
                 {empty.string(), "train-images-idx3-ubyte", "scripts/fetch-mnist.sh"});
}

TEST_F(CliErrors, MissingDataDirectorySaysHowToFetch) {
  const fs::path missing = path("no-such-mnist");
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--data", missing.string()}),
                 {missing.string(), "scripts/fetch-mnist.sh"});
}

// A small valid dataset in `dir`, then one file broken by `breaker`; train must name the broken file.
class BrokenData : public CliErrors {
 protected:
  void SetUp() override { write_fake_mnist(data_dir(), 64, 32); }
  fs::path data_dir() const { return path("mnist"); }
  fs::path train_images() const { return data_dir() / data::mnist_images_file(data::Split::train); }
  fs::path train_labels() const { return data_dir() / data::mnist_labels_file(data::Split::train); }
  CommandResult train() {
    return run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(), "--epochs", "1",
                          "--batch-size", "16"});
  }
};

TEST_F(BrokenData, ValidFakeDatasetTrains) {
  // The control: the unbroken fake dataset trains, so the failures below are about the broken files.
  const auto result = train();
  ASSERT_TRUE(result.exited) << result.describe();
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(parse_final_line(last_line(result.out)).has_value()) << result.describe();
}

TEST_F(BrokenData, AModelWithoutAScorePerClassIsRefusedBeforeTraining) {
  const auto five = write_config("five.ini", config_text("layer = flatten\nlayer = dense units=5\n"));
  expect_failure(run_ringtrain({"train", "--config", five, "--data", data_dir().string()}),
                 {"labels 0..9", "(None, 5)", "dense layer of 10 units"});
  const auto images = write_config("images.ini", config_text("layer = activation relu\n"));
  expect_failure(run_ringtrain({"train", "--config", images, "--data", data_dir().string()}),
                 {"labels 0..9", "(None, 28, 28, 1)", "dense layer of 10 units"});
}

TEST_F(BrokenData, ThreadsMustBeFromZeroTo1024ForEveryCommand) {
  expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(), "--threads",
                                "100000"}),
                 {"command line: threads=100000", "from 0 (this process's share of the cores) to 1024"});
  const fs::path run_dir = path("run");
  const auto trained = run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(),
                                      "--epochs", "1", "--batch-size", "16", "--run-dir", run_dir.string()});
  ASSERT_TRUE(trained.exited && trained.exit_code == 0) << trained.describe();
  const std::string checkpoint = checkpoint_path(run_dir, 4).string();
  expect_failure(run_ringtrain({"evaluate", "--checkpoint", checkpoint, "--data", data_dir().string(),
                                "--threads", "-1"}),
                 {"command line: threads=-1", "from 0 (this process's share of the cores) to 1024"});
  // The checkpoint as a bare word, as report takes its run directory; one only.
  const auto positional = run_ringtrain({"evaluate", checkpoint, "--data", data_dir().string()});
  const auto flagged = run_ringtrain({"evaluate", "--checkpoint", checkpoint, "--data", data_dir().string()});
  ASSERT_TRUE(positional.exited && positional.exit_code == 0) << positional.describe();
  EXPECT_EQ(positional.out, flagged.out);
  expect_failure(run_ringtrain({"evaluate", checkpoint, "second.h5", "--data", data_dir().string()}),
                 {"command line: unexpected argument 'second.h5'", "--checkpoint is given already"});
  expect_failure(
      run_ringtrain({"evaluate", "--checkpoint", checkpoint, "stray", "--data", data_dir().string()}),
      {"command line: unexpected argument 'stray'", "--checkpoint is given already"});
}

TEST_F(CliErrors, ImagesOfAnotherSizeThanTheModelTakesAreNamed) {
  const fs::path narrow = path("narrow");
  fs::create_directories(narrow);
  for (const auto split : {data::Split::train, data::Split::test}) {
    data::testing::write_file(narrow / data::mnist_images_file(split),
                              data::testing::idx_images_bytes(data::testing::patterned_images(32, 28, 14)),
                              data::testing::Compression::none);
    data::testing::write_file(narrow / data::mnist_labels_file(split),
                              data::testing::idx_labels_bytes(std::vector<std::uint8_t>(32, 3)),
                              data::testing::Compression::none);
  }
  expect_failure(
      run_ringtrain({"train", "--config", kExperiment1, "--data", narrow.string()}),
      {"MNIST train set in " + narrow.string(), "images of 28x14 pixels", "(28, 28, 1) (784 values)"});
}

TEST_F(BrokenData, AnInputShapeOfTheSameSizeInAnotherLayoutIsRefused) {
  // Channels first, as PyTorch lays out images, or the pixels regrouped into channels.
  for (const std::string shape : {"1,28,28", "14,14,4"}) {
    expect_failure(run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(),
                                  "--input-shape", shape}),
                   {"images of 28x28 pixels and one channel", "give input-shape 28,28,1", "28,28 or 784"});
  }
  for (const std::string shape : {"28,28", "784"}) {
    const CommandResult trained =
        run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(), "--input-shape",
                       shape, "--epochs", "1", "--batch-size", "16"});
    EXPECT_TRUE(trained.exited && trained.exit_code == 0) << shape << ": " << trained.describe();
  }
}

TEST_F(BrokenData, AnOutputThatIsNotFlatIsToldToFlatten) {
  expect_failure(
      run_ringtrain({"train", "--data", data_dir().string(), "--layer", "conv2d filters=10 kernel_size=28"}),
      {"(None, 1, 1, 10)", "flatten the model's output, and end it with a dense layer of 10 units"});
}

TEST_F(BrokenData, TruncatedTrainImages) {
  const auto size = fs::file_size(train_images());
  fs::resize_file(train_images(), size - 1000);
  expect_failure(train(), {train_images().string(), "truncated"});
}

TEST_F(BrokenData, TruncatedTrainImagesHeader) {
  fs::resize_file(train_images(), 10);
  expect_failure(train(), {train_images().string(), "truncated"});
}

TEST_F(BrokenData, WrongMagic) {
  // A labels header in the images file: magic 0x801 where 0x803 belongs.
  data::testing::write_file(
      train_images(), data::testing::idx_file_bytes(data::kIdxLabelsMagic, {64, 28, 28},
                                                    data::testing::patterned_images(64, 28, 28).pixels));
  expect_failure(train(), {train_images().string(), "magic"});
}

TEST_F(BrokenData, LabelTen) {
  std::vector<std::uint8_t> labels(64, 3);
  labels[17] = 10;
  data::testing::write_file(train_labels(), data::testing::idx_labels_bytes(labels));
  expect_failure(train(), {train_labels().string(), "label 10", "17"});
}

TEST_F(BrokenData, ImageLabelCountMismatch) {
  data::testing::write_file(train_labels(),
                            data::testing::idx_labels_bytes(std::vector<std::uint8_t>(60, 1)));
  expect_failure(train(), {train_images().string(), train_labels().string(), "64", "60"});
}

TEST_F(BrokenData, BatchLargerThanDataset) {
  const auto result = run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(),
                                     "--epochs", "1", "--batch-size", "128"});
  expect_failure(result, {"batch size 128", "64 samples"});
}

TEST_F(BrokenData, DivergingLossStopsWithEpochAndStep) {
  // SGD with a learning rate near float's limit overflows the logits in the second step; training must stop
  // with an error naming the epoch and the step, not print NaN metrics. (lr 1e30 is not enough for this
  // one-layer model: the weights grow to ~1e30 per step and the loss stays finite, ~1e32.)
  const auto result =
      run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(), "--optimizer", "sgd",
                     "--lr", "1e38", "--batch-size", "16", "--epochs", "3"});
  expect_failure(result, {"the loss became", "at epoch 1 step 2", "lower the learning rate"});
  EXPECT_EQ(result.out.find("final val_accuracy"), std::string::npos) << result.describe();
}

TEST_F(BrokenData, HugeLearningRateGivesFiniteNumbersOrAnError) {
  // lr 1e30: either a clean error about the loss, or a run whose printed numbers are never nan/inf.
  const auto result =
      run_ringtrain({"train", "--config", kExperiment1, "--data", data_dir().string(), "--optimizer", "sgd",
                     "--lr", "1e30", "--batch-size", "16", "--epochs", "2"});
  ASSERT_TRUE(result.exited) << result.describe();
  if (result.exit_code != 0) {
    expect_failure(result, {"the loss became", "at epoch ", " step "});
  } else {
    // The final line's pattern accepts plain numbers only, so nan or inf fail it.
    EXPECT_TRUE(parse_final_line(last_line(result.out)).has_value()) << result.describe();
    EXPECT_EQ(result.out.find("nan"), std::string::npos) << result.describe();
  }
}

TEST_F(BrokenData, BenchOnFakeDataPrintsRates) {
  // bench without the real MNIST: a few steps over the small fake dataset (wrapping around its epochs).
  const auto result = run_ringtrain({"bench", "--config", kExperiment1, "--data", data_dir().string(),
                                     "--batch-size", "16", "--steps", "6", "--warmup", "2"});
  ASSERT_TRUE(result.exited) << result.describe();
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const auto bench = find_bench_line(result.out);
  ASSERT_TRUE(bench.has_value()) << result.describe();
  EXPECT_GT(bench->images_per_second, 0) << result.describe();
  EXPECT_GT(bench->ms_per_step, 0) << result.describe();
}

TEST_F(BrokenData, BenchPerLayerTimesEveryLayerThatMakesTheLogits) {
  const auto result = run_ringtrain({"bench", "--config", experiment("09_batch_norm.ini"), "--data",
                                     data_dir().string(), "--device", "cpu", "--batch-size", "16", "--steps",
                                     "3", "--warmup", "1", "--per-layer"});
  ASSERT_TRUE(result.exited) << result.describe();
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  static const std::regex row(R"(^bench layer=(\S+) type=(\S+) forward_ms=[0-9.]+ backward_ms=([0-9.]+|-) )"
                              R"(share_of_step=[0-9.]+%$)");
  std::vector<std::string> layers;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_match(line, match, row)) continue;
    layers.push_back(match[1].str());
    // The reshape before the first convolution needs no gradient; every later layer runs backward.
    EXPECT_EQ(match[3].str() == "-", match[1].str() == "reshape") << line;
  }
  // The final softmax is folded into the loss: no row of its own.
  const std::vector<std::string> expected{"reshape",
                                          "conv2d",
                                          "batch_normalization",
                                          "activation",
                                          "conv2d_1",
                                          "batch_normalization_1",
                                          "activation_1",
                                          "conv2d_2",
                                          "batch_normalization_2",
                                          "activation_2",
                                          "flatten",
                                          "dense",
                                          "batch_normalization_3",
                                          "activation_3",
                                          "dropout",
                                          "dense_1"};
  EXPECT_EQ(layers, expected) << result.describe();
  EXPECT_TRUE(std::regex_search(result.out, std::regex(R"(\nbench layers_ms=[0-9.]+ step_ms=[0-9.]+ )"
                                                       R"(rest_of_step_ms=-?[0-9.]+\n)")))
      << result.describe();
}

TEST(CliHelp, EachCommandListsItsOptions) {
  for (const char* command : {"train", "summary", "bench"}) {
    SCOPED_TRACE(command);
    const auto result = run_ringtrain({command, "--help"});
    ASSERT_TRUE(result.exited) << result.describe();
    EXPECT_EQ(result.exit_code, 0) << result.describe();
    EXPECT_NE(result.out.find(std::string("usage: ringtrain ") + command), std::string::npos)
        << result.describe();
    for (const char* option : {"--config", "--batch-size", "--lr", "--lr-decay", "--epochs", "--optimizer",
                               "--seed", "--threads", "--data", "--layer"}) {
      EXPECT_NE(result.out.find(option), std::string::npos) << option << " missing; " << result.describe();
    }
    // Train's own options are listed by train alone: summary and bench refuse them on their command line.
    for (const char* option : {"--run-dir ", "--csv ", "--resume ", "--verbose ", "--fail-at-step "}) {
      const bool listed = result.out.find(option) != std::string::npos;
      EXPECT_EQ(listed, std::string(command) == "train") << option << "; " << result.describe();
    }
  }
  const auto bench = run_ringtrain({"bench", "--help"});
  EXPECT_NE(bench.out.find("--steps"), std::string::npos) << bench.describe();
  EXPECT_NE(bench.out.find("--warmup"), std::string::npos) << bench.describe();
  // --config is an option of its own in the list, not only in the usage line; `help train` is train's help.
  const auto train = run_ringtrain({"train", "--help"});
  EXPECT_NE(train.out.find("  --config arg"), std::string::npos) << train.describe();
  const auto help_train = run_ringtrain({"help", "train"});
  EXPECT_EQ(help_train.exit_code, 0) << help_train.describe();
  EXPECT_EQ(help_train.out, train.out);
}

TEST(CliHelp, TopLevelHelpAndVersion) {
  for (const char* flag : {"help", "--help", "-h"}) {
    const auto result = run_ringtrain({flag});
    ASSERT_TRUE(result.exited) << result.describe();
    EXPECT_EQ(result.exit_code, 0) << result.describe();
    for (const char* command : {"train", "summary", "bench", "version"})
      EXPECT_NE(result.out.find(command), std::string::npos) << result.describe();
  }
  const auto version = run_ringtrain({"version"});
  EXPECT_EQ(version.exit_code, 0) << version.describe();
  EXPECT_NE(version.out.find("ringtrain "), std::string::npos) << version.describe();
}

TEST(CliHelp, NoCommandShowsUsageAndFails) {
  const auto result = run_ringtrain({});
  ASSERT_TRUE(result.exited) << result.describe();
  EXPECT_EQ(result.exit_code, 2) << result.describe();
  EXPECT_NE(result.out.find("usage: ringtrain COMMAND"), std::string::npos) << result.describe();
}

TEST(CliSummary, BatchNormModelHasCodelabParameterCount) {
  const auto result = run_ringtrain({"summary", "--config", experiment("09_batch_norm.ini")});
  ASSERT_TRUE(result.exited) << result.describe();
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.out.find("Total params: 354,538"), std::string::npos) << result.describe();
}

TEST(CliSummary, EveryExperimentHasASummary) {
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "experiments")) {
    if (entry.path().extension() != ".ini") continue;
    SCOPED_TRACE(entry.path().string());
    const auto result = run_ringtrain({"summary", "--config", entry.path().string()});
    ASSERT_TRUE(result.exited) << result.describe();
    EXPECT_EQ(result.exit_code, 0) << result.describe();
    EXPECT_NE(result.out.find("Total params: "), std::string::npos) << result.describe();
  }
}

}  // namespace
}  // namespace ringtrain::integration
