// Tests of ops::batchnorm_*: sums, normalize and backward against the double reference, the training-mode
// composition against finite differences, and the split into per-rank sums that synchronised batch norm uses.
#include "core/ops/batchnorm.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/reference/batchnorm.hpp"
#include "tests/reference/conv2d.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;
constexpr double kEpsilon = 1e-3;  // Keras' BatchNormalization epsilon

// Batch statistics from the fast sums: mean = sum / count, inv_std = 1 / sqrt(sum_sq / count - mean^2 + eps).
struct Statistics {
  Tensor mean, inv_std;
};
Statistics statistics_from_sums(const Tensor& sum, const Tensor& sum_sq, double count) {
  const ref::Values s = ref::to_values(sum), s2 = ref::to_values(sum_sq);
  ref::Values mean(s.size()), inv_std(s.size());
  for (std::size_t c = 0; c < s.size(); ++c) {
    mean[c] = s[c] / count;
    inv_std[c] = 1.0 / std::sqrt(s2[c] / count - mean[c] * mean[c] + kEpsilon);
  }
  const Shape shape{static_cast<std::int64_t>(s.size())};
  return {ref::to_tensor(shape, mean), ref::to_tensor(shape, inv_std)};
}

// Training-mode forward composed from the fast ops; x is [rows, channels].
Statistics training_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& y) {
  Tensor sum = Tensor::empty({x.dim(1)}, DType::f64), sum_sq = Tensor::empty({x.dim(1)}, DType::f64);
  ops::batchnorm_sums(x, sum, sum_sq);
  Statistics stats = statistics_from_sums(sum, sum_sq, static_cast<double>(x.dim(0)));
  ops::batchnorm_normalize(x, stats.mean, stats.inv_std, gamma, beta, y);
  return stats;
}

struct Gradients {
  Tensor dx, dgamma, dbeta;
};
Gradients training_backward(const Tensor& x, const Tensor& gamma, const Tensor& dy, const Statistics& stats) {
  const Shape channels{x.dim(1)};
  Gradients g{Tensor::empty(x.shape()), Tensor::empty(channels), Tensor::empty(channels)};
  ops::batchnorm_backward_sums(x, dy, stats.mean, stats.inv_std, g.dbeta, g.dgamma);
  ops::batchnorm_backward_data(x, dy, stats.mean, stats.inv_std, gamma, g.dbeta, g.dgamma,
                               static_cast<double>(x.dim(0)), g.dx);
  return g;
}

