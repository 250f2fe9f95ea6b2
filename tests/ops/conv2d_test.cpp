// Tests of ops::conv2d_*: TensorFlow padding geometry, forward and both backward passes against the double
// reference on awkward sizes (on the CPU in both activation layouts), and gradients against finite
// differences.
#include "core/ops/conv2d.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <tuple>

#include "tests/reference/conv2d.hpp"
#include "tests/reference/gradient_check.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;
using ops::Padding;

struct ConvCase {
  const char* name;
  ref::ConvProblem problem;
  bool with_bias;
};
void PrintTo(const ConvCase& c, std::ostream* out) {
  *out << c.name;
}

ops::Conv2DGeometry geometry_of(const ref::ConvProblem& p) {
  return ops::conv2d_geometry(p.batch, p.in_h, p.in_w, p.in_c, p.out_c, p.kernel_h, p.kernel_w, p.stride_h,
                              p.stride_w, p.padding);
}

TEST(Conv2DGeometry, PaddedDimFollowsTensorFlow) {
  struct Dim {
    std::int64_t in, kernel, stride, out, before, after;
  };
  for (const Dim d :
       {Dim{28, 3, 1, 28, 1, 1}, Dim{28, 6, 2, 14, 2, 2}, Dim{14, 6, 2, 7, 2, 2}, Dim{7, 6, 2, 4, 2, 3},
        Dim{5, 2, 2, 3, 0, 1}, Dim{8, 1, 3, 3, 0, 0}, Dim{4, 7, 1, 4, 3, 3}}) {
    const ops::PaddedDim got = ops::padded_dim(d.in, d.kernel, d.stride, Padding::same);
    EXPECT_EQ(got.out, d.out) << "in " << d.in << " kernel " << d.kernel << " stride " << d.stride;
    EXPECT_EQ(got.pad_before, d.before) << "in " << d.in << " kernel " << d.kernel << " stride " << d.stride;
    EXPECT_EQ(got.pad_after, d.after) << "in " << d.in << " kernel " << d.kernel << " stride " << d.stride;
  }
  const ops::PaddedDim valid = ops::padded_dim(7, 3, 2, Padding::valid);
  EXPECT_EQ(valid.out, 3);
  EXPECT_EQ(valid.pad_before + valid.pad_after, 0);
  EXPECT_EQ(ops::padded_dim(28, 6, 2, Padding::valid).out, 12);
}

TEST(Conv2DGeometry, ParsesAndPrintsPadding) {
  EXPECT_EQ(ops::parse_padding("same"), Padding::same);
  EXPECT_EQ(ops::parse_padding("valid"), Padding::valid);
  EXPECT_EQ(ops::to_string(Padding::same), "same");
  EXPECT_EQ(ops::to_string(Padding::valid), "valid");
  EXPECT_THROW(ops::parse_padding("full"), Error);
}

const ConvCase kCases[] = {
    {"in7_k6_s2_same_asymmetric", {3, 7, 7, 2, 4, 6, 6, 2, 2, Padding::same}, true},
    {"in28_k6_s2_same", {2, 28, 28, 1, 3, 6, 6, 2, 2, Padding::same}, true},
    {"in7x8_k6x5_s2_same_nobias", {3, 7, 8, 3, 2, 6, 5, 2, 2, Padding::same}, false},
    {"in28_k3_s1_same", {2, 28, 28, 1, 12, 3, 3, 1, 1, Padding::same}, true},
    {"in5_k3_s1_same_nobias", {3, 5, 5, 3, 2, 3, 3, 1, 1, Padding::same}, false},
    {"in9x7_k3_s2_valid", {3, 9, 7, 2, 3, 3, 3, 2, 2, Padding::valid}, true},
    {"in8_k5_s3x1_valid_nobias", {3, 8, 8, 2, 3, 5, 5, 3, 1, Padding::valid}, false},
    {"k1_s1_valid", {3, 5, 6, 4, 5, 1, 1, 1, 1, Padding::valid}, true},
    {"k1_s2_same_nobias", {3, 7, 5, 3, 2, 1, 1, 2, 2, Padding::same}, false},
    {"in3_k4_s1_same_kernel_wider_than_image", {3, 3, 3, 2, 2, 4, 4, 1, 1, Padding::same}, true},
};

