// Tests of every layer through Layer::forward/backward (built by make_layers on its own ParameterStore), on
// every device built and usable (the GPU's are skipped without one): input and parameter gradients against
// central differences of L = sum(y * r), and forwards that keys or padding could get wrong, with the same
// tolerances on both.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "core/cuda/cuda_runtime.hpp"
#include "core/layers/factory.hpp"
#include "tests/reference/conv2d.hpp"
#include "tests/reference/dropout.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;
constexpr float kEps = 1e-2f;
constexpr double kRelTol = 2e-2, kAbsTol = 2e-3;

// One layer from a factory line, built on `device` for `input` with random parameter values in [-1, 1).
struct LayerUnderTest {
  LayerUnderTest(Device on, const std::string& type, std::map<std::string, std::string> options,
                 const Shape& input, const std::string& name)
      : device(on) {
    LayerOptions layer_options(std::move(options), "layer_gradient_test");
    LayerList layers = make_layers(type, layer_options);
    RT_CHECK(layers.size() == 1, type << " made " << layers.size() << " layers");
    layer = std::move(layers.front());
    layer->set_name(name);
    output_shape = layer->build(input, store, device);
    store.allocate(device);
    store.initialize(1);
    if (store.count() > 0) store.values().copy_from(ref::random_tensor({store.count()}, 77));
  }

  std::vector<std::string> parameter_names() const {
    std::vector<std::string> names;
    for (const auto& parameter : store.parameters())
      names.push_back(parameter->name);
    return names;
  }

  // The layer's passes on a host tensor, moved to the layer's device.
  Tensor forward(const Tensor& x, const StepContext& context) {
    return layer->forward(x.to(device), context);
  }
  Tensor backward(const Tensor& dy, const StepContext& context) {
    return layer->backward(dy.to(device), context);
  }

  Device device;
  std::unique_ptr<Layer> layer;
  ParameterStore store;
  Shape output_shape;
};

// Every test runs on the CPU and, where one is usable, on the GPU.
class LayerGradients : public testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    if (GetParam() == Device::cuda && cuda::device_count() == 0)
      GTEST_SKIP() << "no usable GPU: " << cuda::describe();
  }
};

StepContext train_context() {
  StepContext context;
  context.mode = Mode::train;
  context.seed = 2024;
  context.step = 5;
  context.first_sample = 96;
  return context;
}

// dx and every parameter gradient (read from the store, pre-filled with garbage so that backward must write
// them) against finite differences of L = sum(y * r).
void check_gradients(LayerUnderTest& t, const Tensor& x, const StepContext& context) {
  const Tensor y = t.forward(x, context);
  ASSERT_EQ(y.shape(), t.output_shape.with_batch(x.dim(0)));
  const ref::Values r = ref::random_values(static_cast<std::size_t>(y.numel()), 11);
  const std::int64_t count = t.store.count();
  if (count > 0) t.store.gradients().copy_from(ref::filled_tensor({count}, 1e3f));
  const ref::Values dx = ref::to_values(t.backward(ref::to_tensor(y.shape(), r), context));
  const ref::Values dparameters = count > 0 ? ref::to_values(t.store.gradients()) : ref::Values{};

  auto loss_at_input = [&](const Tensor& probe) { return ref::weighted_sum(t.forward(probe, context), r); };
  EXPECT_TRUE(ref::all_close(dx, ref::finite_difference(loss_at_input, x, kEps), kRelTol, kAbsTol)) << "dx";
  if (count == 0) return;
  const Tensor saved = t.store.values().to(Device::cpu);
  auto loss_at_parameters = [&](const Tensor& probe) {
    t.store.values().copy_from(probe);
    return ref::weighted_sum(t.forward(x, context), r);
  };
  const ref::Values expected = ref::finite_difference(loss_at_parameters, saved, kEps);
  t.store.values().copy_from(saved);
  EXPECT_TRUE(ref::all_close(dparameters, expected, kRelTol, kAbsTol)) << "parameter gradients";
}

