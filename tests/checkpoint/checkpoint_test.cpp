// Tests of checkpoint files: every layer's state and the optimizer round-trip bitwise; h5py reads them; a
// truncated file, flipped bytes in a parameter, a missing dataset, a newer schema and another architecture
// each give their own error, and a failed restore leaves the model untouched.
#include "core/checkpoint/checkpoint.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "core/checkpoint/hdf5_file.hpp"
#include "core/model/model_spec.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;
using testing::HasSubstr;

// Every kind of layer that has parameters or state.
const std::vector<std::string> kEveryStatefulLayer{
    "reshape 28,28,1",
    "conv2d filters=4 kernel_size=3 padding=same",
    "batch_normalization",
    "activation relu",
    "max_pooling2d",
    "conv2d filters=6 kernel_size=6 strides=2 padding=same use_bias=false",
    "batch_normalization center=true scale=false",
    "global_average_pooling2d",
    "dense units=12 activation=relu",
    "dropout 0.25",
    "dense units=10 activation=softmax"};

struct Built {
  std::unique_ptr<Sequential> model;
  std::unique_ptr<Optimizer> optimizer;
};

Built build(const std::vector<std::string>& layers, std::uint64_t seed,
            const std::string& optimizer = "adam") {
  ModelSpec spec;
  spec.input_shape = {784};
  spec.layers = layers;
  spec.source = "checkpoint_test";
  Built built;
  built.model = make_model(spec);
  built.model->build(seed, Device::cpu);
  OptimizerSettings settings;
  settings.name = optimizer;
  settings.momentum = 0.9;
  built.optimizer = make_optimizer(settings, built.model->parameters(), Device::cpu);
  return built;
}

void fill_random(Tensor tensor, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal;
  for (std::int64_t i = 0; i < tensor.numel(); ++i)
    tensor.data<float>()[i] = normal(generator);
}

std::vector<float> values_of(const Tensor& tensor) {
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.numel());
}

// Every value a checkpoint holds: parameters, state, optimizer slots.
std::vector<std::vector<float>> everything(Built& built) {
  std::vector<std::vector<float>> all{values_of(built.model->parameters().values())};
  for (const auto& state : built.model->state())
    all.push_back(values_of(state.value));
  for (const auto& slot : built.optimizer->state())
    all.push_back(values_of(slot.value));
  return all;
}

CheckpointInfo example_info() {
  CheckpointInfo info;
  info.ringtrain_version = "test";
  info.world_size = 2;
  info.optimizer = "adam";
  info.config_text = "name = test\nlayer = dense units=10\n";
  info.position = {3, 17, 1423, 182144, 42, 12.5, 1000, 1088};
  info.val_accuracy = 0.9876;
  return info;
}

class CheckpointTest : public testing::Test {
 protected:
  // A checkpoint of kEveryStatefulLayer with random parameters, state and Adam slots.
  fs::path write_example(const std::string& name = "example.h5") {
    Built built = build(kEveryStatefulLayer, 1);
    fill_random(built.model->parameters().values(), 2);
    std::uint32_t seed = 3;
    for (const auto& state : built.model->state())
      fill_random(state.value, seed++);
    for (const auto& slot : built.optimizer->state())
      fill_random(slot.value, seed++);
    built.optimizer->set_steps(1423);
    const fs::path path = dir_.path() / name;
    write_checkpoint(path, *built.model, *built.optimizer, example_info());
    written_ = everything(built);
    return path;
  }

  TemporaryDirectory dir_;
  std::vector<std::vector<float>> written_;
};

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

TEST_F(CheckpointTest, FlippedBytesInAParameterFailTheChecksum) {
  Built built = build({"flatten", "dense units=10"}, 1);
  Tensor& values = built.model->parameters().values();
  for (std::int64_t i = 0; i < values.numel(); ++i)
    values.data<float>()[i] = 1234.5678f;  // a pattern to find in the file
  const fs::path path = dir_.path() / "flipped.h5";
  write_checkpoint(path, *built.model, *built.optimizer, example_info());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const float pattern = 1234.5678f;
  const std::string needle(reinterpret_cast<const char*>(&pattern), sizeof pattern);
  const std::size_t at = bytes.find(needle + needle);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 100] = static_cast<char>(bytes[at + 100] ^ 0x5a);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
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
  try {
    read_checkpoint(path);
    FAIL() << "a missing dataset went unnoticed";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("training/seen is missing"));
  }
}

TEST_F(CheckpointTest, ANewerSchemaIsRefused) {
  const fs::path path = write_example();
  Hdf5File::open_for_writing(path).set_attribute("schema_version", std::int64_t{kCheckpointSchema + 1});
  try {
    read_checkpoint(path);
    FAIL() << "a newer schema was accepted";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("newer ringtrain"));
    EXPECT_THAT(error.what(), HasSubstr("schema_version " + std::to_string(kCheckpointSchema + 1)));
  }
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
    EXPECT_THAT(error.what(), HasSubstr("not a readable HDF5 file"));
  }
}

}  // namespace
}  // namespace ringtrain
