// Tests of Sequential: Keras layer names and output shapes, the flat parameter layout, whole-model gradients
// through the fused loss, predict vs forward_logits, seeded glorot-uniform initialization, and batch-norm
// moving statistics in training and inference.
#include "core/model/sequential.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/model/model_spec.hpp"
#include "core/ops/softmax_cross_entropy.hpp"
#include "core/rng.hpp"
#include "tests/reference/activation.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;

std::unique_ptr<Sequential> built_model(const Shape& input, std::vector<std::string> layers,
                                        std::uint64_t seed) {
  ModelSpec spec;
  spec.input_shape = input;
  spec.layers = std::move(layers);
  auto model = make_model(spec);
  model->build(seed, Device::cpu);
  return model;
}

// conv2d (3,3,2) 18+2, batch_normalization 2+2, activation, conv2d_1 (2,2,3) 24, flatten 12, dropout,
// dense 36+3, activation_1 (softmax): 87 parameters.
std::unique_ptr<Sequential> small_model(std::uint64_t seed = 42) {
  return built_model({6, 6, 1},
                     {"conv2d filters=2 kernel_size=3 strides=2 padding=same", "batch_normalization",
                      "activation relu", "conv2d filters=3 kernel_size=2 use_bias=false", "flatten",
                      "dropout 0.3", "dense units=3 activation=softmax"},
                     seed);
}

TEST(Sequential, NamesLayersAndInfersShapesKerasStyle) {
  auto model = small_model();
  const std::vector<std::string> names{
      "conv2d", "batch_normalization", "activation", "conv2d_1", "flatten", "dropout",
      "dense",  "activation_1"};
  const std::vector<Shape> shapes{{3, 3, 2}, {3, 3, 2}, {3, 3, 2}, {2, 2, 3}, {12}, {12}, {3}, {3}};
  ASSERT_EQ(model->layers().size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(model->layers()[i]->name(), names[i]);
    EXPECT_EQ(model->layers()[i]->index(), static_cast<int>(i));
    EXPECT_EQ(model->output_shape(i), shapes[i]) << names[i];
  }
  EXPECT_EQ(model->parameter_count(*model->layers()[0]), 20);
  EXPECT_EQ(model->parameter_count(*model->layers()[3]), 24);
  EXPECT_EQ(model->parameter_count(*model->layers()[6]), 39);
}

TEST(Sequential, CountsTheMultiplyAddsOfATrainingStep) {
  // conv2d: 3x3x2 outputs of 3x3x1 windows, 162; the first trained layer, so no input gradient: 2 x 162.
  // conv2d_1: 2x2x3 outputs of 2x2x2 windows, 96, three times; dense: 12 x 3, three times.
  EXPECT_EQ(small_model()->training_multiply_adds(), 2 * 162 + 3 * 96 + 3 * 36);
  // Experiment 9: 28x28x12 outputs of 3x3x1, 14x14x24 of 6x6x12, 7x7x32 of 6x6x24, 1568 x 200, 200 x 10.
  const auto experiment_9 =
      built_model({784},
                  {"reshape 28,28,1", "conv2d filters=12 kernel_size=3 padding=same use_bias=false",
                   "batch_normalization center=true scale=false", "activation relu",
                   "conv2d filters=24 kernel_size=6 strides=2 padding=same use_bias=false",
                   "batch_normalization center=true scale=false", "activation relu",
                   "conv2d filters=32 kernel_size=6 strides=2 padding=same use_bias=false",
                   "batch_normalization center=true scale=false", "activation relu", "flatten",
                   "dense units=200 use_bias=false", "batch_normalization center=true scale=false",
                   "activation relu", "dropout 0.3", "dense units=10 activation=softmax"},
                  1);
  const std::int64_t first = 28 * 28 * 12 * 9;
  const std::int64_t rest = 14 * 14 * 24 * 36 * 12 + 7 * 7 * 32 * 36 * 24 + 1568 * 200 + 200 * 10;
  EXPECT_EQ(experiment_9->training_multiply_adds(), 2 * first + 3 * rest);
}

