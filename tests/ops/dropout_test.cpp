// Tests of ops::dropout_*: the mask follows the Philox rule of the header, is reproducible, changes with the
// step, layer and seed, does not depend on how the batch is split, keeps about 1 - rate, and the gradient is
// mask / (1 - rate).
#include "core/ops/dropout.hpp"

#include <gtest/gtest.h>

#include "tests/reference/dropout.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;

constexpr float kRate = 0.25f;
const ops::DropoutKey kKey{.seed = 1234, .layer = 2, .step = 17, .first_sample = 640};

// Inputs in [0.5, 1.5]: never zero, so a zero output means a dropped element.
Tensor nonzero_inputs(const Shape& shape, std::uint32_t seed) {
  return ref::random_tensor(shape, seed, 0.5, 1.5);
}

ref::Values dropout(const Tensor& x, float rate, const ops::DropoutKey& key) {
  Tensor y = ref::filled_tensor(x.shape(), 1e3f);
  ops::dropout_forward(x, rate, key, y);
  return ref::to_values(y);
}

ref::Values times(const ref::Values& a, const ref::Values& b) {
  ref::Values product(a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    product[i] = a[i] * b[i];
  return product;
}

TEST(Dropout, ForwardFollowsThePhiloxRule) {
  for (const Shape& shape : {Shape{8, 30}, Shape{3, 5, 5, 2}}) {
    const Tensor x = nonzero_inputs(shape, 1);
    const std::int64_t features = shape.numel() / shape[0];
    const ref::Values mask = ref::dropout_mask(shape[0], features, kRate, kKey);
    ref::expect_close(dropout(x, kRate, kKey), times(ref::to_values(x), mask), 1e-6, 0);
  }
}

TEST(Dropout, SameKeyGivesTheSameMaskAndInPlaceAgrees) {
  Tensor x = nonzero_inputs({6, 40}, 2);
  const ref::Values first = dropout(x, kRate, kKey);
  EXPECT_EQ(dropout(x, kRate, kKey), first);
  ops::dropout_forward(x, kRate, kKey, x);
  EXPECT_EQ(ref::to_values(x), first);
}

// Fraction of elements whose keep/drop decision differs between two outputs.
double fraction_differing(const ref::Values& a, const ref::Values& b) {
  std::size_t differing = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    differing += (a[i] == 0) != (b[i] == 0);
  return static_cast<double>(differing) / static_cast<double>(a.size());
}

TEST(Dropout, StepLayerAndSeedChangeTheMask) {
  const Tensor x = nonzero_inputs({16, 64}, 3);
  const ref::Values base = dropout(x, kRate, kKey);
  ops::DropoutKey next_step = kKey, other_layer = kKey, other_seed = kKey, other_samples = kKey;
  ++next_step.step;
  ++other_layer.layer;
  ++other_seed.seed;
  other_samples.first_sample += 16;
  // Independent masks disagree on 2 * 0.25 * 0.75 = 37.5% of the elements.
  for (const ops::DropoutKey& key : {next_step, other_layer, other_seed, other_samples}) {
    const double differing = fraction_differing(base, dropout(x, kRate, key));
    EXPECT_GT(differing, 0.3);
    EXPECT_LT(differing, 0.45);
  }
}

TEST(Dropout, MaskDoesNotDependOnHowTheBatchIsSplit) {
  const Tensor x = nonzero_inputs({8, 3, 3, 2}, 4);
  const ref::Values whole = dropout(x, kRate, kKey);
  ops::DropoutKey second_half = kKey;
  second_half.first_sample = kKey.first_sample + 4;
  ref::Values halves = dropout(x.slice_rows(0, 4), kRate, kKey);
  const ref::Values tail = dropout(x.slice_rows(4, 8), kRate, second_half);
  halves.insert(halves.end(), tail.begin(), tail.end());
  EXPECT_EQ(halves, whole);
}

TEST(Dropout, KeepsAboutOneMinusRate) {
  const Tensor x = Tensor::from_vector({1000, 200}, std::vector<float>(200000, 1.0f));
  for (float rate : {0.25f, 0.5f, 0.1f}) {
    const ref::Values y = dropout(x, rate, kKey);
    std::size_t kept = 0;
    for (double value : y) {
      if (value != 0) {
        ++kept;
        ASSERT_NEAR(value, 1.0 / (1.0 - rate), 1e-6);
      }
    }
    // Standard error of the fraction is at most 0.0012; the bound is about 8 of them.
    EXPECT_NEAR(static_cast<double>(kept) / 200000.0, 1.0 - rate, 0.01) << "rate " << rate;
  }
}

TEST(Dropout, RateZeroIsTheIdentity) {
  const Tensor x = ref::random_tensor({5, 7}, 5);
  EXPECT_EQ(dropout(x, 0.0f, kKey), ref::to_values(x));
}

TEST(Dropout, GradientIsMaskOverKeepProbability) {
  const Tensor dy = ref::random_tensor({6, 10}, 6);
  Tensor dx = ref::filled_tensor({6, 10}, 1e3f);
  ops::dropout_backward(dy, kRate, kKey, dx);
  ref::expect_close(dx, times(ref::to_values(dy), ref::dropout_mask(6, 10, kRate, kKey)), 1e-6, 0);
  // The same mask as forward: forward of the same tensor gives the same values.
  ref::expect_close(dx, dropout(dy, kRate, kKey), 0, 0);
  Tensor in_place = dy.to(Device::cpu);
  ops::dropout_backward(in_place, kRate, kKey, in_place);
  ref::expect_close(in_place, ref::to_values(dx), 0, 0);
}

TEST(Dropout, GradientMatchesFiniteDifferences) {
  const Tensor x = ref::random_tensor({4, 9}, 7);
  const ref::Values r = ref::random_values(36, 8);
  Tensor y = Tensor::empty({4, 9});
  auto loss = [&](const Tensor& xv) {
    ops::dropout_forward(xv, kRate, kKey, y);
    return ref::weighted_sum(y, r);
  };
  Tensor dx = Tensor::empty({4, 9});
  ops::dropout_backward(ref::to_tensor({4, 9}, r), kRate, kKey, dx);
  ref::expect_close(dx, ref::finite_difference(loss, x, 1e-2f), 1e-3, 1e-4);
}

}  // namespace
}  // namespace ringtrain