TEST(BatchNorm, SumsMatchReference) {
  const Tensor x = ref::random_tensor({37, 5}, 1, 1.0, 3.0);
  Tensor sum = Tensor::empty({5}, DType::f64), sum_sq = Tensor::empty({5}, DType::f64);
  ops::batchnorm_sums(x, sum, sum_sq);
  const ref::Values values = ref::to_values(x);
  ref::Values squares(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    squares[i] = values[i] * values[i];
  ref::expect_close(sum, ref::sum_over_rows(values, 5), 1e-12, 1e-12);  // float64 sums of float32 values
  ref::expect_close(sum_sq, ref::sum_over_rows(squares, 5), 1e-12, 1e-12);
}

TEST(BatchNorm, NormalizeMatchesReferenceWithAndWithoutGammaBeta) {
  const Tensor x = ref::random_tensor({7, 3}, 2), mean = ref::random_tensor({3}, 3);
  const Tensor inv_std = ref::random_tensor({3}, 4, 0.5, 2.0);
  const Tensor gamma = ref::random_tensor({3}, 5), beta = ref::random_tensor({3}, 6);
  Tensor y = ref::filled_tensor({7, 3}, 1e3f);
  ops::batchnorm_normalize(x, mean, inv_std, gamma, beta, y);
  ref::expect_close(y,
                    ref::batchnorm_normalize(ref::to_values(x), ref::to_values(mean), ref::to_values(inv_std),
                                             ref::to_values(gamma), ref::to_values(beta), 3),
                    1e-5, 1e-5);
  ops::batchnorm_normalize(x, mean, inv_std, Tensor(), Tensor(), y);
  ref::expect_close(
      y,
      ref::batchnorm_normalize(ref::to_values(x), ref::to_values(mean), ref::to_values(inv_std), {}, {}, 3),
      1e-5, 1e-5);
}

// x [rows, channels] for dense features, [batch * h * w, channels] for images; with and without gamma.
void check_training_against_reference(std::int64_t rows, std::int64_t channels, bool with_gamma) {
  const Tensor x = ref::random_tensor({rows, channels}, 7, -2.0, 3.0);
  const Tensor gamma = with_gamma ? ref::random_tensor({channels}, 8, 0.5, 1.5) : Tensor();
  const Tensor beta = ref::random_tensor({channels}, 9);
  const Tensor dy = ref::random_tensor({rows, channels}, 10);
  const ref::Values gamma_values = with_gamma ? ref::to_values(gamma) : ref::Values{};
  Tensor y = Tensor::empty({rows, channels});
  const Statistics stats = training_forward(x, gamma, beta, y);
  const ref::BatchNormForward expected = ref::batchnorm_training_forward(
      ref::to_values(x), gamma_values, ref::to_values(beta), channels, kEpsilon);
  ref::expect_close(stats.mean, expected.mean, 1e-5, 1e-6);
  ref::expect_close(y, expected.y, 1e-4, 1e-4);
  const Gradients g = training_backward(x, gamma, dy, stats);
  const ref::BatchNormGradients expected_g = ref::batchnorm_training_backward(
      ref::to_values(x), gamma_values, ref::to_values(dy), channels, kEpsilon);
  ref::expect_close(g.dx, expected_g.dx, 1e-4, 1e-4);
  ref::expect_close(g.dgamma, expected_g.dgamma, 1e-4, 1e-4);
  ref::expect_close(g.dbeta, expected_g.dbeta, 1e-5, 1e-5);
}

TEST(BatchNorm, TrainingDenseFeaturesMatchReference) {
  check_training_against_reference(5, 3, false);
}
TEST(BatchNorm, TrainingDenseFeaturesWithGammaMatchReference) {
  check_training_against_reference(64, 200, true);
}
TEST(BatchNorm, TrainingImageRowsMatchReference) {
  check_training_against_reference(3 * 7 * 7, 12, false);
}

void check_training_gradients(std::int64_t rows, std::int64_t channels) {
  const Tensor x = ref::random_tensor({rows, channels}, 11, -2.0, 2.0);
  const Tensor gamma = ref::random_tensor({channels}, 12, 0.5, 1.5),
               beta = ref::random_tensor({channels}, 13);
  const ref::Values r = ref::random_values(static_cast<std::size_t>(rows * channels), 14);
  Tensor y = Tensor::empty({rows, channels});
  auto loss = [&](const Tensor& xv, const Tensor& gv, const Tensor& bv) {
    training_forward(xv, gv, bv, y);
    return ref::weighted_sum(y, r);
  };
  const Statistics stats = training_forward(x, gamma, beta, y);
  const Gradients g = training_backward(x, gamma, ref::to_tensor({rows, channels}, r), stats);
  const float eps = 1e-2f;
  ref::expect_close(g.dx,
                    ref::finite_difference([&](const Tensor& v) { return loss(v, gamma, beta); }, x, eps),
                    2e-2, 2e-3);
  ref::expect_close(g.dgamma,
                    ref::finite_difference([&](const Tensor& v) { return loss(x, v, beta); }, gamma, eps),
                    2e-2, 2e-3);
  ref::expect_close(g.dbeta,
                    ref::finite_difference([&](const Tensor& v) { return loss(x, gamma, v); }, beta, eps),
                    2e-2, 2e-3);
}

TEST(BatchNormGradients, DenseFeatures) {
  check_training_gradients(6, 4);
}
TEST(BatchNormGradients, ImageRows) {
  check_training_gradients(2 * 3 * 3, 4);
}

TEST(BatchNorm, AcceptsNhwcImagesAsRowsOfChannels) {
  const Tensor image = ref::random_tensor({2, 3, 5, 4}, 15);
  Tensor sum = Tensor::empty({4}, DType::f64), sum_sq = Tensor::empty({4}, DType::f64);
  ops::batchnorm_sums(image, sum, sum_sq);
  ref::expect_close(sum, ref::sum_over_rows(ref::to_values(image), 4), 1e-5, 1e-5);
}

// Synchronised batch norm: sums of two shards add up to the sums of the whole batch, and backward_data on a
// shard with the global sums and the global count gives that shard's rows of the whole batch's dx.
TEST(BatchNorm, ShardsWithGlobalSumsAndCountGiveTheWholeBatchGradient) {
  const std::int64_t rows = 10, channels = 3;
  const Tensor x = ref::random_tensor({rows, channels}, 16, -1.0, 2.0),
               dy = ref::random_tensor({rows, channels}, 17);
  const Tensor gamma = ref::random_tensor({channels}, 18, 0.5, 1.5);
  Tensor y = Tensor::empty({rows, channels});
  const Statistics stats = training_forward(x, gamma, Tensor(), y);
  const Gradients whole = training_backward(x, gamma, dy, stats);
  Tensor sum_a = Tensor::empty({channels}, DType::f64), sum_sq_a = Tensor::empty({channels}, DType::f64);
  Tensor sum_b = Tensor::empty({channels}, DType::f64), sum_sq_b = Tensor::empty({channels}, DType::f64);
  ops::batchnorm_sums(x.slice_rows(0, 4), sum_a, sum_sq_a);
  ops::batchnorm_sums(x.slice_rows(4, rows), sum_b, sum_sq_b);
  Tensor sum = Tensor::empty({channels}, DType::f64), sum_sq = Tensor::empty({channels}, DType::f64);
  ops::batchnorm_sums(x, sum, sum_sq);
  const ref::Values a = ref::to_values(sum_a), b = ref::to_values(sum_b);
  const ref::Values a2 = ref::to_values(sum_sq_a), b2 = ref::to_values(sum_sq_b);
  ref::expect_close(sum, {a[0] + b[0], a[1] + b[1], a[2] + b[2]}, 1e-5, 1e-5);
  ref::expect_close(sum_sq, {a2[0] + b2[0], a2[1] + b2[1], a2[2] + b2[2]}, 1e-5, 1e-5);
  Tensor dx_b = Tensor::empty({rows - 4, channels});
  ops::batchnorm_backward_data(x.slice_rows(4, rows), dy.slice_rows(4, rows), stats.mean, stats.inv_std,
                               gamma, whole.dbeta, whole.dgamma, static_cast<double>(rows), dx_b);
  ref::expect_close(dx_b, ref::to_values(whole.dx.slice_rows(4, rows)), 1e-5, 1e-5);
}

}  // namespace
}  // namespace ringtrain
