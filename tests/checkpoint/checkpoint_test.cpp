// Tests of checkpoint files: every layer's state and the optimizer round-trip bitwise; h5py reads them; a
// truncated file, flipped bytes (under the seal, and under a seal written after them), a missing dataset, a
// newer schema and another architecture each give their own error, and a failed restore leaves the model
// untouched; values no run writes (NaN weights, a negative variance, counts out of range) are refused
// naming the dataset, and a diverged model is not written; a file without a seal is still read.
#include "core/checkpoint/checkpoint.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

#include "core/checkpoint/file_seal.hpp"
#include "core/checkpoint/hdf5_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "tests/checkpoint/checkpoint_fixtures.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using namespace checkpoint_testing;  // the model, values and fixture the checkpoint tests share
using testing::HasSubstr;

TEST_F(CheckpointTest, EveryLayersStateAndTheOptimizerRoundTripBitwise) {
  const fs::path path = write_example();
  Built restored = build(kEveryStatefulLayer, 99);
  ASSERT_NE(everything(restored), written_);
  restore_checkpoint(path, *restored.model, restored.optimizer.get());
  EXPECT_EQ(everything(restored), written_);
  EXPECT_EQ(restored.optimizer->steps(), 1423);

  const CheckpointInfo info = read_checkpoint(path);
  const CheckpointInfo expected = example_info();
  EXPECT_EQ(info.schema_version, kCheckpointSchema);
  EXPECT_EQ(info.world_size, 2);
  EXPECT_EQ(info.optimizer, "adam");
  EXPECT_EQ(info.config_text, expected.config_text);
  EXPECT_EQ(info.position.epoch, 3);
  EXPECT_EQ(info.position.step, 17);
  EXPECT_EQ(info.position.global_step, 1423);
  EXPECT_EQ(info.position.samples_seen, 182144);
  EXPECT_EQ(info.position.seed, 42u);
  EXPECT_EQ(info.position.loss_sum, 12.5);
  EXPECT_EQ(info.position.correct, 1000);
  EXPECT_EQ(info.position.seen, 1088);
  EXPECT_EQ(info.val_accuracy, 0.9876);
  EXPECT_THAT(info.created, testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
  // No temporary file is left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_.path()))
    ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(CheckpointTest, H5pyReadsAParameter) {
  if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0)
    GTEST_SKIP() << "Debian's /usr/bin/python3 with h5py (python3-h5py, installed by scripts/setup.sh) is "
                    "not available";
  const fs::path path = write_example();
  const fs::path out = dir_.path() / "h5py.txt";
  const std::string command =
      "/usr/bin/python3 -c \"import h5py; f = h5py.File('" + path.string() +
      "', 'r'); k = f['parameters/conv2d/kernel']; print(k.shape, repr(float(k[0, 0, 0, 0])), "
      "f.attrs['schema_version'], f.attrs['format'])\" > " +
      out.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  Built restored = build(kEveryStatefulLayer, 99);
  restore_checkpoint(path, *restored.model, nullptr);
  const float first = restored.model->parameters().values().data<float>()[0];
  EXPECT_THAT(line, HasSubstr("(3, 3, 1, 4)"));
  std::ostringstream expected;
  expected.precision(9);
  expected << first;
  EXPECT_THAT(line, HasSubstr(expected.str().substr(0, 6)));
  EXPECT_THAT(line, HasSubstr(" 1 "));
  EXPECT_THAT(line, HasSubstr("ringtrain checkpoint"));
}

TEST_F(CheckpointTest, ATruncatedFileIsDetected) {
  const fs::path path = write_example();
  fs::resize_file(path, fs::file_size(path) / 2);
  try {
    read_checkpoint(path);
    FAIL() << "a truncated checkpoint was read";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path.string()));
  }
}

// A checkpoint of a dense model whose parameters are all 1234.5678, with one byte inside them changed.
fs::path write_with_a_flipped_parameter_byte(const fs::path& path) {
  Built built = build({"flatten", "dense units=10"}, 1);
  Tensor& values = built.model->parameters().values();
  for (std::int64_t i = 0; i < values.numel(); ++i)
    values.data<float>()[i] = 1234.5678f;  // a pattern to find in the file
  write_checkpoint(path, *built.model, *built.optimizer, example_info());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const float pattern = 1234.5678f;
  const std::string needle(reinterpret_cast<const char*>(&pattern), sizeof pattern);
  const std::size_t at = bytes.find(needle + needle);
  EXPECT_NE(at, std::string::npos);
  bytes.at(at + 100) = static_cast<char>(bytes.at(at + 100) ^ 0x5a);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

TEST_F(CheckpointTest, AFlippedByteFailsTheSeal) {
  const fs::path path = write_with_a_flipped_parameter_byte(dir_.path() / "flipped.h5");
  try {
    read_checkpoint(path);
    FAIL() << "a changed byte went unnoticed";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path.string() + " is damaged"));
    EXPECT_THAT(error.what(), HasSubstr("CRC-32"));
  }
}

