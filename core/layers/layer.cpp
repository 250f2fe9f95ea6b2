// Layer's shared buffer helper.
#include "core/layers/layer.hpp"

namespace ringtrain {

Tensor& Layer::ensure(Tensor& buffer, const Shape& shape, Device device, DType dtype) {
  return ensure_tensor(buffer, shape, dtype, device);
}

}  // namespace ringtrain
