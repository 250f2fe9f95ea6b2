// Tests of ops::dense_forward / dense_backward: against the double reference and against finite differences.
#include "core/ops/dense.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "tests/reference/dense.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;

struct DenseCase {
  std::int64_t batch, in, out;
  bool with_bias;
};
void PrintTo(const DenseCase& c, std::ostream* out) {
  *out << "batch " << c.batch << ", in " << c.in << ", out " << c.out
       << (c.with_bias ? ", bias" : ", no bias");
}

std::string case_name(const testing::TestParamInfo<DenseCase>& info) {
  const DenseCase& c = info.param;
  return "b" + std::to_string(c.batch) + "_in" + std::to_string(c.in) + "_out" + std::to_string(c.out) +
         (c.with_bias ? "_bias" : "_nobias");
}

class DenseTest : public testing::TestWithParam<DenseCase> {};
// Small cases only: the finite differences run the forward pass twice per input element.
class DenseGradientTest : public testing::TestWithParam<DenseCase> {};

TEST_P(DenseTest, ForwardMatchesReference) {
  const auto [batch, in, out, with_bias] = GetParam();
  const Tensor x = ref::random_tensor({batch, in}, 1), w = ref::random_tensor({in, out}, 2);
  const Tensor bias = with_bias ? ref::random_tensor({out}, 3) : Tensor();
  Tensor y = ref::filled_tensor({batch, out}, 1e3f);
  ops::dense_forward(x, w, bias, y);
  const ref::Values expected = ref::dense_forward(ref::to_values(x), ref::to_values(w),
                                                  with_bias ? ref::to_values(bias) : ref::Values{}, in, out);
  ref::expect_close(y, expected, 1e-5, 1e-5);
}

TEST_P(DenseTest, BackwardMatchesReference) {
  const auto [batch, in, out, with_bias] = GetParam();
  const Tensor x = ref::random_tensor({batch, in}, 4), w = ref::random_tensor({in, out}, 5);
  const Tensor dy = ref::random_tensor({batch, out}, 6);
  // Outputs start as garbage: they must be overwritten, not accumulated into.
  Tensor dx = ref::filled_tensor({batch, in}, 1e3f), dw = ref::filled_tensor({in, out}, 1e3f);
  Tensor dbias = with_bias ? ref::filled_tensor({out}, 1e3f) : Tensor();
  ops::dense_backward(x, w, dy, dx, dw, dbias);
  const ref::DenseGradients expected =
      ref::dense_backward(ref::to_values(x), ref::to_values(w), ref::to_values(dy), in, out);
  ref::expect_close(dx, expected.dx, 1e-5, 1e-5);
  ref::expect_close(dw, expected.dw, 1e-5, 1e-5);
  if (with_bias) ref::expect_close(dbias, expected.dbias, 1e-5, 1e-5);
}

TEST_P(DenseGradientTest, GradientsMatchFiniteDifferences) {
  const auto [batch, in, out, with_bias] = GetParam();
  const Tensor x = ref::random_tensor({batch, in}, 7), w = ref::random_tensor({in, out}, 8);
  const Tensor bias = with_bias ? ref::random_tensor({out}, 9) : Tensor();
  const ref::Values r = ref::random_values(static_cast<std::size_t>(batch * out), 10);
  Tensor y = Tensor::empty({batch, out});
  auto loss = [&](const Tensor& xv, const Tensor& wv, const Tensor& bv) {
    ops::dense_forward(xv, wv, bv, y);
    return ref::weighted_sum(y, r);
  };
  Tensor dx = Tensor::empty({batch, in}), dw = Tensor::empty({in, out});
  Tensor dbias = with_bias ? Tensor::empty({out}) : Tensor();
  ops::dense_backward(x, w, ref::to_tensor({batch, out}, r), dx, dw, dbias);
  const float eps = 1e-2f;
  ref::expect_close(dx, ref::finite_difference([&](const Tensor& v) { return loss(v, w, bias); }, x, eps),
                    2e-2, 1e-3);
  ref::expect_close(dw, ref::finite_difference([&](const Tensor& v) { return loss(x, v, bias); }, w, eps),
                    2e-2, 1e-3);
  if (with_bias) {
    ref::expect_close(
        dbias, ref::finite_difference([&](const Tensor& v) { return loss(x, w, v); }, bias, eps), 2e-2, 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, DenseTest,
                         testing::Values(DenseCase{3, 7, 5, true}, DenseCase{3, 7, 5, false},
                                         DenseCase{1, 1, 1, true}, DenseCase{5, 1, 9, true},
                                         DenseCase{9, 33, 1, false}, DenseCase{128, 784, 10, true}),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Sizes, DenseGradientTest,
                         testing::Values(DenseCase{3, 7, 5, true}, DenseCase{3, 7, 5, false},
                                         DenseCase{1, 1, 1, true}, DenseCase{4, 9, 2, true}),
                         case_name);

TEST(Dense, BackwardWithoutDxOrDbiasStillComputesDw) {
  const Tensor x = ref::random_tensor({3, 4}, 11), w = ref::random_tensor({4, 2}, 12);
  const Tensor dy = ref::random_tensor({3, 2}, 13);
  Tensor dx, dbias, dw = ref::filled_tensor({4, 2}, 1e3f);
  ops::dense_backward(x, w, dy, dx, dw, dbias);
  EXPECT_FALSE(dx.defined());
  EXPECT_FALSE(dbias.defined());
  ref::expect_close(
      dw, ref::dense_backward(ref::to_values(x), ref::to_values(w), ref::to_values(dy), 4, 2).dw, 1e-5, 1e-5);
}

TEST(Dense, MismatchedShapesThrow) {
  const Tensor x = Tensor::zeros({3, 4}), w = Tensor::zeros({4, 2});
  Tensor wrong_y = Tensor::zeros({3, 3});
  EXPECT_THROW(ops::dense_forward(x, w, Tensor(), wrong_y), Error);
  Tensor wrong_x_y = Tensor::zeros({3, 2});
  EXPECT_THROW(ops::dense_forward(Tensor::zeros({3, 5}), w, Tensor(), wrong_x_y), Error);
}

}  // namespace
}  // namespace ringtrain
