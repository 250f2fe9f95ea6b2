// Tests of ops::maxpool2d_* and global_average_pool_*: against the double reference (values and argmax) and
// against finite differences; padded positions must never win the max.
#include "core/ops/pooling.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <ostream>
#include <random>
#include <string>

#include "tests/reference/gradient_check.hpp"
#include "tests/reference/pooling.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;
using ops::Padding;

struct PoolCase {
  const char* name;
  ref::ConvProblem problem;  // out_c unused
};
void PrintTo(const PoolCase& c, std::ostream* out) {
  *out << c.name;
}

ops::Conv2DGeometry geometry_of(const ref::ConvProblem& p) {
  return ops::conv2d_geometry(p.batch, p.in_h, p.in_w, p.in_c, p.in_c, p.kernel_h, p.kernel_w, p.stride_h,
                              p.stride_w, p.padding);
}

Shape pooled_shape(const ref::ConvProblem& p) {
  return {p.batch, p.rows().out, p.cols().out, p.in_c};
}

// Values spaced 0.1 apart in a random order, so that no two elements tie and a +-0.01 move never changes
// which element of a window is the maximum.
Tensor distinct_tensor(const Shape& shape, std::uint32_t seed) {
  std::vector<double> values(static_cast<std::size_t>(shape.numel()));
  std::iota(values.begin(), values.end(), 0.0);
  std::shuffle(values.begin(), values.end(), std::mt19937(seed));
  for (double& value : values)
    value = 0.1 * value - 0.05 * static_cast<double>(values.size());
  return ref::to_tensor(shape, values);
}

const PoolCase kCases[] = {
    {"k2_s2_valid_odd_input", {3, 7, 7, 2, 0, 2, 2, 2, 2, Padding::valid}},
    {"k2_s2_same_pad_after_only", {3, 5, 5, 2, 0, 2, 2, 2, 2, Padding::same}},
    {"k3_s2_same_overlapping", {2, 7, 7, 3, 0, 3, 3, 2, 2, Padding::same}},
    {"k3_s1_same_overlapping_non_square", {2, 4, 5, 2, 0, 3, 3, 1, 1, Padding::same}},
    {"k3x2_s2x1_valid", {3, 7, 6, 1, 0, 3, 2, 2, 1, Padding::valid}},
    {"k2_s2_valid_mnist_sized", {2, 28, 28, 12, 0, 2, 2, 2, 2, Padding::valid}},
};

class MaxPoolTest : public testing::TestWithParam<PoolCase> {};

TEST_P(MaxPoolTest, ForwardAndArgmaxMatchReference) {
  const ref::ConvProblem& p = GetParam().problem;
  const Tensor x = ref::random_tensor(p.input_shape(), 1);
  Tensor y = ref::filled_tensor(pooled_shape(p), 1e3f);
  Tensor argmax = Tensor::zeros(pooled_shape(p), DType::i32);
  ops::maxpool2d_forward(geometry_of(p), x, y, argmax);
  const ref::MaxPoolForward expected = ref::maxpool2d_forward(p, ref::to_values(x));
  ref::expect_close(y, expected.y, 0, 0);
  const ref::Values expected_argmax(expected.argmax.begin(), expected.argmax.end());
  ref::expect_close(ref::to_values(argmax), expected_argmax, 0, 0);
}

TEST_P(MaxPoolTest, BackwardMatchesReference) {
  const ref::ConvProblem& p = GetParam().problem;
  const Tensor x = ref::random_tensor(p.input_shape(), 2), dy = ref::random_tensor(pooled_shape(p), 3);
  Tensor y = Tensor::empty(pooled_shape(p)), argmax = Tensor::empty(pooled_shape(p), DType::i32);
  ops::maxpool2d_forward(geometry_of(p), x, y, argmax);
  Tensor dx = ref::filled_tensor(p.input_shape(), 1e3f);
  ops::maxpool2d_backward(geometry_of(p), dy, argmax, dx);
  ref::expect_close(dx, ref::maxpool2d_backward(p, ref::to_values(x), ref::to_values(dy)), 1e-6, 1e-6);
}

TEST_P(MaxPoolTest, PaddingNeverWinsOverNegativeValues) {
  const ref::ConvProblem& p = GetParam().problem;
  const Tensor x = ref::random_tensor(p.input_shape(), 4, -2.0, -1.0);
  Tensor y = Tensor::empty(pooled_shape(p)), argmax = Tensor::empty(pooled_shape(p), DType::i32);
  ops::maxpool2d_forward(geometry_of(p), x, y, argmax);
  ref::expect_close(y, ref::maxpool2d_forward(p, ref::to_values(x)).y, 0, 0);
  for (double index : ref::to_values(argmax)) {
    ASSERT_GE(index, 0);
    ASSERT_LT(index, static_cast<double>(x.numel()));
  }
}

TEST_P(MaxPoolTest, GradientMatchesFiniteDifferences) {
  const ref::ConvProblem& p = GetParam().problem;
  const Tensor x = distinct_tensor(p.input_shape(), 5);
  const ref::Values r = ref::random_values(static_cast<std::size_t>(pooled_shape(p).numel()), 6);
  Tensor y = Tensor::empty(pooled_shape(p)), argmax = Tensor::empty(pooled_shape(p), DType::i32);
  auto loss = [&](const Tensor& xv) {
    ops::maxpool2d_forward(geometry_of(p), xv, y, argmax);
    return ref::weighted_sum(y, r);
  };
  const ref::Values fd = ref::finite_difference(loss, x, 1e-2f);
  ops::maxpool2d_forward(geometry_of(p), x, y, argmax);
  Tensor dx = Tensor::empty(p.input_shape());
  ops::maxpool2d_backward(geometry_of(p), ref::to_tensor(pooled_shape(p), r), argmax, dx);
  ref::expect_close(dx, fd, 1e-2, 1e-3);
}

std::string case_name(const testing::TestParamInfo<PoolCase>& case_info) {
  return case_info.param.name;
}
INSTANTIATE_TEST_SUITE_P(Windows, MaxPoolTest, testing::ValuesIn(kCases), case_name);

TEST(GlobalAveragePool, ForwardAndBackwardMatchReference) {
  const Tensor x = ref::random_tensor({3, 5, 7, 4}, 7), dy = ref::random_tensor({3, 4}, 8);
  Tensor y = ref::filled_tensor({3, 4}, 1e3f), dx = ref::filled_tensor({3, 5, 7, 4}, 1e3f);
  ops::global_average_pool_forward(x, y);
  ops::global_average_pool_backward(dy, dx);
  ref::expect_close(y, ref::global_average_pool_forward(ref::to_values(x), 35, 4), 1e-5, 1e-6);
  ref::expect_close(dx, ref::global_average_pool_backward(ref::to_values(dy), 35, 4), 1e-6, 1e-7);
}

TEST(GlobalAveragePool, GradientMatchesFiniteDifferences) {
  const Tensor x = ref::random_tensor({2, 3, 3, 5}, 9);
  const ref::Values r = ref::random_values(10, 10);
  Tensor y = Tensor::empty({2, 5});
  auto loss = [&](const Tensor& xv) {
    ops::global_average_pool_forward(xv, y);
    return ref::weighted_sum(y, r);
  };
  Tensor dx = Tensor::empty({2, 3, 3, 5});
  ops::global_average_pool_backward(ref::to_tensor({2, 5}, r), dx);
  ref::expect_close(dx, ref::finite_difference(loss, x, 1e-2f), 2e-2, 1e-3);
}

}  // namespace
}  // namespace ringtrain
