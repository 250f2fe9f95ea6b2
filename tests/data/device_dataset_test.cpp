// DeviceDataset against Dataset::gather_batch: the same images and labels bit for bit, gathered from a
// first row given by the host or read from the GPU; an order naming a sample outside the dataset is an error.
// Skipped where no GPU is usable.
#include "core/data/device_dataset.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/cuda/cuda_runtime.hpp"
#include "core/data/sampler.hpp"

namespace ringtrain::data {
namespace {

Dataset random_dataset(std::int64_t count, std::uint32_t seed) {
  std::mt19937 generator(seed);
  IdxImages images{count, 5, 3, {}};
  IdxLabels labels;
  for (std::int64_t i = 0; i < count * 15; ++i)
    images.pixels.push_back(static_cast<std::uint8_t>(generator() % 256));
  for (std::int64_t i = 0; i < count; ++i)
    labels.labels.push_back(static_cast<std::uint8_t>(generator() % 10));
  return Dataset(std::move(images), std::move(labels));
}

class DeviceDatasetTest : public testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no usable GPU: " << cuda::describe();
  }
};

TEST_F(DeviceDatasetTest, GathersWhatTheHostGathers) {
  const Dataset dataset = random_dataset(50, 1);
  DeviceDataset on_gpu(dataset);
  const std::vector<std::int64_t> order = epoch_permutation(50, 7, 3);
  on_gpu.set_order(order);
  Tensor host_images, host_labels, images, labels;
  dataset.gather_batch(std::span(order).subspan(12, 9), host_images, host_labels);
  on_gpu.gather(12, nullptr, 9, images, labels);
  EXPECT_EQ(images.shape(), host_images.shape());
  EXPECT_EQ(images.to_vector(), host_images.to_vector());
  const Tensor labels_back = labels.to(Device::cpu);
  for (std::int64_t r = 0; r < 9; ++r)
    EXPECT_EQ(labels_back.data<std::int32_t>()[r], host_labels.data<std::int32_t>()[r]) << r;

  // The first row read from the GPU, as a captured step does.
  const std::int64_t value = 12;
  Tensor first_bytes = Tensor::empty({8}, DType::u8);
  std::copy_n(reinterpret_cast<const std::uint8_t*>(&value), 8, first_bytes.data<std::uint8_t>());
  const Tensor first_on_gpu = first_bytes.to(Device::cuda);
  Tensor images_again, labels_again;
  on_gpu.gather(0, reinterpret_cast<const std::int64_t*>(first_on_gpu.data<std::uint8_t>()), 9, images_again,
                labels_again);
  EXPECT_EQ(images_again.to_vector(), host_images.to_vector());
  const Tensor labels_again_back = labels_again.to(Device::cpu);
  for (std::int64_t r = 0; r < 9; ++r)
    EXPECT_EQ(labels_again_back.data<std::int32_t>()[r], host_labels.data<std::int32_t>()[r]) << r;
}

TEST_F(DeviceDatasetTest, AnOrderOutsideTheDatasetIsAnError) {
  DeviceDataset on_gpu(random_dataset(10, 2));
  const std::vector<std::int64_t> order{0, 3, 10};
  EXPECT_THROW(on_gpu.set_order(order), Error);
  Tensor images, labels;
  EXPECT_THROW(on_gpu.gather(0, nullptr, 2, images, labels), Error);  // no order set
}

}  // namespace
}  // namespace ringtrain::data
