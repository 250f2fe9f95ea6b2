// The element check every communicator of float tensors shares.
#include "core/comm/communicator.hpp"

namespace ringtrain {

void* float_elements(const Tensor& buffer, Device device, const char* communicator, const char* call) {
  RT_CHECK(buffer.device() == device && (buffer.dtype() == DType::f32 || buffer.dtype() == DType::f64),
           call << ": the " << communicator << " communicator takes float32 or float64 " << to_string(device)
                << " tensors, not " << to_string(buffer.dtype()) << " on " << to_string(buffer.device()));
  return buffer.dtype() == DType::f64 ? static_cast<void*>(buffer.data<double>())
                                      : static_cast<void*>(buffer.data<float>());
}

}  // namespace ringtrain
