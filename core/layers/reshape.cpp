// Reshape and Flatten: new per-sample shapes over the same memory (no copy, no parameters).
#include "core/layers/factory.hpp"

namespace ringtrain {

namespace {

class Reshape final : public Layer {
 public:
  // An empty target flattens (Flatten); otherwise the per-sample target shape (Reshape).
  explicit Reshape(Shape target) : target_(std::move(target)) {}

  std::string type() const override { return target_.rank() == 0 ? "Flatten" : "Reshape"; }
  std::string describe() const override {
    return target_.rank() == 0 ? "" : "target_shape=" + to_string(target_);
  }

  Shape build(const Shape& input_shape, ParameterStore&, Device) override {
    if (target_.rank() == 0) return Shape{input_shape.numel()};
    RT_CHECK(target_.numel() == input_shape.numel(),
             name() << ": cannot reshape " << to_string(input_shape) << " (" << input_shape.numel()
                    << " values) to " << to_string(target_) << " (" << target_.numel() << " values)");
    return target_;
  }

  Tensor forward(const Tensor& x, const StepContext&) override {
    input_shape_ = x.shape();
    const Shape sample = target_.rank() == 0 ? Shape{x.numel() / x.dim(0)} : target_;
    return x.reshaped(sample.with_batch(x.dim(0)));
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    if (!context.input_gradient_needed) return Tensor();
    return dy.reshaped(input_shape_);
  }

 private:
  Shape target_;
  Shape input_shape_;
};

}  // namespace

LayerList make_reshape(LayerOptions& options) {
  const auto dims = options.integers("target_shape", {});
  RT_CHECK(!dims.empty(), options.where() << ": reshape needs target_shape=H,W,C");
  for (std::int64_t dim : dims) {
    RT_CHECK(dim > 0, options.where() << ": target_shape dimension " << dim << " must be positive");
  }
  LayerList layers;
  layers.push_back(std::make_unique<Reshape>(Shape(dims)));
  return layers;
}

LayerList make_flatten(LayerOptions&) {
  LayerList layers;
  layers.push_back(std::make_unique<Reshape>(Shape{}));
  return layers;
}

}  // namespace ringtrain