TEST(Sequential, ParametersAreContiguousViewsInDeclarationOrder) {
  auto model = small_model();
  ParameterStore& store = model->parameters();
  const std::vector<std::pair<std::string, Shape>> expected{{"conv2d/kernel", {3, 3, 1, 2}},
                                                            {"conv2d/bias", {2}},
                                                            {"batch_normalization/gamma", {2}},
                                                            {"batch_normalization/beta", {2}},
                                                            {"conv2d_1/kernel", {2, 2, 2, 3}},
                                                            {"dense/kernel", {12, 3}},
                                                            {"dense/bias", {3}}};
  ASSERT_EQ(store.parameters().size(), expected.size());
  EXPECT_EQ(store.count(), 87);
  EXPECT_EQ(store.values().numel(), 87);
  EXPECT_EQ(store.gradients().numel(), 87);
  const float* values = store.values().data<float>();
  const float* gradients = store.gradients().data<float>();
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Parameter& parameter = *store.parameters()[i];
    EXPECT_EQ(parameter.name, expected[i].first);
    EXPECT_EQ(parameter.shape, expected[i].second) << parameter.name;
    EXPECT_EQ(parameter.offset, offset) << parameter.name;
    EXPECT_EQ(parameter.value.data<float>(), values + offset) << parameter.name;
    EXPECT_EQ(parameter.gradient.data<float>(), gradients + offset) << parameter.name;
    EXPECT_EQ(parameter.value.shape(), parameter.shape);
    offset += parameter.shape.numel();
  }
  EXPECT_EQ(offset, store.count());
}

TEST(Sequential, WholeModelGradientMatchesFiniteDifferencesOfTheLoss) {
  auto model = small_model();
  ParameterStore& store = model->parameters();
  store.values().copy_from(ref::random_tensor({store.count()}, 5));  // nonzero biases and beta too
  const Tensor x = ref::random_tensor({4, 6, 6, 1}, 6, 0.0, 1.0);
  const Tensor labels = ref::int_tensor({4}, {0, 2, 1, 2});
  StepContext context;
  context.mode = Mode::train;  // batch statistics; dropout keyed by (seed, step) stays fixed
  context.seed = 9;
  context.step = 3;
  auto mean_loss = [&](const Tensor& values) {
    store.values().copy_from(values);
    Tensor no_gradient;
    return ops::softmax_cross_entropy(model->forward_logits(x, context), labels, 1.0f, no_gradient).loss_sum /
           4;
  };
  const Tensor logits = model->forward_logits(x, context);
  Tensor dlogits = Tensor::empty(logits.shape());
  ops::softmax_cross_entropy(logits, labels, 0.25f, dlogits);
  store.gradients().copy_from(ref::filled_tensor({store.count()}, 1e3f));
  model->backward(dlogits, context);
  const ref::Values analytic = ref::to_values(store.gradients());
  const Tensor saved = store.values().to(Device::cpu);
  const ref::Values numeric = ref::finite_difference(mean_loss, saved, 1e-3f);
  store.values().copy_from(saved);
  ref::expect_close(analytic, numeric, 2e-2, 2e-3);
}

TEST(Sequential, PredictAppliesSoftmaxThatForwardLogitsLeavesOut) {
  auto model = small_model();
  const Tensor x = ref::random_tensor({5, 36}, 7, 0.0, 1.0);  // flat images feed a (6, 6, 1) input too
  StepContext inference;
  const ref::Values logits = ref::to_values(model->forward_logits(x, inference));
  ASSERT_EQ(logits.size(), 15u);
  const ref::Values probabilities = ref::to_values(model->predict(x));
  ref::expect_close(probabilities, ref::activation_forward(ops::Activation::softmax, logits, 3), 1e-5, 1e-6);
  bool logits_look_like_probabilities = true;
  for (std::size_t row = 0; row < 5; ++row) {
    const double sum = probabilities[3 * row] + probabilities[3 * row + 1] + probabilities[3 * row + 2];
    EXPECT_NEAR(sum, 1.0, 1e-5);
    const double logit_sum = logits[3 * row] + logits[3 * row + 1] + logits[3 * row + 2];
    if (std::abs(logit_sum - 1.0) > 1e-3) logits_look_like_probabilities = false;
  }
  EXPECT_FALSE(logits_look_like_probabilities);
}

