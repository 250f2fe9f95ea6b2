// BatchNormalization: Keras' batch norm over the last axis (channels), batch statistics in training and
// moving statistics (momentum, epsilon) in inference; center adds a learned beta, scale a learned gamma.
#include <cmath>

#include "core/layers/factory.hpp"
#include "core/ops/batchnorm.hpp"

namespace ringtrain {

namespace {

struct BatchNormSettings {
  bool center = true, scale = true;
  float momentum = 0.99f, epsilon = 1e-3f;
};

class BatchNormalization final : public Layer {
 public:
  explicit BatchNormalization(BatchNormSettings settings) : settings_(settings) {}

  std::string type() const override { return "BatchNormalization"; }
  std::string describe() const override {
    return std::string("center=") + (settings_.center ? "true" : "false") +
           " scale=" + (settings_.scale ? "true" : "false") +
           " momentum=" + std::to_string(settings_.momentum) +
           " epsilon=" + std::to_string(settings_.epsilon);
  }

  Shape build(const Shape& input_shape, ParameterStore& store, Device device) override {
    device_ = device;
    const std::int64_t channels = input_shape[input_shape.rank() - 1];
    if (settings_.scale) gamma_ = store.declare(name() + "/gamma", {channels}, Initializer::ones);
    if (settings_.center) beta_ = store.declare(name() + "/beta", {channels}, Initializer::zeros);
    moving_mean_ = Tensor::zeros({channels}, DType::f32, device);
    moving_variance_ =
        Tensor::from_vector({channels}, std::vector<float>(static_cast<std::size_t>(channels), 1.0f))
            .to(device);
    for (Tensor* buffer : {&mean_, &variance_, &inv_std_})
      *buffer = Tensor::zeros({channels}, DType::f32, device);
    // Each pair of per-channel sums shares one buffer, so one all-reduce synchronises both; the forward sums
    // are float64 (the variance is their difference).
    statistics_ = Tensor::zeros({2 * channels}, DType::f64, device);
    sum_ = statistics_.view({channels}, 0);
    sum_sq_ = statistics_.view({channels}, channels);
    gradient_statistics_ = Tensor::zeros({2 * channels}, DType::f32, device);
    sum_dy_ = gradient_statistics_.view({channels}, 0);
    sum_dy_xhat_ = gradient_statistics_.view({channels}, channels);
    return input_shape;
  }

  Tensor forward(const Tensor& x, const StepContext& context) override {
    const std::int64_t channels = moving_mean_.numel();
    rows_ = x.numel() / channels;
    input_ = x.reshaped({rows_, channels});
    ensure_tensor(output_, x.shape(), device_);
    Tensor output_rows = output_.reshaped({rows_, channels});
    if (context.mode == Mode::train) {
      ops::batchnorm_sums(input_, sum_, sum_sq_);
      if (context.batch_statistics != nullptr) context.batch_statistics->sum(statistics_);
      ops::batchnorm_statistics(sum_, sum_sq_, statistics_rows(context), settings_.epsilon, mean_, variance_,
                                inv_std_);
      ops::batchnorm_update_moving(moving_mean_, moving_variance_, mean_, variance_, settings_.momentum);
      ops::batchnorm_normalize(input_, mean_, inv_std_, gamma(), beta(), output_rows);
    } else {
      ops::batchnorm_inverse_std(moving_variance_, settings_.epsilon, inv_std_);
      ops::batchnorm_normalize(input_, moving_mean_, inv_std_, gamma(), beta(), output_rows);
    }
    return output_;
  }

  Tensor backward(const Tensor& dy, const StepContext& context) override {
    const Tensor dy_rows = dy.reshaped(input_.shape());
    ops::batchnorm_backward_sums(input_, dy_rows, mean_, inv_std_, sum_dy_, sum_dy_xhat_);
    // The parameter gradients are this process's part; the gradient all-reduce adds the others.
    if (beta_ != nullptr) beta_->gradient.copy_from(sum_dy_);
    if (gamma_ != nullptr) gamma_->gradient.copy_from(sum_dy_xhat_);
    if (!context.input_gradient_needed) return Tensor();
    if (context.batch_statistics != nullptr) context.batch_statistics->sum(gradient_statistics_);
    ensure_tensor(input_gradient_, dy.shape(), device_);
    Tensor dx_rows = input_gradient_.reshaped(input_.shape());
    ops::batchnorm_backward_data(input_, dy_rows, mean_, inv_std_, gamma(), sum_dy_, sum_dy_xhat_,
                                 statistics_rows(context), dx_rows);
    return input_gradient_;
  }

  std::vector<StateTensor> state() override {
    return {{name() + "/moving_mean", moving_mean_}, {name() + "/moving_variance", moving_variance_}};
  }

 private:
  // Rows the batch statistics are taken over: this process's, or every replica's when synchronised.
  double statistics_rows(const StepContext& context) const {
    const int replicas = context.batch_statistics != nullptr ? context.batch_statistics->size() : 1;
    return static_cast<double>(rows_) * replicas;
  }
  Tensor gamma() const { return gamma_ ? gamma_->value : Tensor(); }
  Tensor beta() const { return beta_ ? beta_->value : Tensor(); }

  BatchNormSettings settings_;
  Device device_ = Device::cpu;
  Parameter* gamma_ = nullptr;
  Parameter* beta_ = nullptr;
  Tensor moving_mean_, moving_variance_;
  Tensor statistics_, sum_, sum_sq_, gradient_statistics_, sum_dy_, sum_dy_xhat_;
  Tensor mean_, variance_, inv_std_;
  std::int64_t rows_ = 0;
  Tensor input_, output_, input_gradient_;
};

}  // namespace

LayerList make_batch_normalization(LayerOptions& options) {
  BatchNormSettings settings;
  settings.center = options.boolean("center", true);
  settings.scale = options.boolean("scale", true);
  settings.momentum = static_cast<float>(options.number("momentum", 0.99));
  const double epsilon = options.number("epsilon", 1e-3);
  settings.epsilon = static_cast<float>(epsilon);
  RT_CHECK(settings.momentum >= 0 && settings.momentum < 1,
           options.where() << ": momentum=" << settings.momentum << " must be in [0, 1)");
  RT_CHECK(settings.epsilon > 0 && std::isfinite(settings.epsilon),
           options.where() << ": epsilon=" << epsilon
                           << " must be a positive number float32 holds (1e-38 to 3e38)");
  LayerList layers;
  layers.push_back(std::make_unique<BatchNormalization>(settings));
  return layers;
}

}  // namespace ringtrain