// Each case with the activations handed to oneDNN as NHWC where it can (automatic) and always blocked.
class Conv2DTest : public testing::TestWithParam<std::tuple<ConvCase, ops::CpuConvolutionLayout>> {
 protected:
  void SetUp() override { ops::set_cpu_convolution_layout(std::get<1>(GetParam())); }
  void TearDown() override { ops::set_cpu_convolution_layout(ops::CpuConvolutionLayout::automatic); }
  const ConvCase& conv_case() const { return std::get<0>(GetParam()); }
};

TEST_P(Conv2DTest, GeometryMatchesReference) {
  const ref::ConvProblem& p = conv_case().problem;
  const ops::Conv2DGeometry g = geometry_of(p);
  EXPECT_EQ(g.batch, p.batch);
  EXPECT_EQ(g.in_h, p.in_h);
  EXPECT_EQ(g.in_w, p.in_w);
  EXPECT_EQ(g.in_c, p.in_c);
  EXPECT_EQ(g.out_c, p.out_c);
  EXPECT_EQ(g.kernel_h, p.kernel_h);
  EXPECT_EQ(g.kernel_w, p.kernel_w);
  EXPECT_EQ(g.stride_h, p.stride_h);
  EXPECT_EQ(g.stride_w, p.stride_w);
  EXPECT_EQ(g.out_h, p.rows().out);
  EXPECT_EQ(g.out_w, p.cols().out);
  EXPECT_EQ(g.pad_top, p.rows().pad_before);
  EXPECT_EQ(g.pad_bottom, p.rows().pad_after);
  EXPECT_EQ(g.pad_left, p.cols().pad_before);
  EXPECT_EQ(g.pad_right, p.cols().pad_after);
}

TEST_P(Conv2DTest, ForwardMatchesReference) {
  const auto& [name, p, with_bias] = conv_case();
  const Tensor x = ref::random_tensor(p.input_shape(), 1), w = ref::random_tensor(p.kernel_shape(), 2);
  const Tensor bias = with_bias ? ref::random_tensor({p.out_c}, 3) : Tensor();
  Tensor y = ref::filled_tensor(p.output_shape(), 1e3f);
  ops::conv2d_forward(geometry_of(p), x, w, bias, y);
  ref::expect_close(y,
                    ref::conv2d_forward(p, ref::to_values(x), ref::to_values(w),
                                        with_bias ? ref::to_values(bias) : ref::Values{}),
                    1e-4, 1e-4);
}

TEST_P(Conv2DTest, BackwardDataMatchesReference) {
  const ref::ConvProblem& p = conv_case().problem;
  const Tensor dy = ref::random_tensor(p.output_shape(), 4), w = ref::random_tensor(p.kernel_shape(), 5);
  Tensor dx = ref::filled_tensor(p.input_shape(), 1e3f);
  ops::conv2d_backward_data(geometry_of(p), dy, w, dx);
  ref::expect_close(dx, ref::conv2d_backward_data(p, ref::to_values(dy), ref::to_values(w)), 1e-4, 1e-4);
}

TEST_P(Conv2DTest, BackwardFilterMatchesReference) {
  const auto& [name, p, with_bias] = conv_case();
  const Tensor x = ref::random_tensor(p.input_shape(), 6), dy = ref::random_tensor(p.output_shape(), 7);
  Tensor dw = ref::filled_tensor(p.kernel_shape(), 1e3f);
  Tensor dbias = with_bias ? ref::filled_tensor({p.out_c}, 1e3f) : Tensor();
  ops::conv2d_backward_filter(geometry_of(p), x, dy, dw, dbias);
  ref::expect_close(dw, ref::conv2d_backward_filter(p, ref::to_values(x), ref::to_values(dy)), 1e-4, 1e-4);
  if (with_bias) ref::expect_close(dbias, ref::sum_over_rows(ref::to_values(dy), p.out_c), 1e-4, 1e-4);
}