TEST_F(CheckpointTest, AFlippedByteUnderAValidSealFailsTheDatasetsChecksum) {
  // Damage done before the seal was written (or a file without one) is HDF5's fletcher32's to find.
  const fs::path path = write_with_a_flipped_parameter_byte(dir_.path() / "flipped.h5");
  seal_file(path);
  try {
    read_checkpoint(path);
    FAIL() << "a checksum failure went unnoticed";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("parameters/dense/kernel"));
    EXPECT_THAT(error.what(), HasSubstr("checksum"));
  }
}

TEST_F(CheckpointTest, AMissingDatasetIsNamed) {
  const fs::path path = write_example();
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_GE(H5Ldelete(file, "training/seen", H5P_DEFAULT), 0);
  H5Fclose(file);
  seal_file(path);  // as if it had been written so
  try {
    read_checkpoint(path);
    FAIL() << "a missing dataset went unnoticed";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("training/seen is missing"));
  }
}

// The bytes of a file.
std::string contents_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Sets the first value of dataset `name` (read and written as `type`) and seals the file again, as if it had
// been written so.
template <typename T>
void overwrite_first_value(const fs::path& path, const char* name, hid_t type, T value) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
  ASSERT_GE(dataset, 0) << name;
  const hid_t space = H5Dget_space(dataset);
  std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  EXPECT_GE(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
  values[0] = value;
  EXPECT_GE(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(file);
  seal_file(path);
}

TEST_F(CheckpointTest, ValuesNoRunWritesAreRefusedNamingTheDatasetAndLeaveTheModelAlone) {
  struct Case {
    const char* dataset;
    std::function<void(const fs::path&)> alter;
    const char* said;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases{
      {"parameters/conv2d/kernel",
       [&](const fs::path& path) {
         overwrite_first_value(path, "parameters/conv2d/kernel", H5T_NATIVE_FLOAT, nan);
       },
       "not finite"},
      {"state/batch_normalization/moving_variance",
       [](const fs::path& path) {
         overwrite_first_value(path, "state/batch_normalization/moving_variance", H5T_NATIVE_FLOAT, -1.0f);
       },
       "not negative"},
      {"training/correct",
       [](const fs::path& path) {
         overwrite_first_value<std::int64_t>(path, "training/correct", H5T_NATIVE_INT64, 1000000000);
       },
       "training/correct = 1000000000 is outside [0, 1088]"},
      {"optimizer/steps",
       [](const fs::path& path) {
         overwrite_first_value<std::int64_t>(path, "optimizer/steps", H5T_NATIVE_INT64, -4);
       },
       "optimizer/steps = -4 is outside"},
      {"training/loss_sum",
       [](const fs::path& path) {
         overwrite_first_value(path, "training/loss_sum", H5T_NATIVE_DOUBLE,
                               std::numeric_limits<double>::quiet_NaN());
       },
       "training/loss_sum = nan is outside"},
  };
  for (const Case& altered : cases) {
    SCOPED_TRACE(altered.dataset);
    const fs::path path =
        write_example(std::string("altered-") + std::to_string(&altered - cases.data()) + ".h5");
    altered.alter(path);
    try {
      read_checkpoint(path);
      ADD_FAILURE() << "read_checkpoint took it";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr(path.string()));
      EXPECT_THAT(error.what(), HasSubstr(altered.said));
    }
    if (std::string(altered.dataset).starts_with("training/")) continue;  // restore reads no position
    Built restored = build(kEveryStatefulLayer, 99);
    const auto before = everything(restored);
    EXPECT_THROW(restore_checkpoint(path, *restored.model, restored.optimizer.get()), Error);
    EXPECT_EQ(everything(restored), before);
  }
}

TEST_F(CheckpointTest, ADivergedModelIsNotWrittenAndTheEarlierCheckpointStays) {
  const fs::path path = write_example();
  const auto before = contents_of(path);
  Built diverged = build(kEveryStatefulLayer, 7);
  diverged.model->parameters().values().data<float>()[3] = std::numeric_limits<float>::infinity();
  try {
    write_checkpoint(path, *diverged.model, *diverged.optimizer, example_info());
    FAIL() << "a model holding inf was written";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("the training diverged"));
  }
  EXPECT_EQ(contents_of(path), before);
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_.path()))
    ++files;
  EXPECT_EQ(files, 1) << "no temporary file is left";
}

