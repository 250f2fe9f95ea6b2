// Tensor: a shape, an element type and a view into device memory that may be shared with other tensors.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/device.hpp"

namespace ringtrain {

enum class DType { f32, f64, i32, u8 };

std::size_t dtype_size(DType dtype);
std::string to_string(DType dtype);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<std::uint8_t>() {
  return DType::u8;
}

// Shape of a tensor, outermost dimension first (NHWC for images, as Keras).
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<std::int64_t> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  std::int64_t operator[](int axis) const { return dims_.at(static_cast<std::size_t>(axis)); }
  std::int64_t& operator[](int axis) { return dims_.at(static_cast<std::size_t>(axis)); }
  std::int64_t numel() const;
  const std::vector<std::int64_t>& dims() const { return dims_; }
  // The same shape with `batch` prepended.
  Shape with_batch(std::int64_t batch) const;
  // The shape without its first dimension.
  Shape without_batch() const;
  bool operator==(const Shape&) const = default;

 private:
  std::vector<std::int64_t> dims_;
};

// "(28, 28, 1)", Keras style; with_none_batch prints "(None, 28, 28, 1)".
std::string to_string(const Shape& shape);
std::string to_string_with_none_batch(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);

  const Shape& shape() const { return shape_; }
  std::int64_t numel() const { return shape_.numel(); }
  std::int64_t dim(int axis) const { return shape_[axis]; }
  int rank() const { return shape_.rank(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool defined() const { return storage_ != nullptr; }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }

  template <typename T>
  T* data() const {
    RT_CHECK(dtype_ == dtype_of<T>(),
             "tensor holds " << to_string(dtype_) << ", not " << to_string(dtype_of<T>()));
    return static_cast<T*>(data_bytes());
  }

  // A tensor sharing this one's memory: `shape` elements starting `element_offset` elements in.
  Tensor view(const Shape& shape, std::int64_t element_offset = 0) const;
  // The same memory under another shape with the same element count.
  Tensor reshaped(const Shape& shape) const { return view(shape, 0); }
  // Rows [begin, end) of the first dimension.
  Tensor slice_rows(std::int64_t begin, std::int64_t end) const;

  void fill_zero();
  void copy_from(const Tensor& source);
  Tensor to(Device device) const;
  std::vector<float> to_vector() const;
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values,
                            Device device = Device::cpu);

 private:
  friend Tensor& ensure_tensor(Tensor& buffer, const Shape& shape, Device device, DType dtype);

  void* data_bytes() const { return static_cast<char*>(storage_.get()) + offset_bytes_; }

  std::shared_ptr<void> storage_;
  std::size_t offset_bytes_ = 0;
  std::size_t capacity_bytes_ = 0;  // bytes of storage from offset_bytes_ on
  bool whole_allocation_ = false;   // made by empty(), not a view: its capacity is its own
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu;
};

// `buffer` with this shape, dtype and device: `buffer` itself when it has them; its own memory under the new
// shape when it is a whole allocation (not a view) of that dtype and device with room for it; else a new
// tensor in its place. Layers and the trainer keep their per-step tensors this way, so steady training
// allocates nothing, and a smaller batch (evaluation's last) and the full ones after it reuse the same
// memory.
Tensor& ensure_tensor(Tensor& buffer, const Shape& shape, Device device, DType dtype = DType::f32);

}  // namespace ringtrain
