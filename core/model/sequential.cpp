// Sequential: building, forward to logits, backward and prediction.
#include "core/model/sequential.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/ops/activation.hpp"

namespace ringtrain {

namespace {

// "BatchNormalization" -> "batch_normalization", "Conv2D" -> "conv2d", as Keras names layers.
std::string snake_case(const std::string& type) {
  std::string name;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    const bool boundary = i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
                          std::islower(static_cast<unsigned char>(type[i - 1]));
    if (boundary) name += '_';
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

}  // namespace

void Sequential::add(std::unique_ptr<Layer> layer) {
  RT_CHECK(!laid_out_, "layer added to a model that is already built");
  layers_.push_back(std::move(layer));
}

void Sequential::add(LayerList layers) {
  for (auto& layer : layers)
    add(std::move(layer));
}

void Sequential::lay_out(Device device) {
  RT_CHECK(!laid_out_, "model laid out twice");
  RT_CHECK(!layers_.empty(), "model has no layers");
  device_ = device;
  std::map<std::string, int> seen;
  Shape shape = input_shape_;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = *layers_[i];
    const std::string base = snake_case(layer.type());
    const int count = seen[base]++;
    layer.set_name(count == 0 ? base : base + "_" + std::to_string(count));
    layer.set_index(static_cast<int>(i));
    try {
      shape = layer.build(shape, store_, device);
    } catch (const Error& error) {
      RT_FAIL("layer " << i + 1 << ": " << error.what());
    }
    output_shapes_.push_back(shape);
  }
  for (const auto& layer : layers_) {
    std::int64_t offset = -1;
    for (const auto& parameter : store_.parameters()) {
      if (parameter->name.rfind(layer->name() + "/", 0) == 0) {
        offset = offset < 0 ? parameter->offset : std::min(offset, parameter->offset);
      }
    }
    first_parameter_offset_.push_back(offset);
  }
  for (first_trained_layer_ = 0; first_trained_layer_ + 1 < layers_.size(); ++first_trained_layer_) {
    if (parameter_count(*layers_[first_trained_layer_]) > 0) break;
  }
  laid_out_ = true;
}

void Sequential::build(std::uint64_t seed, Device device) {
  RT_CHECK(!built_, "model built twice");
  lay_out(device);
  store_.allocate(device);
  store_.initialize(seed);
  built_ = true;
}

std::size_t Sequential::logits_layers() const {
  return is_softmax_activation(*layers_.back()) ? layers_.size() - 1 : layers_.size();
}

Tensor Sequential::forward_logits(const Tensor& x, const StepContext& context) {
  RT_CHECK(built_, "forward on a model that is not built");
  RT_CHECK(
      x.rank() >= 1 && x.numel() == x.dim(0) * input_shape_.numel(),
      "model input is " << to_string(x.shape()) << ", expected " << to_string_with_none_batch(input_shape_));
  Tensor activation = x.reshaped(input_shape_.with_batch(x.dim(0)));
  for (std::size_t i = 0; i < logits_layers(); ++i)
    activation = layers_[i]->forward(activation, context);
  return activation;
}

void Sequential::backward(const Tensor& dlogits, const StepContext& context,
                          const std::function<void(std::int64_t)>& gradients_ready) {
  Tensor gradient = dlogits;
  StepContext layer_context = context;
  // Layers before the first one with parameters need no gradient at all; the first one needs no dx.
  for (std::size_t i = logits_layers(); i-- > 0 && runs_backward(i);) {
    layer_context.input_gradient_needed = needs_input_gradient(i);
    gradient = layers_[i]->backward(gradient, layer_context);
    if (gradients_ready && first_parameter_offset_[i] >= 0) gradients_ready(first_parameter_offset_[i]);
  }
}

std::int64_t Sequential::training_multiply_adds() const {
  RT_CHECK(laid_out_, "training_multiply_adds before lay_out");
  std::int64_t total = 0;
  for (std::size_t i = 0; i < logits_layers(); ++i) {
    const std::int64_t forward = layers_[i]->multiply_adds(i == 0 ? input_shape_ : output_shapes_[i - 1]);
    const std::int64_t parameter_gradient = parameter_count(*layers_[i]) > 0 ? forward : 0;
    const std::int64_t input_gradient = needs_input_gradient(i) ? forward : 0;
    total += forward + parameter_gradient + input_gradient;
  }
  return total;
}

Tensor Sequential::predict(const Tensor& x) {
  StepContext context;
  context.mode = Mode::inference;
  Tensor logits = forward_logits(x.device() == device_ ? x : x.to(device_), context);
  Tensor probabilities = Tensor::empty(logits.shape(), DType::f32, logits.device());
  ops::activation_forward(ops::Activation::softmax, logits, probabilities);
  return probabilities.device() == Device::cpu ? probabilities : probabilities.to(Device::cpu);
}

std::int64_t Sequential::parameter_count(const Layer& layer) const {
  std::int64_t count = 0;
  const std::string prefix = layer.name() + "/";
  for (const auto& parameter : store_.parameters()) {
    if (parameter->name.rfind(prefix, 0) == 0) count += parameter->shape.numel();
  }
  return count;
}

std::vector<StateTensor> Sequential::state() {
  std::vector<StateTensor> all;
  for (auto& layer : layers_) {
    for (auto& tensor : layer->state())
      all.push_back(std::move(tensor));
  }
  return all;
}

}  // namespace ringtrain
