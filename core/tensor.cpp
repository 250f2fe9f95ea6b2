// Tensor and Shape: allocation, views and copies.
#include "core/tensor.hpp"

#include <cstring>
#include <sstream>

namespace ringtrain {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::i32:
      return 4;
    case DType::u8:
      return 1;
  }
  return 0;
}

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float32";
    case DType::f64:
      return "float64";
    case DType::i32:
      return "int32";
    case DType::u8:
      return "uint8";
  }
  return "?";
}

std::int64_t Shape::numel() const {
  std::int64_t count = 1;
  for (std::int64_t dim : dims_) {
    RT_CHECK(
        !__builtin_mul_overflow(count, dim, &count),
        "the shape " << to_string(*this)
                     << " has more elements than 64 bits count: check the input shape and the layers' sizes");
  }
  return count;
}

Shape Shape::with_batch(std::int64_t batch) const {
  std::vector<std::int64_t> dims{batch};
  dims.insert(dims.end(), dims_.begin(), dims_.end());
  return Shape(std::move(dims));
}

Shape Shape::without_batch() const {
  RT_CHECK(!dims_.empty(), "cannot drop the batch dimension of a scalar shape");
  return Shape(std::vector<std::int64_t>(dims_.begin() + 1, dims_.end()));
}

static std::string join_dims(const std::vector<std::int64_t>& dims, bool none_batch) {
  std::ostringstream out;
  out << '(';
  if (none_batch) out << "None" << (dims.empty() ? "" : ", ");
  for (std::size_t i = 0; i < dims.size(); ++i)
    out << (i ? ", " : "") << dims[i];
  if (!none_batch && dims.size() == 1) out << ',';
  out << ')';
  return out.str();
}

std::string to_string(const Shape& shape) {
  return join_dims(shape.dims(), false);
}
std::string to_string_with_none_batch(const Shape& shape) {
  return join_dims(shape.dims(), true);
}

static void require_no_negative_dimension(const Shape& shape) {
  for (std::int64_t dim : shape.dims())
    RT_CHECK(dim >= 0, "negative dimension in shape " << to_string(shape));
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  require_no_negative_dimension(shape);
  Tensor tensor;
  tensor.shape_ = shape;
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  tensor.capacity_bytes_ = std::max<std::size_t>(tensor.bytes(), 1);
  tensor.whole_allocation_ = true;
  void* pointer = device_allocate(device, tensor.capacity_bytes_);
  tensor.storage_ = std::shared_ptr<void>(pointer, [device](void* p) { device_free(device, p); });
  return tensor;
}

Tensor& ensure_tensor(Tensor& buffer, const Shape& shape, Device device, DType dtype) {
  const bool same_kind = buffer.defined() && buffer.device() == device && buffer.dtype() == dtype;
  if (same_kind && buffer.shape() == shape) return buffer;
  require_no_negative_dimension(shape);
  const std::size_t needed = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  if (same_kind && buffer.whole_allocation_ && needed <= buffer.capacity_bytes_) {
    buffer.shape_ = shape;
  } else {
    buffer = Tensor::empty(shape, dtype, device);
  }
  return buffer;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor tensor = empty(shape, dtype, device);
  tensor.fill_zero();
  return tensor;
}

Tensor Tensor::view(const Shape& shape, std::int64_t element_offset) const {
  RT_CHECK(defined(), "view of an undefined tensor");
  const std::size_t offset = static_cast<std::size_t>(element_offset) * dtype_size(dtype_);
  const std::size_t needed = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype_);
  RT_CHECK(element_offset >= 0 && offset + needed <= capacity_bytes_,
           "view " << to_string(shape) << " at offset " << element_offset << " exceeds tensor "
                   << to_string(shape_));
  Tensor result = *this;
  result.shape_ = shape;
  result.offset_bytes_ = offset_bytes_ + offset;
  result.capacity_bytes_ = capacity_bytes_ - offset;
  result.whole_allocation_ = false;
  return result;
}

Tensor Tensor::slice_rows(std::int64_t begin, std::int64_t end) const {
  RT_CHECK(rank() >= 1 && 0 <= begin && begin <= end && end <= dim(0),
           "rows [" << begin << ", " << end << ") outside tensor " << to_string(shape_));
  std::vector<std::int64_t> dims = shape_.dims();
  dims[0] = end - begin;
  return view(Shape(dims), begin * (numel() / std::max<std::int64_t>(dim(0), 1)));
}

void Tensor::fill_zero() {
  device_fill_zero(device_, data_bytes(), bytes());
}

void Tensor::copy_from(const Tensor& source) {
  RT_CHECK(source.numel() == numel() && source.dtype() == dtype_,
           "copy of " << to_string(source.shape()) << " into " << to_string(shape_));
  device_copy(data_bytes(), device_, source.data_bytes(), source.device_, bytes());
}

Tensor Tensor::to(Device device) const {
  Tensor result = empty(shape_, dtype_, device);
  result.copy_from(*this);
  return result;
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> values(static_cast<std::size_t>(numel()));
  RT_CHECK(dtype_ == DType::f32, "to_vector needs a float32 tensor, not " << to_string(dtype_));
  device_copy(values.data(), Device::cpu, data_bytes(), device_, bytes());
  return values;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values, Device device) {
  RT_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(),
           values.size() << " values do not fill shape " << to_string(shape));
  Tensor tensor = empty(shape, DType::f32, device);
  device_copy(tensor.data_bytes(), device, values.data(), Device::cpu, tensor.bytes());
  return tensor;
}

}  // namespace ringtrain