TEST_P(LayerGradients, Conv2DStrideTwoAsymmetricSamePadding) {
  for (const bool use_bias : {true, false}) {
    SCOPED_TRACE(use_bias ? "with bias" : "without bias");
    LayerUnderTest conv(GetParam(), "conv2d",
                        {{"filters", "3"},
                         {"kernel_size", "6"},
                         {"strides", "2"},
                         {"padding", "same"},
                         {"use_bias", use_bias ? "true" : "false"}},
                        {7, 7, 2}, "conv2d");
    EXPECT_EQ(conv.output_shape, (Shape{4, 4, 3}));  // ceil(7 / 2); padding 2 before, 3 after
    const std::vector<std::string> names = use_bias ? std::vector<std::string>{"conv2d/kernel", "conv2d/bias"}
                                                    : std::vector<std::string>{"conv2d/kernel"};
    EXPECT_EQ(conv.parameter_names(), names);
    const Tensor x = ref::random_tensor({2, 7, 7, 2}, 3);
    // The forward must use TensorFlow's asymmetric padding, which a gradient check alone cannot see.
    const ref::ConvProblem problem{2, 7, 7, 2, 3, 6, 6, 2, 2, ops::Padding::same};
    const ref::Values values = ref::to_values(conv.store.values());
    const ref::Values kernel(values.begin(), values.begin() + problem.kernel_shape().numel());
    const ref::Values bias = use_bias ? ref::Values(values.end() - 3, values.end()) : ref::Values{};
    ref::expect_close(conv.forward(x, train_context()),
                      ref::conv2d_forward(problem, ref::to_values(x), kernel, bias), 1e-4, 1e-4);
    check_gradients(conv, x, train_context());
  }
}

TEST_P(LayerGradients, Dense) {
  for (const bool use_bias : {true, false}) {
    SCOPED_TRACE(use_bias ? "with bias" : "without bias");
    LayerUnderTest dense(GetParam(), "dense", {{"units", "4"}, {"use_bias", use_bias ? "true" : "false"}},
                         {6}, "dense_1");
    EXPECT_EQ(dense.output_shape, Shape{4});
    EXPECT_EQ(dense.store.count(), use_bias ? 6 * 4 + 4 : 6 * 4);
    check_gradients(dense, ref::random_tensor({5, 6}, 4), train_context());
  }
}

TEST_P(LayerGradients, BatchNormalizationTrainingCenterOnly) {
  LayerUnderTest bn(GetParam(), "batch_normalization", {{"center", "true"}, {"scale", "false"}}, {3, 3, 2},
                    "batch_normalization");
  EXPECT_EQ(bn.parameter_names(), std::vector<std::string>{"batch_normalization/beta"});
  check_gradients(bn, ref::random_tensor({4, 3, 3, 2}, 5, -1.0, 2.0), train_context());
}

TEST_P(LayerGradients, BatchNormalizationTrainingCenterAndScale) {
  LayerUnderTest bn(GetParam(), "batch_normalization", {}, {3, 3, 2}, "batch_normalization");
  EXPECT_EQ(bn.parameter_names(),
            (std::vector<std::string>{"batch_normalization/gamma", "batch_normalization/beta"}));
  check_gradients(bn, ref::random_tensor({4, 3, 3, 2}, 6, -1.0, 2.0), train_context());
}

TEST_P(LayerGradients, BatchNormalizationTrainingOnFlatFeatures) {
  LayerUnderTest bn(GetParam(), "batch_normalization", {{"scale", "true"}}, {5}, "batch_normalization_3");
  check_gradients(bn, ref::random_tensor({8, 5}, 7), train_context());
}

TEST_P(LayerGradients, DropoutWithFixedKey) {
  LayerUnderTest dropout(GetParam(), "dropout", {{"rate", "0.3"}}, {4, 5}, "dropout");
  dropout.layer->set_index(3);
  const StepContext context = train_context();
  const Tensor x = ref::random_tensor({6, 4, 5}, 8, 0.5, 1.5);
  // The mask is keyed by (seed, layer index, step, first sample), as ops::dropout documents.
  const ops::DropoutKey key{context.seed, 3, context.step, context.first_sample};
  const ref::Values mask = ref::dropout_mask(6, 20, 0.3, key);
  const ref::Values input = ref::to_values(x);
  ref::Values expected(input.size());
  for (std::size_t i = 0; i < input.size(); ++i)
    expected[i] = input[i] * mask[i];
  ref::expect_close(dropout.forward(x, context), expected, 1e-6, 0);
  check_gradients(dropout, x, context);

  StepContext next_step = context;
  next_step.step += 1;
  EXPECT_NE(ref::to_values(dropout.forward(x, next_step)), expected);
  StepContext inference;
  EXPECT_EQ(ref::to_values(dropout.forward(x, inference)), input);
}

