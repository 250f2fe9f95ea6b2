// Loads the real MNIST from default_mnist_dir() when it is there (scripts/fetch-mnist.sh), and checks it.
#include <gtest/gtest.h>

#include <array>
#include <numeric>

#include "core/data/mnist.hpp"

namespace ringtrain::data {
namespace {

std::array<std::int64_t, 10> label_histogram(const Dataset& dataset) {
  std::array<std::int64_t, 10> histogram{};
  for (std::uint8_t label : dataset.labels())
    ++histogram[label];
  return histogram;
}

class RealMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = default_mnist_dir();
    std::error_code error;
    if (!std::filesystem::is_directory(dir_, error)) {
      GTEST_SKIP() << "MNIST not found in " << dir_ << "; run scripts/fetch-mnist.sh to enable this test";
    }
  }
  std::filesystem::path dir_;
};

TEST_F(RealMnist, TrainSplitHas60000DigitsOf28x28) {
  const Dataset train = load_mnist(dir_, Split::train);
  EXPECT_EQ(train.count(), 60000);
  EXPECT_EQ(train.sample_shape(), (Shape{28, 28, 1}));
  const auto histogram = label_histogram(train);
  EXPECT_EQ(std::accumulate(histogram.begin(), histogram.end(), std::int64_t{0}), 60000);
  const std::array<std::int64_t, 10> expected{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
  EXPECT_EQ(histogram, expected);
}

TEST_F(RealMnist, TestSplitHas10000DigitsOf28x28) {
  const Dataset test = load_mnist(dir_, Split::test);
  EXPECT_EQ(test.count(), 10000);
  EXPECT_EQ(test.sample_shape(), (Shape{28, 28, 1}));
  const auto histogram = label_histogram(test);
  EXPECT_EQ(std::accumulate(histogram.begin(), histogram.end(), std::int64_t{0}), 10000);
  const std::array<std::int64_t, 10> expected{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
  EXPECT_EQ(histogram, expected);

  const std::vector<std::int64_t> first_two{0, 1};
  Tensor images;
  Tensor labels;
  test.gather_batch(first_two, images, labels);
  EXPECT_EQ(images.shape(), (Shape{2, 28, 28, 1}));
  EXPECT_EQ(labels.data<std::int32_t>()[0], 7);  // the first test digit is a 7
  EXPECT_EQ(labels.data<std::int32_t>()[1], 2);
  const std::vector<float> pixels = images.to_vector();
  for (float pixel : pixels) {
    ASSERT_GE(pixel, 0.0f);
    ASSERT_LT(pixel, 1.0f);
  }
}

}  // namespace
}  // namespace ringtrain::data
