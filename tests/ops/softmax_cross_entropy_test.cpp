// Tests of ops::softmax_cross_entropy: loss, accuracy count and gradient against the double reference and
// finite differences, stability with logits of +-1000, and first-maximum-wins accuracy.
#include "core/ops/softmax_cross_entropy.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/reference/gradient_check.hpp"
#include "tests/reference/softmax_cross_entropy.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;

std::vector<std::int32_t> random_labels(std::size_t count, std::int32_t classes, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<std::int32_t> distribution(0, classes - 1);
  std::vector<std::int32_t> labels(count);
  for (std::int32_t& label : labels)
    label = distribution(generator);
  return labels;
}

TEST(SoftmaxCrossEntropy, MatchesReference) {
  const std::int64_t batch = 7, classes = 10;
  const Tensor logits = ref::random_tensor({batch, classes}, 1, -3.0, 3.0);
  const std::vector<std::int32_t> labels = random_labels(batch, classes, 2);
  Tensor dlogits = ref::filled_tensor({batch, classes}, 1e3f);
  const ops::LossSums sums =
      ops::softmax_cross_entropy(logits, ref::int_tensor({batch}, labels), 1.0f / 7, dlogits);
  const ref::CrossEntropy expected =
      ref::softmax_cross_entropy(ref::to_values(logits), labels, classes, 1.0 / 7);
  EXPECT_NEAR(sums.loss_sum, expected.loss_sum, 1e-5 * expected.loss_sum);
  EXPECT_EQ(sums.correct, expected.correct);
  ref::expect_close(dlogits, expected.dlogits, 1e-5, 1e-7);
}

TEST(SoftmaxCrossEntropy, AccumulatesIntoTotals) {
  const Tensor logits = ref::random_tensor({6, 4}, 9, -2.0, 2.0);
  const std::vector<std::int32_t> labels = random_labels(6, 4, 10);
  Tensor no_gradient;
  const ops::LossSums once =
      ops::softmax_cross_entropy(logits, ref::int_tensor({6}, labels), 1.0f, no_gradient);
  Tensor totals = Tensor::zeros({3}, DType::f64);
  ops::accumulate_softmax_cross_entropy(logits, ref::int_tensor({6}, labels), 1.0f, no_gradient, totals);
  ops::accumulate_softmax_cross_entropy(logits, ref::int_tensor({6}, labels), 1.0f, no_gradient, totals);
  EXPECT_DOUBLE_EQ(totals.data<double>()[0], 2 * once.loss_sum);
  EXPECT_EQ(totals.data<double>()[1], 2.0 * static_cast<double>(once.correct));
  Tensor wrong_shape = Tensor::zeros({2}, DType::f64);
  EXPECT_THROW(ops::accumulate_softmax_cross_entropy(logits, ref::int_tensor({6}, labels), 1.0f, no_gradient,
                                                     wrong_shape),
               Error);
}

TEST(SoftmaxCrossEntropy, LossWithoutGradient) {
  const Tensor logits = ref::random_tensor({5, 3}, 3, -2.0, 2.0);
  const std::vector<std::int32_t> labels = random_labels(5, 3, 4);
  Tensor no_gradient;
  const ops::LossSums sums =
      ops::softmax_cross_entropy(logits, ref::int_tensor({5}, labels), 1.0f, no_gradient);
  EXPECT_FALSE(no_gradient.defined());
  const ref::CrossEntropy expected = ref::softmax_cross_entropy(ref::to_values(logits), labels, 3, 1.0);
  EXPECT_NEAR(sums.loss_sum, expected.loss_sum, 1e-5 * expected.loss_sum);
  EXPECT_EQ(sums.correct, expected.correct);
}

TEST(SoftmaxCrossEntropy, ExtremeLogitsGiveNoNanOrInfinity) {
  const ref::Values logits{1000, -1000, 0, -1000, 1000, 0, -1000, -1000, -1000, 1000, 1000, -1000};
  const std::vector<std::int32_t> labels{1, 1, 2, 2};
  Tensor dlogits = Tensor::empty({4, 3});
  const ops::LossSums sums = ops::softmax_cross_entropy(ref::to_tensor({4, 3}, logits),
                                                        ref::int_tensor({4}, labels), 0.25f, dlogits);
  const ref::CrossEntropy expected = ref::softmax_cross_entropy(logits, labels, 3, 0.25);
  // Row losses: 2000, 0, log 3, 2000 + log 2.
  EXPECT_NEAR(expected.loss_sum, 4000 + std::log(3.0) + std::log(2.0), 1e-9);
  ASSERT_TRUE(std::isfinite(sums.loss_sum));
  EXPECT_NEAR(sums.loss_sum, expected.loss_sum, 1e-6 * expected.loss_sum);
  const ref::Values gradient = ref::to_values(dlogits);
  ASSERT_TRUE(ref::all_finite(gradient));
  ref::expect_close(gradient, expected.dlogits, 1e-5, 1e-7);
  // Only row 1 is right: in rows 2 and 3 the first maximum is class 0, not the label 2.
  EXPECT_EQ(sums.correct, 1);
  EXPECT_EQ(expected.correct, 1);
}

TEST(SoftmaxCrossEntropy, FirstMaximumWinsForAccuracy) {
  const ref::Values logits{1, 3, 3, 3, 3, 1, 0, 0, 0, 2, 5, 5};
  const std::vector<std::int32_t> labels{2, 0, 0, 1};
  Tensor no_gradient;
  const ops::LossSums sums = ops::softmax_cross_entropy(ref::to_tensor({4, 3}, logits),
                                                        ref::int_tensor({4}, labels), 1.0f, no_gradient);
  EXPECT_EQ(sums.correct, 3);
  EXPECT_EQ(sums.correct, ref::softmax_cross_entropy(logits, labels, 3, 1.0).correct);
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferencesAndRowsSumToZero) {
  const std::int64_t batch = 4, classes = 6;
  const float scale = 1.0f / batch;
  const Tensor logits = ref::random_tensor({batch, classes}, 5, -3.0, 3.0);
  const Tensor labels = ref::int_tensor({batch}, random_labels(batch, classes, 6));
  Tensor no_gradient;
  auto loss = [&](const Tensor& z) {
    return ops::softmax_cross_entropy(z, labels, 1.0f, no_gradient).loss_sum * scale;
  };
  Tensor dlogits = Tensor::empty({batch, classes});
  ops::softmax_cross_entropy(logits, labels, scale, dlogits);
  ref::expect_close(dlogits, ref::finite_difference(loss, logits, 1e-2f), 2e-2, 1e-4);
  const ref::Values gradient = ref::to_values(dlogits);
  for (std::int64_t n = 0; n < batch; ++n) {
    double row_sum = 0;
    for (std::int64_t j = 0; j < classes; ++j)
      row_sum += gradient[n * classes + j];
    EXPECT_NEAR(row_sum, 0.0, 1e-6) << "row " << n;
  }
}

}  // namespace
}  // namespace ringtrain
