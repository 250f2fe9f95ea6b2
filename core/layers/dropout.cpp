// Dropout: inverted dropout in training (masks keyed by seed, step, layer and global sample index),
// identity in inference.
#include "core/ops/dropout.hpp"
#include "core/layers/factory.hpp"
#include "core/text_format.hpp"

namespace ringtrain {

namespace {

class Dropout final : public Layer {
 public:
  explicit Dropout(float rate) : rate_(rate) {}

  std::string type() const override { return "Dropout"; }
  std::string describe() const override { return "rate=" + std::to_string(rate_); }

  Shape build(const Shape& input_shape, ParameterStore&, Device device) override {
    device_ = device;
    return input_shape;
  }

  Tensor forward(const Tensor& x, const StepContext& context) override {
    if (context.mode == Mode::inference || rate_ == 0.0f) return x;
    ensure_tensor(output_, x.shape(), device_);
    ops::dropout_forward(x, rate_, key(context), output_);
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    if (!context.input_gradient_needed) return Tensor();
    if (rate_ == 0.0f) return dy;
    ensure_tensor(input_gradient_, dy.shape(), device_);
    ops::dropout_backward(dy, rate_, key(context), input_gradient_);
    return input_gradient_;
  }

 private:
  ops::DropoutKey key(const StepContext& context) const {
    return {context.seed, static_cast<std::uint64_t>(index()), context.step, context.first_sample,
            context.step_on_device};
  }

  float rate_;
  Device device_ = Device::cpu;
  Tensor output_, input_gradient_;
};

}  // namespace

LayerList make_dropout(LayerOptions& options) {
  const double rate = options.required_number("rate");
  // Checked as the float the kernels use: 0.99999999999 is 1 there.
  RT_CHECK(rate >= 0 && static_cast<float>(rate) < 1.0f,
           options.where() << ": dropout rate=" << shortest_text(rate) << " must be in [0, 1)"
                           << (rate >= 0 && rate < 1 ? " as a 32-bit float, where it rounds to 1" : ""));
  LayerList layers;
  layers.push_back(std::make_unique<Dropout>(static_cast<float>(rate)));
  return layers;
}

}  // namespace ringtrain
