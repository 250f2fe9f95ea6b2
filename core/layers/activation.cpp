// Activation: an elementwise function (relu, sigmoid, tanh) or softmax over the last axis.
#include "core/ops/activation.hpp"
#include "core/layers/factory.hpp"

namespace ringtrain {

namespace {

class Activation final : public Layer {
 public:
  explicit Activation(ops::Activation function) : function_(function) {}

  std::string type() const override { return "Activation"; }
  std::string describe() const override { return "activation=" + ops::to_string(function_); }
  ops::Activation function() const { return function_; }

  Shape build(const Shape& input_shape, ParameterStore&, Device device) override {
    device_ = device;
    return input_shape;
  }

  Tensor forward(const Tensor& x, const StepContext&) override {
    ensure_tensor(output_, x.shape(), device_);
    ops::activation_forward(function_, x, output_);
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    if (!context.input_gradient_needed) return Tensor();
    ensure_tensor(input_gradient_, dy.shape(), device_);
    ops::activation_backward(function_, output_, dy, input_gradient_);
    return input_gradient_;
  }

 private:
  ops::Activation function_;
  Device device_ = Device::cpu;
  Tensor output_, input_gradient_;
};

}  // namespace

LayerList make_activation(LayerOptions& options) {
  const std::string function = options.text("activation", "");
  RT_CHECK(!function.empty(), options.where()
                                  << ": activation layer needs activation=relu|sigmoid|tanh|softmax|linear");
  LayerList layers;
  layers.push_back(
      std::make_unique<Activation>(options.parsed("activation", function, ops::parse_activation)));
  return layers;
}

bool is_softmax_activation(const Layer& layer) {
  const auto* activation = dynamic_cast<const Activation*>(&layer);
  return activation != nullptr && activation->function() == ops::Activation::softmax;
}

bool is_probability_activation(const Layer& layer) {
  const auto* activation = dynamic_cast<const Activation*>(&layer);
  return activation != nullptr && (activation->function() == ops::Activation::softmax ||
                                   activation->function() == ops::Activation::sigmoid);
}

}  // namespace ringtrain
