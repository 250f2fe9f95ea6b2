// Tests of the oracle itself (tests/reference): its backward passes agree with finite differences of its
// forward passes in double, and its 'same' padding gives TensorFlow's known sizes.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/reference/activation.hpp"
#include "tests/reference/batchnorm.hpp"
#include "tests/reference/conv2d.hpp"
#include "tests/reference/dense.hpp"
#include "tests/reference/gradient_check.hpp"
#include "tests/reference/pooling.hpp"
#include "tests/reference/softmax_cross_entropy.hpp"

namespace ringtrain::reference {
namespace {

double dot(const Values& a, const Values& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    sum += a[i] * b[i];
  return sum;
}

constexpr double kEps = 1e-6, kRel = 1e-6, kAbs = 1e-8;

TEST(ReferencePadding, MatchesTensorFlowSizes) {
  auto expect_size = [](std::int64_t in, std::int64_t k, std::int64_t s, ops::Padding padding,
                        std::int64_t out, std::int64_t before, std::int64_t after) {
    const SpatialSize size = spatial_size(in, k, s, padding);
    EXPECT_EQ(size.out, out) << in << " " << k << " " << s;
    EXPECT_EQ(size.pad_before, before) << in << " " << k << " " << s;
    EXPECT_EQ(size.pad_after, after) << in << " " << k << " " << s;
  };
  expect_size(28, 3, 1, ops::Padding::same, 28, 1, 1);
  expect_size(28, 6, 2, ops::Padding::same, 14, 2, 2);
  expect_size(14, 6, 2, ops::Padding::same, 7, 2, 2);
  expect_size(7, 6, 2, ops::Padding::same, 4, 2, 3);
  expect_size(5, 2, 2, ops::Padding::same, 3, 0, 1);
  expect_size(8, 1, 3, ops::Padding::same, 3, 0, 0);
  expect_size(7, 3, 2, ops::Padding::valid, 3, 0, 0);
  expect_size(28, 6, 2, ops::Padding::valid, 12, 0, 0);
}

TEST(ReferenceGradients, Dense) {
  const std::int64_t in = 4, out = 3;
  const Values x = random_values(2 * in, 1), w = random_values(in * out, 2), b = random_values(out, 3);
  const Values r = random_values(2 * out, 4);
  auto loss = [&](const Values& xv, const Values& wv, const Values& bv) {
    return dot(dense_forward(xv, wv, bv, in, out), r);
  };
  const DenseGradients g = dense_backward(x, w, r, in, out);
  expect_close(g.dx, finite_difference([&](const Values& v) { return loss(v, w, b); }, x, kEps), kRel, kAbs);
  expect_close(g.dw, finite_difference([&](const Values& v) { return loss(x, v, b); }, w, kEps), kRel, kAbs);
  expect_close(g.dbias, finite_difference([&](const Values& v) { return loss(x, w, v); }, b, kEps), kRel,
               kAbs);
}

TEST(ReferenceGradients, Conv2DStridedAsymmetricSame) {
  // batch, in_h, in_w, in_c, out_c, kernel_h, kernel_w, stride_h, stride_w, padding
  const ConvProblem p{2, 7, 6, 2, 3, 6, 3, 2, 2, ops::Padding::same};
  const Values x = random_values(p.input_shape().numel(), 5), w = random_values(p.kernel_shape().numel(), 6);
  const Values b = random_values(3, 7), r = random_values(p.output_shape().numel(), 8);
  auto loss = [&](const Values& xv, const Values& wv, const Values& bv) {
    return dot(conv2d_forward(p, xv, wv, bv), r);
  };
  const Values fd_x = finite_difference([&](const Values& v) { return loss(v, w, b); }, x, kEps);
  const Values fd_w = finite_difference([&](const Values& v) { return loss(x, v, b); }, w, kEps);
  const Values fd_b = finite_difference([&](const Values& v) { return loss(x, w, v); }, b, kEps);
  expect_close(conv2d_backward_data(p, r, w), fd_x, kRel, kAbs);
  expect_close(conv2d_backward_filter(p, x, r), fd_w, kRel, kAbs);
  expect_close(sum_over_rows(r, 3), fd_b, kRel, kAbs);
}

TEST(ReferenceGradients, BatchNormTraining) {
  const std::int64_t channels = 3;
  const Values x = random_values(5 * channels, 9, -2, 2), gamma = random_values(channels, 10, 0.5, 1.5);
  const Values beta = random_values(channels, 11), r = random_values(x.size(), 12);
  const double epsilon = 1e-3;
  auto loss = [&](const Values& xv, const Values& gv, const Values& bv) {
    return dot(batchnorm_training_forward(xv, gv, bv, channels, epsilon).y, r);
  };
  const BatchNormGradients g = batchnorm_training_backward(x, gamma, r, channels, epsilon);
  expect_close(g.dx, finite_difference([&](const Values& v) { return loss(v, gamma, beta); }, x, kEps), 1e-5,
               1e-7);
  expect_close(g.dgamma, finite_difference([&](const Values& v) { return loss(x, v, beta); }, gamma, kEps),
               kRel, kAbs);
  expect_close(g.dbeta, finite_difference([&](const Values& v) { return loss(x, gamma, v); }, beta, kEps),
               kRel, kAbs);
  // The sum of dx over each channel vanishes: shifting a channel does not change its normalized values.
  for (double sum : sum_over_rows(g.dx, channels))
    EXPECT_NEAR(sum, 0.0, 1e-12);
}

TEST(ReferenceGradients, MaxPoolAndGlobalAveragePool) {
  // batch, in_h, in_w, in_c, out_c (unused), kernel_h, kernel_w, stride_h, stride_w, padding
  const ConvProblem p{2, 5, 4, 2, 0, 3, 2, 2, 1, ops::Padding::same};
  const Values x = random_values(p.input_shape().numel(), 13);
  const Values r = random_values(maxpool2d_forward(p, x).y.size(), 14);
  expect_close(maxpool2d_backward(p, x, r),
               finite_difference([&](const Values& v) { return dot(maxpool2d_forward(p, v).y, r); }, x, kEps),
               kRel, kAbs);
  const Values r2 = random_values(2 * 2, 15);
  expect_close(global_average_pool_backward(r2, 20, 2),
               finite_difference(
                   [&](const Values& v) { return dot(global_average_pool_forward(v, 20, 2), r2); }, x, kEps),
               kRel, kAbs);
}

TEST(ReferenceGradients, Activations) {
  const Values x = random_values(12, 16, -3, 3), r = random_values(12, 17);
  for (ops::Activation a : {ops::Activation::linear, ops::Activation::relu, ops::Activation::sigmoid,
                            ops::Activation::tanh, ops::Activation::softmax}) {
    SCOPED_TRACE(static_cast<int>(a));
    const Values fd =
        finite_difference([&](const Values& v) { return dot(activation_forward(a, v, 4), r); }, x, kEps);
    expect_close(activation_backward(a, x, r, 4), fd, kRel, kAbs);
  }
}

TEST(ReferenceGradients, SoftmaxCrossEntropy) {
  const Values logits = random_values(3 * 5, 18, -3, 3);
  const std::vector<std::int32_t> labels{4, 0, 2};
  const CrossEntropy result = softmax_cross_entropy(logits, labels, 5, 0.5);
  const Values fd = finite_difference(
      [&](const Values& v) { return 0.5 * softmax_cross_entropy(v, labels, 5, 1).loss_sum; }, logits, kEps);
  expect_close(result.dlogits, fd, kRel, kAbs);
  // Against the naive formula -log(exp(z_label) / sum exp(z)), fine for small logits.
  double naive = 0;
  for (std::size_t n = 0; n < labels.size(); ++n) {
    double total = 0;
    for (std::size_t j = 0; j < 5; ++j)
      total += std::exp(logits[n * 5 + j]);
    naive -= std::log(std::exp(logits[n * 5 + static_cast<std::size_t>(labels[n])]) / total);
  }
  EXPECT_NEAR(result.loss_sum, naive, 1e-12);
}

}  // namespace
}  // namespace ringtrain::reference