TEST(Sequential, InitializationIsSeededAndGlorotUniform) {
  const std::vector<float> first = small_model(5)->parameters().values().to_vector();
  EXPECT_EQ(small_model(5)->parameters().values().to_vector(), first);
  EXPECT_NE(small_model(6)->parameters().values().to_vector(), first);

  auto model = built_model({8, 8, 16}, {"conv2d filters=32 kernel_size=5", "flatten", "dense units=100"}, 3);
  const auto& parameters = model->parameters().parameters();
  for (std::size_t index = 0; index < parameters.size(); ++index) {
    const auto& parameter = parameters[index];
    const std::vector<float> values = parameter->value.to_vector();
    if (parameter->initializer != Initializer::glorot_uniform) {
      EXPECT_EQ(values, std::vector<float>(values.size(), 0.0f)) << parameter->name;  // biases start at zero
      continue;
    }
    const auto [fan_in, fan_out] = glorot_fans(parameter->shape);
    const double limit = std::sqrt(6.0 / (fan_in + fan_out));
    // Value i is (2 u - 1) * limit, u the i-th uniform of the parameter's own Philox stream.
    const Philox stream(3, RandomStream::initialization, index);
    for (std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{5}, values.size() - 1}) {
      EXPECT_EQ(values[i], (2.0f * stream.uniform(0, i) - 1.0f) * static_cast<float>(limit))
          << parameter->name << "[" << i << "]";
    }
    double sum = 0, sum_sq = 0, low = limit, high = -limit;
    for (float value : values) {
      sum += value;
      sum_sq += static_cast<double>(value) * value;
      low = std::min<double>(low, value);
      high = std::max<double>(high, value);
    }
    const double n = static_cast<double>(values.size()), mean = sum / n;
    EXPECT_LE(high, limit) << parameter->name;
    EXPECT_GE(low, -limit) << parameter->name;
    EXPECT_GT(high, 0.99 * limit) << parameter->name;
    EXPECT_LT(low, -0.99 * limit) << parameter->name;
    EXPECT_NEAR(mean, 0.0, 0.03 * limit) << parameter->name;
    EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), limit / std::sqrt(3.0), 0.03 * limit) << parameter->name;
  }
  // Keras' fans: conv [5, 5, 16, 32] -> (400, 800); dense [4 * 4 * 32, 100] -> (512, 100).
  EXPECT_EQ(glorot_fans({5, 5, 16, 32}), (std::pair<double, double>{400, 800}));
  EXPECT_EQ(model->output_shape(1), Shape{512});
}

TEST(Sequential, BatchNormMovingStatisticsFollowMomentumAndServeInference) {
  auto model = built_model({3}, {"batch_normalization center=true scale=false momentum=0.9"}, 1);
  const std::vector<StateTensor> state = model->state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].name, "batch_normalization/moving_mean");
  EXPECT_EQ(state[1].name, "batch_normalization/moving_variance");
  const ref::Values beta{0.5, -1.0, 2.0};
  model->parameters().values().copy_from(ref::to_tensor({3}, beta));

  ref::Values moving_mean{0, 0, 0}, moving_variance{1, 1, 1};
  StepContext train;
  train.mode = Mode::train;
  for (std::uint32_t step = 0; step < 2; ++step) {
    const Tensor batch = ref::random_tensor({8, 3}, 20 + step, -1.0, 3.0);
    const ref::Values x = ref::to_values(batch);
    for (std::size_t c = 0; c < 3; ++c) {
      double mean = 0, variance = 0;
      for (std::size_t r = 0; r < 8; ++r)
        mean += x[3 * r + c] / 8;
      for (std::size_t r = 0; r < 8; ++r)
        variance += (x[3 * r + c] - mean) * (x[3 * r + c] - mean) / 8;
      moving_mean[c] = 0.9 * moving_mean[c] + 0.1 * mean;
      moving_variance[c] = 0.9 * moving_variance[c] + 0.1 * variance;
    }
    model->forward_logits(batch, train);
    ref::expect_close(state[0].value, moving_mean, 1e-5, 1e-6);
    ref::expect_close(state[1].value, moving_variance, 1e-5, 1e-6);
  }

  const Tensor batch = ref::random_tensor({4, 3}, 30, -1.0, 3.0);
  const ref::Values x = ref::to_values(batch);
  ref::Values expected(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i % 3;
    expected[i] = (x[i] - moving_mean[c]) / std::sqrt(moving_variance[c] + 1e-3) + beta[c];
  }
  StepContext inference;
  ref::expect_close(model->forward_logits(batch, inference), expected, 1e-5, 1e-5);
  // Inference leaves the moving statistics alone.
  ref::expect_close(state[0].value, moving_mean, 1e-5, 1e-6);
}

TEST(Sequential, RejectsMisuse) {
  auto model = small_model();
  EXPECT_THROW(model->build(1, Device::cpu), Error);
  EXPECT_THROW(model->add(std::unique_ptr<Layer>()), Error);
  StepContext inference;
  EXPECT_THROW(model->forward_logits(ref::random_tensor({2, 35}, 1), inference), Error);
  Sequential unbuilt(Shape{4});
  EXPECT_THROW(unbuilt.forward_logits(ref::random_tensor({2, 4}, 1), inference), Error);
}

}  // namespace
}  // namespace ringtrain