TEST_F(CheckpointTest, ANewerSchemaIsRefused) {
  const fs::path path = write_example();
  Hdf5File::open_for_writing(path).set_attribute("schema_version", std::int64_t{kCheckpointSchema + 1});
  seal_file(path);
  try {
    read_checkpoint(path);
    FAIL() << "a newer schema was accepted";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("newer ringtrain"));
    EXPECT_THAT(error.what(), HasSubstr("schema_version " + std::to_string(kCheckpointSchema + 1)));
  }
  // Not damaged: a resumed run stops there instead of passing over it to an older one or starting over.
  const fs::path run_dir = dir_.path() / "run";
  fs::create_directories(run_dir);
  write_checkpoint(checkpoint_path(run_dir, 3), *build(kEveryStatefulLayer, 7).model,
                   *build(kEveryStatefulLayer, 7).optimizer, example_info());
  fs::copy_file(path, checkpoint_path(run_dir, 6));
  std::ostringstream report;
  EXPECT_THROW(newest_usable_checkpoint(run_dir, "resume", report), NewerCheckpointError);
  EXPECT_EQ(report.str(), "");
}

TEST_F(CheckpointTest, AnotherArchitectureNamesTheFirstDifferingParameterAndLeavesTheModelAlone) {
  Built small = build({"flatten", "dense units=16 activation=relu", "dense units=10"}, 1);
  const fs::path path = dir_.path() / "small.h5";
  write_checkpoint(path, *small.model, *small.optimizer, example_info());
  Built wider = build({"flatten", "dense units=32 activation=relu", "dense units=10"}, 2);
  const auto before = everything(wider);
  try {
    restore_checkpoint(path, *wider.model, wider.optimizer.get());
    FAIL() << "a checkpoint of another architecture was loaded";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("parameters/dense/kernel has shape (784, 16) in the checkpoint but "
                                        "(784, 32) in the model"));
  }
  EXPECT_EQ(everything(wider), before);
}

TEST_F(CheckpointTest, ANonCheckpointFileIsNamed) {
  const fs::path path = dir_.path() / "not.h5";
  std::ofstream(path) << "not hdf5 at all";
  try {
    read_checkpoint(path);
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path.string()));
    EXPECT_THAT(error.what(), HasSubstr("neither a ringtrain checkpoint nor HDF5"));
  }
}

TEST_F(CheckpointTest, ADirectoryIsRefusedNamingItsNewestCheckpoint) {
  const fs::path run_dir = dir_.path() / "run";
  fs::create_directory(run_dir);
  try {
    read_checkpoint(run_dir);
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(),
                HasSubstr(run_dir.string() + " is a directory, not a checkpoint file: it holds no "
                                             "checkpoint-<step>.h5"));
  }
  const fs::path example = write_example();
  fs::copy_file(example, checkpoint_path(run_dir, 12));
  fs::copy_file(example, checkpoint_path(run_dir, 7));
  try {
    read_checkpoint(run_dir);
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("its newest checkpoint is " + checkpoint_path(run_dir, 12).string()));
  }
}

TEST_F(CheckpointTest, ACheckpointWithoutASealIsRead) {
  // Its HDF5 part alone, as checkpoints were before they were sealed.
  const fs::path sealed = write_example();
  std::string bytes;
  {
    std::ifstream in(sealed, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const fs::path unsealed = dir_.path() / "unsealed.h5";
  std::ofstream(unsealed, std::ios::binary) << bytes.substr(kSealBytes);
  Built restored = build(kEveryStatefulLayer, 99);
  restore_checkpoint(unsealed, *restored.model, restored.optimizer.get());
  EXPECT_EQ(everything(restored), written_);
  EXPECT_EQ(read_checkpoint(unsealed).config_text, example_info().config_text);
}

}  // namespace
}  // namespace ringtrain
