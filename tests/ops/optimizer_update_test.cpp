// Tests of ops::sgd_update and ops::adam_update: several steps against the double reference (Keras'
// formulas).
#include "core/ops/optimizer_update.hpp"

#include <gtest/gtest.h>

#include <ostream>

#include "tests/reference/optimizer.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;
constexpr std::int64_t kSize = 103;  // not a multiple of any vector width

TEST(SgdUpdate, PlainStepsMatchReference) {
  Tensor params = ref::random_tensor({kSize}, 1), velocity;
  ref::Values expected = ref::to_values(params), no_velocity;
  for (std::uint32_t step = 0; step < 4; ++step) {
    const Tensor grads = ref::random_tensor({kSize}, 10 + step);
    ops::sgd_update(params, grads, velocity, 0.01f, 0.0f);
    ref::sgd_update(expected, ref::to_values(grads), no_velocity, 0.01f, 0.0);
  }
  EXPECT_FALSE(velocity.defined());
  ref::expect_close(params, expected, 1e-6, 1e-7);
}

TEST(SgdUpdate, MomentumStepsMatchReference) {
  Tensor params = ref::random_tensor({kSize}, 2), velocity = Tensor::zeros({kSize});
  ref::Values expected = ref::to_values(params), expected_velocity(kSize, 0.0);
  for (std::uint32_t step = 0; step < 5; ++step) {
    const Tensor grads = ref::random_tensor({kSize}, 20 + step);
    ops::sgd_update(params, grads, velocity, 0.05f, 0.9f);
    ref::sgd_update(expected, ref::to_values(grads), expected_velocity, 0.05f, 0.9f);
  }
  ref::expect_close(velocity, expected_velocity, 1e-5, 1e-7);
  ref::expect_close(params, expected, 1e-5, 1e-6);
}

struct AdamCase {
  float learning_rate, beta1, beta2, epsilon;
};
void PrintTo(const AdamCase& c, std::ostream* out) {
  *out << "lr " << c.learning_rate << ", beta1 " << c.beta1 << ", beta2 " << c.beta2 << ", epsilon "
       << c.epsilon;
}

class AdamUpdateTest : public testing::TestWithParam<AdamCase> {};

TEST_P(AdamUpdateTest, StepsMatchReference) {
  const AdamCase c = GetParam();
  Tensor params = ref::random_tensor({kSize}, 3), m = Tensor::zeros({kSize}), v = Tensor::zeros({kSize});
  ref::Values expected = ref::to_values(params), expected_m(kSize, 0.0), expected_v(kSize, 0.0);
  for (std::int64_t step = 1; step <= 6; ++step) {
    // Gradients of mixed scale, some tiny, so that epsilon matters for a few elements.
    ref::Values g = ref::random_values(kSize, 30 + static_cast<std::uint32_t>(step));
    for (std::size_t i = 0; i < g.size(); i += 7)
      g[i] *= 1e-6;
    const Tensor grads = ref::to_tensor({kSize}, g);
    ops::adam_update(params, grads, m, v, c.learning_rate, c.beta1, c.beta2, c.epsilon, step);
    ref::adam_update(expected, ref::to_values(grads), expected_m, expected_v, c.learning_rate, c.beta1,
                     c.beta2, c.epsilon, step);
  }
  // m can be a small difference of float terms near 1: its rounding error is absolute, about 1e-7.
  ref::expect_close(m, expected_m, 1e-5, 2e-7);
  ref::expect_close(v, expected_v, 1e-5, 1e-10);
  ref::expect_close(params, expected, 1e-5, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Settings, AdamUpdateTest,
                         testing::Values(AdamCase{0.001f, 0.9f, 0.999f, 1e-7f},
                                         AdamCase{0.01f, 0.9f, 0.999f, 1e-7f},
                                         AdamCase{0.005f, 0.5f, 0.9f, 1e-3f}));

TEST(AdamUpdate, FirstStepMovesEachParameterByTheLearningRate) {
  // At t = 1 the bias corrections make m / sqrt(v) = sign(g): with Keras' defaults and gradients that dwarf
  // epsilon, every parameter moves by the learning rate against its gradient.
  for (float learning_rate : {0.001f, 0.01f}) {
    const ref::Values start = ref::random_values(kSize, 4);
    Tensor params = ref::to_tensor({kSize}, start), m = Tensor::zeros({kSize}), v = Tensor::zeros({kSize});
    ref::Values g = ref::random_values(kSize, 5, 0.1, 1.0);
    for (std::size_t i = 0; i < g.size(); i += 2)
      g[i] = -g[i];
    ops::adam_update(params, ref::to_tensor({kSize}, g), m, v, learning_rate, 0.9f, 0.999f, 1e-7f, 1);
    ref::Values moved = ref::rounded_to_float(start);
    for (std::size_t i = 0; i < moved.size(); ++i)
      moved[i] -= g[i] > 0 ? learning_rate : -learning_rate;
    ref::expect_close(params, moved, 0, 1e-4 * learning_rate + 1e-7);
  }
}
}  // namespace
}  // namespace ringtrain
