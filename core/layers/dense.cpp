// Dense: y = x kernel + bias, Keras' fully connected layer on flat inputs.
#include "core/ops/dense.hpp"
#include "core/layers/factory.hpp"

namespace ringtrain {

namespace {

class Dense final : public Layer {
 public:
  Dense(std::int64_t units, bool use_bias) : units_(units), use_bias_(use_bias) {}

  std::string type() const override { return "Dense"; }
  std::string describe() const override {
    return "units=" + std::to_string(units_) + " use_bias=" + (use_bias_ ? "true" : "false");
  }

  Shape build(const Shape& input_shape, ParameterStore& store, Device device) override {
    RT_CHECK(input_shape.rank() == 1, name() << ": Dense needs a flat input, got " << to_string(input_shape)
                                             << ": add a flatten layer before it");
    device_ = device;
    kernel_ = store.declare(name() + "/kernel", {input_shape[0], units_}, Initializer::glorot_uniform);
    if (use_bias_) bias_ = store.declare(name() + "/bias", {units_}, Initializer::zeros);
    return {units_};
  }

  std::int64_t multiply_adds(const Shape& input_shape) const override { return input_shape[0] * units_; }

  Tensor forward(const Tensor& x, const StepContext&) override {
    input_ = x;
    ensure_tensor(output_, {x.dim(0), units_}, device_);
    ops::dense_forward(x, kernel_->value, use_bias_ ? bias_->value : Tensor(), output_);
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    Tensor dx;
    if (context.input_gradient_needed) dx = ensure_tensor(input_gradient_, input_.shape(), device_);
    Tensor no_bias;
    ops::dense_backward(input_, kernel_->value, dy, dx, kernel_->gradient,
                        use_bias_ ? bias_->gradient : no_bias);
    return dx;
  }

 private:
  std::int64_t units_;
  bool use_bias_;
  Device device_ = Device::cpu;
  Parameter* kernel_ = nullptr;
  Parameter* bias_ = nullptr;
  Tensor input_, output_, input_gradient_;
};

}  // namespace

LayerList make_dense(LayerOptions& options) {
  const std::int64_t units = options.required_integer("units");
  RT_CHECK(units > 0, options.where() << ": units=" << units << " must be positive");
  LayerList layers;
  layers.push_back(std::make_unique<Dense>(units, options.boolean("use_bias", true)));
  append_activation(layers, options);
  return layers;
}

}  // namespace ringtrain