// Values spaced 0.05 apart in shuffled order: no two within a window are closer than 2 * eps, so the
// finite differences never move the maximum.
Tensor distinct_values(const Shape& shape, std::uint32_t seed) {
  ref::Values values(static_cast<std::size_t>(shape.numel()));
  std::iota(values.begin(), values.end(), 0.0);
  std::shuffle(values.begin(), values.end(), std::mt19937(seed));
  for (double& value : values)
    value = 0.05 * value - 1.0;
  return ref::to_tensor(shape, values);
}

TEST_P(LayerGradients, MaxPooling2D) {
  LayerUnderTest same(GetParam(), "max_pooling2d", {{"pool_size", "2"}, {"padding", "same"}}, {5, 5, 2},
                      "max_pooling2d");
  EXPECT_EQ(same.output_shape, (Shape{3, 3, 2}));
  check_gradients(same, distinct_values({2, 5, 5, 2}, 9), train_context());
  LayerUnderTest overlapping(GetParam(), "max_pooling2d", {{"pool_size", "3"}, {"strides", "2"}}, {7, 6, 2},
                             "max_pooling2d_1");
  EXPECT_EQ(overlapping.output_shape, (Shape{3, 2, 2}));
  check_gradients(overlapping, distinct_values({2, 7, 6, 2}, 10), train_context());
}

TEST_P(LayerGradients, GlobalAveragePooling2D) {
  LayerUnderTest pool(GetParam(), "global_average_pooling2d", {}, {3, 4, 5}, "global_average_pooling2d");
  EXPECT_EQ(pool.output_shape, Shape{5});
  check_gradients(pool, ref::random_tensor({3, 3, 4, 5}, 11), train_context());
}

// Random values at least 0.1 from zero, so that relu's kink is never within eps.
Tensor away_from_zero(const Shape& shape, std::uint32_t seed) {
  ref::Values values = ref::random_values(static_cast<std::size_t>(shape.numel()), seed, -2.0, 2.0);
  for (double& value : values)
    value = value < 0 ? value - 0.1 : value + 0.1;
  return ref::to_tensor(shape, values);
}

TEST_P(LayerGradients, Activation) {
  for (const char* function : {"relu", "sigmoid", "tanh", "softmax"}) {
    SCOPED_TRACE(function);
    LayerUnderTest activation(GetParam(), "activation", {{"activation", function}}, {7}, "activation");
    check_gradients(activation, away_from_zero({4, 7}, 12), train_context());
  }
}

TEST_P(LayerGradients, FirstLayerStillWritesParameterGradientsWithoutDx) {
  LayerUnderTest dense(GetParam(), "dense", {{"units", "3"}}, {4}, "dense");
  const Tensor x = ref::random_tensor({2, 4}, 13);
  StepContext context = train_context();
  const Tensor y = dense.forward(x, context);
  const ref::Values r = ref::random_values(6, 14);
  dense.store.gradients().copy_from(ref::filled_tensor({dense.store.count()}, 1e3f));
  context.input_gradient_needed = false;
  EXPECT_FALSE(dense.backward(ref::to_tensor(y.shape(), r), context).defined());
  const ref::Values gradients = ref::to_values(dense.store.gradients());
  // The bias gradient is the column sum of dy.
  EXPECT_NEAR(gradients[12], r[0] + r[3], 1e-6);
  EXPECT_NEAR(gradients[14], r[2] + r[5], 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Devices, LayerGradients, testing::Values(Device::cpu, Device::cuda),
                         [](const testing::TestParamInfo<Device>& device) {
                           return to_string(device.param);
                         });

}  // namespace
}  // namespace ringtrain
