// MaxPooling2D and GlobalAveragePooling2D on NHWC inputs.
#include "core/ops/pooling.hpp"
#include "core/layers/factory.hpp"

namespace ringtrain {

namespace {

class MaxPooling2D final : public Layer {
 public:
  MaxPooling2D(std::pair<std::int64_t, std::int64_t> pool, std::pair<std::int64_t, std::int64_t> strides,
               ops::Padding padding)
      : pool_(pool), strides_(strides), padding_(padding) {}

  std::string type() const override { return "MaxPooling2D"; }
  std::string describe() const override {
    return "pool_size=" + std::to_string(pool_.first) + "," + std::to_string(pool_.second) +
           " strides=" + std::to_string(strides_.first) + "," + std::to_string(strides_.second) +
           " padding=" + ops::to_string(padding_);
  }

  Shape build(const Shape& input_shape, ParameterStore&, Device device) override {
    RT_CHECK(input_shape.rank() == 3, name() << ": MaxPooling2D needs (height, width, channels) input, got "
                                             << to_string(input_shape));
    device_ = device;
    try {
      const auto g = geometry(1, input_shape);
      return {g.out_h, g.out_w, g.in_c};
    } catch (const Error& error) {
      RT_FAIL(name() << ": pool_size=" << pool_.first << "," << pool_.second << " on input "
                     << to_string(input_shape) << ": " << error.what());
    }
  }

  Tensor forward(const Tensor& x, const StepContext&) override {
    geometry_ = geometry(x.dim(0), x.shape().without_batch());
    input_shape_ = x.shape();
    const Shape out{geometry_.batch, geometry_.out_h, geometry_.out_w, geometry_.in_c};
    ensure_tensor(output_, out, device_);
    ensure_tensor(argmax_, out, device_, DType::i32);
    ops::maxpool2d_forward(geometry_, x, output_, argmax_);
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    if (!context.input_gradient_needed) return Tensor();
    ensure_tensor(input_gradient_, input_shape_, device_);
    ops::maxpool2d_backward(geometry_, dy, argmax_, input_gradient_);
    return input_gradient_;
  }

 private:
  ops::Conv2DGeometry geometry(std::int64_t batch, const Shape& input) const {
    return ops::conv2d_geometry(batch, input[0], input[1], input[2], input[2], pool_.first, pool_.second,
                                strides_.first, strides_.second, padding_);
  }

  std::pair<std::int64_t, std::int64_t> pool_, strides_;
  ops::Padding padding_;
  Device device_ = Device::cpu;
  ops::Conv2DGeometry geometry_;
  Shape input_shape_;
  Tensor output_, argmax_, input_gradient_;
};

class GlobalAveragePooling2D final : public Layer {
 public:
  std::string type() const override { return "GlobalAveragePooling2D"; }
  std::string describe() const override { return ""; }

  Shape build(const Shape& input_shape, ParameterStore&, Device device) override {
    RT_CHECK(input_shape.rank() == 3,
             name() << ": GlobalAveragePooling2D needs (height, width, channels) input, got "
                    << to_string(input_shape));
    device_ = device;
    return {input_shape[2]};
  }

  Tensor forward(const Tensor& x, const StepContext&) override {
    input_shape_ = x.shape();
    ensure_tensor(output_, {x.dim(0), x.dim(3)}, device_);
    ops::global_average_pool_forward(x, output_);
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    if (!context.input_gradient_needed) return Tensor();
    ensure_tensor(input_gradient_, input_shape_, device_);
    ops::global_average_pool_backward(dy, input_gradient_);
    return input_gradient_;
  }

 private:
  Device device_ = Device::cpu;
  Shape input_shape_;
  Tensor output_, input_gradient_;
};

}  // namespace

LayerList make_max_pooling2d(LayerOptions& options) {
  const auto pool = options.positive_pair("pool_size", 2);
  const auto strides = options.text("strides", "").empty() ? pool : options.positive_pair("strides", 1);
  LayerList layers;
  layers.push_back(
      std::make_unique<MaxPooling2D>(pool, strides, options.parsed("padding", "valid", ops::parse_padding)));
  return layers;
}

LayerList make_global_average_pooling2d(LayerOptions&) {
  LayerList layers;
  layers.push_back(std::make_unique<GlobalAveragePooling2D>());
  return layers;
}

}  // namespace ringtrain
