// DeviceDataset: a Dataset uploaded once to the GPU as bytes, with batches gathered and scaled there by a
// kernel in a sample order uploaded once per epoch, so training moves no data between host and GPU.
#pragma once

#include <cstdint>
#include <span>

#include "core/data/mnist.hpp"
#include "core/tensor.hpp"

namespace ringtrain::data {

class DeviceDataset {
 public:
  // Uploads the images and labels (an error where CUDA is not usable).
  explicit DeviceDataset(const Dataset& dataset);

  std::int64_t count() const { return count_; }
  // The sample order the next gathers read; every index must be in [0, count).
  void set_order(std::span<const std::int64_t> order);
  // images (float32 [rows, rows_px, cols_px, 1], pixel / 256) and labels (int32 [rows]) of the samples at
  // positions [first, first + rows) of the order, where first is *first_row_on_device when that is set (a
  // step captured as a CUDA graph), else first_row. Both tensors are reused when already of that shape on
  // the GPU. Queued only.
  void gather(std::int64_t first_row, const std::int64_t* first_row_on_device, std::int64_t rows,
              Tensor& images, Tensor& labels) const;

 private:
  std::int64_t count_;
  Shape sample_shape_;
  Tensor images_;  // uint8 [count, pixels]
  Tensor labels_;  // uint8 [count]
  Tensor order_;   // int32 [order size]
};

}  // namespace ringtrain::data
