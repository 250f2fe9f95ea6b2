// Tests of ops::activation_forward / activation_backward (linear, relu, sigmoid, tanh, softmax): against the
// double reference, in place, with extreme logits, and against finite differences.
#include "core/ops/activation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "tests/reference/activation.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;
using ops::Activation;

const Activation kAll[] = {Activation::linear, Activation::relu, Activation::sigmoid, Activation::tanh,
                           Activation::softmax};

// Values in [-3, -0.1] and [0.1, 3]: away from relu's kink, so that +-0.01 never crosses it.
Tensor inputs_away_from_zero(const Shape& shape, std::uint32_t seed) {
  ref::Values values = ref::random_values(static_cast<std::size_t>(shape.numel()), seed, 0.1, 3.0);
  for (std::size_t i = 0; i < values.size(); i += 2)
    values[i] = -values[i];
  return ref::to_tensor(shape, values);
}

TEST(Activation, ParsesAndPrintsNames) {
  for (const char* name : {"linear", "relu", "sigmoid", "tanh", "softmax"}) {
    EXPECT_EQ(ops::to_string(ops::parse_activation(name)), name);
  }
  EXPECT_THROW(ops::parse_activation("gelu"), Error);
}

class ActivationTest : public testing::TestWithParam<Activation> {};

TEST_P(ActivationTest, ForwardMatchesReference) {
  const Activation activation = GetParam();
  const Tensor x = inputs_away_from_zero({3, 7}, 1);
  Tensor y = ref::filled_tensor({3, 7}, 1e3f);
  ops::activation_forward(activation, x, y);
  ref::expect_close(y, ref::activation_forward(activation, ref::to_values(x), 7), 1e-5, 1e-6);
}

TEST_P(ActivationTest, ForwardInPlace) {
  const Activation activation = GetParam();
  Tensor x = inputs_away_from_zero({5, 3}, 2);
  const ref::Values expected = ref::activation_forward(activation, ref::to_values(x), 3);
  ops::activation_forward(activation, x, x);
  ref::expect_close(x, expected, 1e-5, 1e-6);
}

TEST_P(ActivationTest, BackwardMatchesReference) {
  const Activation activation = GetParam();
  const Tensor x = inputs_away_from_zero({3, 7}, 3), dy = ref::random_tensor({3, 7}, 4);
  Tensor y = Tensor::empty({3, 7}), dx = ref::filled_tensor({3, 7}, 1e3f);
  ops::activation_forward(activation, x, y);
  ops::activation_backward(activation, y, dy, dx);
  ref::expect_close(dx, ref::activation_backward(activation, ref::to_values(x), ref::to_values(dy), 7), 1e-4,
                    1e-6);
}

TEST_P(ActivationTest, BackwardInPlace) {
  const Activation activation = GetParam();
  const Tensor x = inputs_away_from_zero({4, 5}, 5);
  Tensor dy = ref::random_tensor({4, 5}, 6), y = Tensor::empty({4, 5});
  const ref::Values expected = ref::activation_backward(activation, ref::to_values(x), ref::to_values(dy), 5);
  ops::activation_forward(activation, x, y);
  ops::activation_backward(activation, y, dy, dy);
  ref::expect_close(dy, expected, 1e-4, 1e-6);
}

TEST_P(ActivationTest, GradientMatchesFiniteDifferences) {
  const Activation activation = GetParam();
  const Tensor x = inputs_away_from_zero({3, 6}, 7);
  const ref::Values r = ref::random_values(18, 8);
  Tensor y = Tensor::empty({3, 6});
  auto loss = [&](const Tensor& xv) {
    ops::activation_forward(activation, xv, y);
    return ref::weighted_sum(y, r);
  };
  const ref::Values fd = ref::finite_difference(loss, x, 1e-2f);
  Tensor dx = Tensor::empty({3, 6});
  ops::activation_forward(activation, x, y);
  ops::activation_backward(activation, y, ref::to_tensor({3, 6}, r), dx);
  ref::expect_close(dx, fd, 2e-2, 1e-3);
}

std::string activation_name(const testing::TestParamInfo<Activation>& case_info) {
  return ops::to_string(case_info.param);
}
INSTANTIATE_TEST_SUITE_P(All, ActivationTest, testing::ValuesIn(kAll), activation_name);

TEST(Softmax, ExtremeLogitsStayFiniteAndRowsSumToOne) {
  const ref::Values logits{1000, -1000, 0, 1000, 1000, -1000, -1000, -1000, -1000, 88.5, 89, -103};
  const Tensor x = ref::to_tensor({4, 3}, logits);
  Tensor y = Tensor::empty({4, 3});
  ops::activation_forward(Activation::softmax, x, y);
  const ref::Values values = ref::to_values(y);
  ASSERT_TRUE(ref::all_finite(values));
  ref::expect_close(values, ref::activation_forward(Activation::softmax, logits, 3), 1e-6, 1e-7);
  for (std::size_t row = 0; row < 4; ++row) {
    EXPECT_NEAR(values[3 * row] + values[3 * row + 1] + values[3 * row + 2], 1.0, 1e-6) << "row " << row;
  }
}

TEST(Activation, ReluOfNegativeIsZeroAndItsGradientIsBlocked) {
  const Tensor x = ref::to_tensor({1, 4}, {-2, -0.5, 0.5, 2});
  Tensor y = Tensor::empty({1, 4}), dx = Tensor::empty({1, 4});
  ops::activation_forward(Activation::relu, x, y);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 0, 0.5f, 2}));
  ops::activation_backward(Activation::relu, y, ref::to_tensor({1, 4}, {1, 1, 1, 1}), dx);
  EXPECT_EQ(dx.to_vector(), (std::vector<float>{0, 0, 1, 1}));
}

TEST(Activation, ReluKeepsNanAndNegativeZeroAsStdMaxDoes) {
  // A diverging model's NaN must reach the loss, where training stops with an error; on every lane of a
  // vectorised loop, so over more values than one register holds.
  std::vector<float> values(37, -1.5f);
  values[3] = std::numeric_limits<float>::quiet_NaN();
  values[20] = -0.0f;
  values[21] = std::numeric_limits<float>::infinity();
  values[22] = -std::numeric_limits<float>::infinity();
  values[36] = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector({37}, values);
  Tensor y = Tensor::empty({37});
  ops::activation_forward(Activation::relu, x, y);
  const std::vector<float> out = y.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float expected = std::max(values[i], 0.0f);
    SCOPED_TRACE(i);
    EXPECT_EQ(std::isnan(out[i]), std::isnan(expected));
    if (!std::isnan(expected)) {
      EXPECT_EQ(out[i], expected);
      EXPECT_EQ(std::signbit(out[i]), std::signbit(expected));
    }
  }
  EXPECT_TRUE(std::isnan(out[3]) && std::isnan(out[36]));
  EXPECT_TRUE(std::signbit(out[20]));
}

}  // namespace
}  // namespace ringtrain
