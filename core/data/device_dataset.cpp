// DeviceDataset: the upload, the order, and the gather kernel's call.
#include "core/data/device_dataset.hpp"

#include <vector>

#include "core/cuda/kernels.hpp"

namespace ringtrain::data {

DeviceDataset::DeviceDataset(const Dataset& dataset)
    : count_(dataset.count()), sample_shape_(dataset.sample_shape()) {
  const std::int64_t pixels = sample_shape_.numel();
  images_ = Tensor::empty({count_, pixels}, DType::u8, Device::cuda);
  labels_ = Tensor::empty({count_}, DType::u8, Device::cuda);
  if (count_ == 0) return;
  // The dataset's samples are contiguous, in order: one copy each.
  device_copy(images_.data<std::uint8_t>(), Device::cuda, dataset.image_pixels(0).data(), Device::cpu,
              images_.bytes());
  device_copy(labels_.data<std::uint8_t>(), Device::cuda, dataset.labels().data(), Device::cpu,
              labels_.bytes());
}

void DeviceDataset::set_order(std::span<const std::int64_t> order) {
  std::vector<std::int32_t> narrow(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    RT_CHECK(order[i] >= 0 && order[i] < count_, "sample " << order[i] << " at position " << i
                                                           << " of the order is outside [0, " << count_
                                                           << ")");
    narrow[i] = static_cast<std::int32_t>(order[i]);
  }
  ensure_tensor(order_, {static_cast<std::int64_t>(order.size())}, Device::cuda, DType::i32);
  device_copy(order_.data<std::int32_t>(), Device::cuda, narrow.data(), Device::cpu, order_.bytes());
}

void DeviceDataset::gather(std::int64_t first_row, const std::int64_t* first_row_on_device, std::int64_t rows,
                           Tensor& images, Tensor& labels) const {
  RT_CHECK(order_.defined(), "gather from the GPU's dataset before its sample order was set");
  RT_CHECK(rows >= 0 && (first_row_on_device != nullptr || first_row + rows <= order_.numel()),
           "rows [" << first_row << ", " << first_row + rows << ") outside the order of " << order_.numel()
                    << " samples");
  ensure_tensor(images, sample_shape_.with_batch(rows), Device::cuda);
  ensure_tensor(labels, {rows}, Device::cuda, DType::i32);
  cuda::gather_batch(images_.data<std::uint8_t>(), labels_.data<std::uint8_t>(), sample_shape_.numel(),
                     order_.data<std::int32_t>(), first_row, first_row_on_device, rows, images.data<float>(),
                     labels.data<std::int32_t>());
}

}  // namespace ringtrain::data
