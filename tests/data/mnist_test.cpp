// Tests of load_mnist on small hand-made files, of gather_batch, and of where the data is looked for.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/check.hpp"
#include "core/data/mnist.hpp"
#include "tests/data/idx_test_files.hpp"
#include "tests/scoped_environment.hpp"

namespace ringtrain::data {
namespace {

using testing::Compression;
using testing::expect_error_mentioning;
using testing::TemporaryDirectory;
using testing::write_file;

void write_split(const std::filesystem::path& dir, Split split, const IdxImages& images,
                 const std::vector<std::uint8_t>& labels, Compression compression) {
  const std::string suffix = compression == Compression::gzip ? ".gz" : "";
  write_file(dir / (mnist_images_file(split) + suffix), testing::idx_images_bytes(images), compression);
  write_file(dir / (mnist_labels_file(split) + suffix), testing::idx_labels_bytes(labels), compression);
}

TEST(LoadMnist, ReadsRawAndGzipFilesOfEachSplit) {
  TemporaryDirectory dir;
  write_split(dir.path(), Split::train, testing::patterned_images(4, 2, 3), {0, 1, 2, 9}, Compression::none);
  write_split(dir.path(), Split::test, testing::patterned_images(2, 2, 3), {5, 6}, Compression::gzip);
  const Dataset train = load_mnist(dir.path(), Split::train);
  const Dataset test = load_mnist(dir.path(), Split::test);
  EXPECT_EQ(train.count(), 4);
  EXPECT_EQ(train.sample_shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(train.labels(), (std::vector<std::uint8_t>{0, 1, 2, 9}));
  EXPECT_EQ(test.count(), 2);
  EXPECT_EQ(test.label(1), 6);
  EXPECT_EQ(test.image_pixels(1)[4], testing::patterned_pixel(1, 4));
}

TEST(LoadMnist, MissingDirectoryOrFileSaysHowToGetTheData) {
  TemporaryDirectory dir;
  const auto missing = dir.path() / "nowhere";
  expect_error_mentioning([&] { load_mnist(missing, Split::train); },
                          {missing.string(), "scripts/fetch-mnist.sh", "--data DIR"});
  write_split(dir.path(), Split::train, testing::patterned_images(1, 2, 2), {3}, Compression::none);
  expect_error_mentioning([&] { load_mnist(dir.path(), Split::test); },
                          {"t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "scripts/fetch-mnist.sh"});
}

// One of the files given where its directory belongs; a missing directory that RINGTRAIN_DATA named.
TEST(LoadMnist, AFileOrADirectoryFromTheEnvironmentIsSaidSo) {
  TemporaryDirectory dir;
  write_split(dir.path(), Split::train, testing::patterned_images(1, 2, 2), {3}, Compression::none);
  const auto file = dir.path() / mnist_images_file(Split::train);
  expect_error_mentioning([&] { load_mnist(file, Split::train); },
                          {"'" + file.string() +
                           "' is a file: give the directory that holds the IDX files, "
                           "such as '" +
                           dir.path().string() + "'"});
  const auto missing = dir.path() / "nowhere";
  ScopedEnvironment data("RINGTRAIN_DATA", missing.string().c_str());
  expect_error_mentioning([&] { load_mnist(missing, Split::train); },
                          {"'" + missing.string() + "' (RINGTRAIN_DATA) does not exist",
                           "or set RINGTRAIN_DATA to the directory"});
}

TEST(LoadMnist, CountMismatchNamesBothFilesAndCounts) {
  TemporaryDirectory dir;
  write_split(dir.path(), Split::train, testing::patterned_images(3, 2, 2), {1, 2}, Compression::none);
  expect_error_mentioning(
      [&] { load_mnist(dir.path(), Split::train); },
      {"train-images-idx3-ubyte' holds 3 images", "train-labels-idx1-ubyte' holds 2 labels"});
}

TEST(LoadMnist, LabelOutsideZeroToNineNamesFileIndexAndValue) {
  TemporaryDirectory dir;
  write_split(dir.path(), Split::test, testing::patterned_images(3, 2, 2), {1, 10, 2}, Compression::gzip);
  expect_error_mentioning([&] { load_mnist(dir.path(), Split::test); },
                          {"t10k-labels-idx1-ubyte.gz", "label 10", "index 1"});
}

TEST(Dataset, GatherBatchScalesPixelsAndKeepsTheOrderOfIndices) {
  const Dataset dataset(testing::patterned_images(6, 2, 3), IdxLabels{{0, 1, 2, 3, 4, 5}});
  const std::vector<std::int64_t> indices{4, 0, 4};
  Tensor images;
  Tensor labels;
  dataset.gather_batch(indices, images, labels);
  ASSERT_EQ(images.shape(), (Shape{3, 2, 3, 1}));
  ASSERT_EQ(images.dtype(), DType::f32);
  ASSERT_EQ(labels.shape(), (Shape{3}));
  ASSERT_EQ(labels.dtype(), DType::i32);
  for (std::int64_t row = 0; row < 3; ++row) {
    EXPECT_EQ(labels.data<std::int32_t>()[row], indices[static_cast<std::size_t>(row)]);
    for (std::int64_t pixel = 0; pixel < 6; ++pixel) {
      const float expected = testing::patterned_pixel(indices[static_cast<std::size_t>(row)], pixel) / 256.0f;
      EXPECT_EQ(images.data<float>()[row * 6 + pixel], expected);
    }
  }
  const float* storage = images.data<float>();
  dataset.gather_batch(std::vector<std::int64_t>{1, 2, 3}, images, labels);
  EXPECT_EQ(images.data<float>(), storage) << "a tensor of the right shape is filled in place";
  dataset.gather_batch(std::vector<std::int64_t>{5}, images, labels);
  EXPECT_EQ(images.shape(), (Shape{1, 2, 3, 1}));
  expect_error_mentioning([&] { dataset.gather_batch(std::vector<std::int64_t>{6}, images, labels); },
                          {"sample index 6"});
}

TEST(DefaultMnistDir, PrefersRingtrainDataThenXdgCacheThenHome) {
  ScopedEnvironment home("HOME", "/home/someone");
  {
    ScopedEnvironment data("RINGTRAIN_DATA", "/data/mnist");
    ScopedEnvironment cache("XDG_CACHE_HOME", "/cache");
    EXPECT_EQ(default_mnist_dir(), std::filesystem::path("/data/mnist"));
  }
  ScopedEnvironment no_data("RINGTRAIN_DATA", nullptr);
  {
    ScopedEnvironment cache("XDG_CACHE_HOME", "/cache");
    EXPECT_EQ(default_mnist_dir(), std::filesystem::path("/cache/ringtrain/mnist"));
  }
  ScopedEnvironment no_cache("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(default_mnist_dir(), std::filesystem::path("/home/someone/.cache/ringtrain/mnist"));
}

}  // namespace
}  // namespace ringtrain::data
