// ParameterStore: declaration, flat allocation and keyed initialization of parameters.
#include "core/model/parameter_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "core/text_format.hpp"

namespace ringtrain {

Parameter* ParameterStore::declare(const std::string& name, const Shape& shape, Initializer initializer) {
  RT_CHECK(!values_.defined(), "parameter " << name << " declared after the store was allocated");
  auto parameter = std::make_unique<Parameter>();
  parameter->name = name;
  parameter->shape = shape;
  parameter->initializer = initializer;
  parameter->offset = total_;
  // Checked as they are declared, before any layer allocates: values and gradients, 8 bytes a parameter.
  const std::int64_t count = shape.numel();
  const auto most = static_cast<std::int64_t>(std::min<std::uint64_t>(host_memory_bytes() / 8, INT64_MAX));
  RT_CHECK(count <= most - total_,
           name << " has " << with_thousands(count) << " parameters"
                << (total_ > 0 ? ": with the " + with_thousands(total_) + " before it, they" : ": they")
                << " and their gradients need "
                << (static_cast<double>(total_) + static_cast<double>(count)) * 8 / (1u << 30)
                << " GiB and do not fit in memory (this machine has " << gib(host_memory_bytes())
                << " GiB): check the layers' sizes");
  total_ += count;
  parameters_.push_back(std::move(parameter));
  return parameters_.back().get();
}

void ParameterStore::allocate(Device device) {
  try {
    values_ = Tensor::zeros({total_}, DType::f32, device);
    gradients_ = Tensor::zeros({total_}, DType::f32, device);
  } catch (const Error& error) {
    RT_FAIL("the model's " << with_thousands(total_)
                           << " parameters and their gradients do not fit in memory (" << error.what()
                           << "): check the layers' sizes");
  }
  for (auto& parameter : parameters_) {
    parameter->value = values_.view(parameter->shape, parameter->offset);
    parameter->gradient = gradients_.view(parameter->shape, parameter->offset);
  }
}

std::pair<double, double> glorot_fans(const Shape& shape) {
  if (shape.rank() == 2) return {static_cast<double>(shape[0]), static_cast<double>(shape[1])};
  if (shape.rank() == 4) {
    const double receptive = static_cast<double>(shape[0] * shape[1]);
    return {receptive * static_cast<double>(shape[2]), receptive * static_cast<double>(shape[3])};
  }
  const double size = std::sqrt(static_cast<double>(shape.numel()));
  return {size, size};
}

void ParameterStore::initialize(std::uint64_t seed) {
  RT_CHECK(values_.defined(), "initialize() before allocate()");
  // Drawn in place on the CPU; for a GPU into host memory, then copied once.
  std::vector<float> staging;
  float* values = nullptr;
  if (values_.device() == Device::cpu) {
    values = values_.data<float>();
  } else {
    staging.resize(static_cast<std::size_t>(total_));
    values = staging.data();
  }
  for (std::size_t index = 0; index < parameters_.size(); ++index) {
    const Parameter& parameter = *parameters_[index];
    float* out = values + parameter.offset;
    const std::int64_t count = parameter.shape.numel();
    if (parameter.initializer == Initializer::glorot_uniform) {
      const auto [fan_in, fan_out] = glorot_fans(parameter.shape);
      const float limit = static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
      const Philox generator(seed, RandomStream::initialization, index);
      generator.uniforms(0, 0, count, out);
      for (std::int64_t i = 0; i < count; ++i)
        out[i] = (2.0f * out[i] - 1.0f) * limit;
    } else {
      const float constant = parameter.initializer == Initializer::ones ? 1.0f : 0.0f;
      for (std::int64_t i = 0; i < count; ++i)
        out[i] = constant;
    }
  }
  if (!staging.empty())
    device_copy(values_.data<float>(), values_.device(), staging.data(), Device::cpu, values_.bytes());
}

}  // namespace ringtrain
