// SGD and Adam: thin owners of their slots that call the fused update ops.
#include "core/optim/optimizer.hpp"

#include <sstream>

#include "core/ops/optimizer_update.hpp"

namespace ringtrain {

namespace {

class Sgd final : public Optimizer {
 public:
  Sgd(double momentum, std::int64_t count, Device device) : momentum_(momentum) {
    if (momentum_ > 0) velocity_ = Tensor::zeros({count}, DType::f32, device);
  }

  float update_rate(float learning_rate) const override { return learning_rate; }

  void queue_update(ParameterStore& store, float rate, const float* rate_on_device) override {
    ops::sgd_update(store.values(), store.gradients(), velocity_, rate, static_cast<float>(momentum_),
                    rate_on_device);
  }

  std::vector<StateTensor> state() override {
    if (!velocity_.defined()) return {};
    return {{"sgd/velocity", velocity_}};
  }

  std::string describe() const override {
    std::ostringstream out;
    out << "SGD(momentum=" << momentum_ << ")";
    return out.str();
  }

 private:
  double momentum_;
  Tensor velocity_;
};

class Adam final : public Optimizer {
 public:
  Adam(const OptimizerSettings& settings, std::int64_t count, Device device)
      : settings_(settings),
        m_(Tensor::zeros({count}, DType::f32, device)),
        v_(Tensor::zeros({count}, DType::f32, device)) {}

  float update_rate(float learning_rate) const override {
    return ops::adam_corrected_rate(learning_rate, static_cast<float>(settings_.beta1),
                                    static_cast<float>(settings_.beta2), steps_ + 1);
  }

  void queue_update(ParameterStore& store, float rate, const float* rate_on_device) override {
    ops::adam_update_at_rate(store.values(), store.gradients(), m_, v_, rate, rate_on_device,
                             static_cast<float>(settings_.beta1), static_cast<float>(settings_.beta2),
                             static_cast<float>(settings_.epsilon));
  }

  std::vector<StateTensor> state() override { return {{"adam/m", m_}, {"adam/v", v_}}; }

  std::string describe() const override {
    std::ostringstream out;
    out << "Adam(beta_1=" << settings_.beta1 << ", beta_2=" << settings_.beta2
        << ", epsilon=" << settings_.epsilon << ")";
    return out.str();
  }

 private:
  OptimizerSettings settings_;
  Tensor m_, v_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, const ParameterStore& store,
                                          Device device) {
  if (settings.name == "sgd") {
    RT_CHECK(settings.momentum >= 0 && settings.momentum < 1,
             "optimizer momentum=" << settings.momentum << " must be in [0, 1)");
    return std::make_unique<Sgd>(settings.momentum, store.count(), device);
  }
  if (settings.name == "adam") {
    RT_CHECK(settings.beta1 >= 0 && settings.beta1 < 1 && settings.beta2 >= 0 && settings.beta2 < 1,
             "adam beta_1=" << settings.beta1 << " and beta_2=" << settings.beta2 << " must be in [0, 1)");
    RT_CHECK(settings.epsilon > 0, "adam epsilon=" << settings.epsilon << " must be positive");
    return std::make_unique<Adam>(settings, store.count(), device);
  }
  RT_FAIL("unknown optimizer '" << settings.name << "': use sgd or adam");
}

}  // namespace ringtrain