std::string case_name(const testing::TestParamInfo<Conv2DTest::ParamType>& case_info) {
  const bool blocked = std::get<1>(case_info.param) == ops::CpuConvolutionLayout::blocked;
  return std::string(std::get<0>(case_info.param).name) + (blocked ? "_blocked" : "");
}
INSTANTIATE_TEST_SUITE_P(Shapes, Conv2DTest,
                         testing::Combine(testing::ValuesIn(kCases),
                                          testing::Values(ops::CpuConvolutionLayout::automatic,
                                                          ops::CpuConvolutionLayout::blocked)),
                         case_name);

// Finite differences of the fast kernels: L = sum(y * r), every element of x, w and bias moved by +-eps.
void check_gradients(const ref::ConvProblem& p) {
  const ops::Conv2DGeometry geometry = geometry_of(p);
  const Tensor x = ref::random_tensor(p.input_shape(), 8), w = ref::random_tensor(p.kernel_shape(), 9);
  const Tensor bias = ref::random_tensor({p.out_c}, 10);
  const ref::Values r = ref::random_values(static_cast<std::size_t>(p.output_shape().numel()), 11);
  Tensor y = Tensor::empty(p.output_shape());
  auto loss = [&](const Tensor& xv, const Tensor& wv, const Tensor& bv) {
    ops::conv2d_forward(geometry, xv, wv, bv, y);
    return ref::weighted_sum(y, r);
  };
  const Tensor dy = ref::to_tensor(p.output_shape(), r);
  Tensor dx = Tensor::empty(p.input_shape()), dw = Tensor::empty(p.kernel_shape()),
         dbias = Tensor::empty({p.out_c});
  ops::conv2d_backward_data(geometry, dy, w, dx);
  ops::conv2d_backward_filter(geometry, x, dy, dw, dbias);
  const float eps = 1e-2f;
  ref::expect_close(dx, ref::finite_difference([&](const Tensor& v) { return loss(v, w, bias); }, x, eps),
                    2e-2, 2e-3);
  ref::expect_close(dw, ref::finite_difference([&](const Tensor& v) { return loss(x, v, bias); }, w, eps),
                    2e-2, 2e-3);
  ref::expect_close(dbias, ref::finite_difference([&](const Tensor& v) { return loss(x, w, v); }, bias, eps),
                    2e-2, 2e-3);
}

TEST(Conv2DGradients, StrideTwoAsymmetricSame) {
  check_gradients({2, 7, 7, 2, 3, 6, 6, 2, 2, Padding::same});
}
TEST(Conv2DGradients, StrideTwoSameNonSquare) {
  check_gradients({2, 7, 8, 2, 2, 6, 5, 2, 2, Padding::same});
}
TEST(Conv2DGradients, StrideOneSame) {
  check_gradients({3, 5, 5, 2, 2, 3, 3, 1, 1, Padding::same});
}
TEST(Conv2DGradients, StrideTwoValid) {
  check_gradients({2, 9, 7, 2, 3, 3, 3, 2, 2, Padding::valid});
}
TEST(Conv2DGradients, OneByOne) {
  check_gradients({3, 4, 3, 3, 2, 1, 1, 1, 1, Padding::valid});
}

TEST(Conv2D, MismatchedShapesThrow) {
  const ref::ConvProblem p{2, 7, 7, 2, 3, 6, 6, 2, 2, Padding::same};
  const Tensor x = Tensor::zeros(p.input_shape()), w = Tensor::zeros(p.kernel_shape());
  Tensor wrong_y = Tensor::zeros({2, 7, 7, 3});
  EXPECT_THROW(ops::conv2d_forward(geometry_of(p), x, w, Tensor(), wrong_y), Error);
}

}  // namespace
}  // namespace ringtrain
