// Layer's shared buffer helper.
#include "core/layers/layer.hpp"

namespace ringtrain {

Tensor& Layer::ensure(Tensor& buffer, const Shape& shape, Device device, DType dtype) {
  if (!buffer.defined() || buffer.shape() != shape || buffer.device() != device || buffer.dtype() != dtype) {
    buffer = Tensor::empty(shape, dtype, device);
  }
  return buffer;
}

}  // namespace ringtrain
