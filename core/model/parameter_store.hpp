// ParameterStore: every trainable parameter and its gradient as views into two flat contiguous buffers,
// so an optimizer steps over one array and an all-reduce can run over the gradients in buckets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace ringtrain {

enum class Initializer { glorot_uniform, zeros, ones };

struct Parameter {
  std::string name;  // "<layer>/<kind>", e.g. "conv2d_1/kernel"
  Shape shape;
  Initializer initializer = Initializer::zeros;
  std::int64_t offset = 0;  // elements from the start of the flat buffers
  Tensor value;             // views, valid after ParameterStore::allocate
  Tensor gradient;
};

class ParameterStore {
 public:
  // Declares a parameter; its tensors exist once allocate() has run. The pointer stays valid.
  Parameter* declare(const std::string& name, const Shape& shape, Initializer initializer);
  // Lays out all declared parameters in declaration order in one value and one gradient buffer.
  void allocate(Device device);
  // Fills every value from Philox(seed, initialization, parameter index): glorot-uniform kernels take
  // limit sqrt(6 / (fan_in + fan_out)) with Keras' fans; zeros and ones as named.
  void initialize(std::uint64_t seed);

  const std::vector<std::unique_ptr<Parameter>>& parameters() const { return parameters_; }
  std::int64_t count() const { return total_; }
  Tensor& values() { return values_; }
  Tensor& gradients() { return gradients_; }
  const Tensor& values() const { return values_; }

 private:
  std::vector<std::unique_ptr<Parameter>> parameters_;
  std::int64_t total_ = 0;
  Tensor values_;
  Tensor gradients_;
};

// Keras' fans: [in, out] -> (in, out); [kh, kw, in, out] -> (kh*kw*in, kh*kw*out).
std::pair<double, double> glorot_fans(const Shape& shape);

}  // namespace ringtrain
