// Conv2D: Keras' 2-D convolution on NHWC inputs with HWIO kernels and TensorFlow's 'same' padding.
#include "core/ops/conv2d.hpp"
#include "core/layers/factory.hpp"

namespace ringtrain {

namespace {

struct Conv2DSettings {
  std::int64_t filters = 0, kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  ops::Padding padding = ops::Padding::valid;
  bool use_bias = true;
};

class Conv2D final : public Layer {
 public:
  explicit Conv2D(Conv2DSettings settings) : settings_(settings) {}

  std::string type() const override { return "Conv2D"; }
  std::string describe() const override {
    const auto& s = settings_;
    return "filters=" + std::to_string(s.filters) + " kernel_size=" + std::to_string(s.kernel_h) + "," +
           std::to_string(s.kernel_w) + " strides=" + std::to_string(s.stride_h) + "," +
           std::to_string(s.stride_w) + " padding=" + ops::to_string(s.padding) +
           " use_bias=" + (s.use_bias ? "true" : "false");
  }

  Shape build(const Shape& input_shape, ParameterStore& store, Device device) override {
    RT_CHECK(input_shape.rank() == 3, name() << ": Conv2D needs (height, width, channels) input, got "
                                             << to_string(input_shape) << ": add a reshape layer before it");
    device_ = device;
    const auto& s = settings_;
    ops::Conv2DGeometry g;
    try {
      g = geometry(1, input_shape);
    } catch (const Error& error) {
      RT_FAIL(name() << ": kernel_size=" << s.kernel_h << "," << s.kernel_w << " on input "
                     << to_string(input_shape) << ": " << error.what());
    }
    kernel_ = store.declare(name() + "/kernel", {s.kernel_h, s.kernel_w, input_shape[2], s.filters},
                            Initializer::glorot_uniform);
    if (s.use_bias) bias_ = store.declare(name() + "/bias", {s.filters}, Initializer::zeros);
    return {g.out_h, g.out_w, s.filters};
  }

  std::int64_t multiply_adds(const Shape& input_shape) const override {
    const auto g = geometry(1, input_shape);
    return g.out_h * g.out_w * g.out_c * g.kernel_h * g.kernel_w * g.in_c;
  }

  Tensor forward(const Tensor& x, const StepContext&) override {
    input_ = x;
    geometry_ = geometry(x.dim(0), x.shape().without_batch());
    ensure_tensor(output_, {geometry_.batch, geometry_.out_h, geometry_.out_w, geometry_.out_c}, device_);
    ops::conv2d_forward(geometry_, x, kernel_->value, settings_.use_bias ? bias_->value : Tensor(), output_);
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    Tensor no_bias;
    ops::conv2d_backward_filter(geometry_, input_, dy, kernel_->gradient,
                                settings_.use_bias ? bias_->gradient : no_bias);
    if (!context.input_gradient_needed) return Tensor();
    ensure_tensor(input_gradient_, input_.shape(), device_);
    ops::conv2d_backward_data(geometry_, dy, kernel_->value, input_gradient_);
    return input_gradient_;
  }

 private:
  ops::Conv2DGeometry geometry(std::int64_t batch, const Shape& input) const {
    const auto& s = settings_;
    return ops::conv2d_geometry(batch, input[0], input[1], input[2], s.filters, s.kernel_h, s.kernel_w,
                                s.stride_h, s.stride_w, s.padding);
  }

  Conv2DSettings settings_;
  Device device_ = Device::cpu;
  Parameter* kernel_ = nullptr;
  Parameter* bias_ = nullptr;
  ops::Conv2DGeometry geometry_;
  Tensor input_, output_, input_gradient_;
};

}  // namespace

LayerList make_conv2d(LayerOptions& options) {
  Conv2DSettings settings;
  settings.filters = options.required_integer("filters");
  RT_CHECK(settings.filters > 0, options.where() << ": filters=" << settings.filters << " must be positive");
  std::tie(settings.kernel_h, settings.kernel_w) = options.positive_pair("kernel_size", 0);
  std::tie(settings.stride_h, settings.stride_w) = options.positive_pair("strides", 1);
  settings.padding = options.parsed("padding", "valid", ops::parse_padding);
  settings.use_bias = options.boolean("use_bias", true);
  LayerList layers;
  layers.push_back(std::make_unique<Conv2D>(settings));
  append_activation(layers, options);
  return layers;
}

}  // namespace ringtrain
