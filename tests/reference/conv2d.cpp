// Reference convolution: seven nested loops, forward and both backward passes.
#include "tests/reference/conv2d.hpp"

#include <algorithm>

namespace ringtrain::reference {

SpatialSize spatial_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, ops::Padding padding) {
  SpatialSize size;
  if (padding == ops::Padding::valid) {
    size.out = (in - kernel) / stride + 1;
    return size;
  }
  size.out = (in + stride - 1) / stride;
  const std::int64_t total = std::max<std::int64_t>((size.out - 1) * stride + kernel - in, 0);
  size.pad_before = total / 2;
  size.pad_after = total - size.pad_before;
  return size;
}

namespace {

// Calls visit(x_index, w_index, y_index) for every product x * w that the forward sum adds into y.
template <typename Visit>
void for_each_product(const ConvProblem& p, Visit visit) {
  const SpatialSize rows = p.rows(), cols = p.cols();
  for (std::int64_t n = 0; n < p.batch; ++n)
    for (std::int64_t oh = 0; oh < rows.out; ++oh)
      for (std::int64_t ow = 0; ow < cols.out; ++ow)
        for (std::int64_t kh = 0; kh < p.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const std::int64_t ih = oh * p.stride_h + kh - rows.pad_before;
            const std::int64_t iw = ow * p.stride_w + kw - cols.pad_before;
            if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;  // padding reads 0
            for (std::int64_t ci = 0; ci < p.in_c; ++ci)
              for (std::int64_t co = 0; co < p.out_c; ++co) {
                const std::int64_t x_index = ((n * p.in_h + ih) * p.in_w + iw) * p.in_c + ci;
                const std::int64_t w_index = ((kh * p.kernel_w + kw) * p.in_c + ci) * p.out_c + co;
                const std::int64_t y_index = ((n * rows.out + oh) * cols.out + ow) * p.out_c + co;
                visit(x_index, w_index, y_index);
              }
          }
}

}  // namespace

Values conv2d_forward(const ConvProblem& problem, const Values& x, const Values& w, const Values& bias) {
  Values y(static_cast<std::size_t>(problem.output_shape().numel()), 0.0);
  for (std::size_t i = 0; i < y.size() && !bias.empty(); ++i)
    y[i] = bias[i % bias.size()];
  for_each_product(problem,
                   [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { y[yi] += x[xi] * w[wi]; });
  return y;
}

Values conv2d_backward_data(const ConvProblem& problem, const Values& dy, const Values& w) {
  Values dx(static_cast<std::size_t>(problem.input_shape().numel()), 0.0);
  for_each_product(problem,
                   [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

Values conv2d_backward_filter(const ConvProblem& problem, const Values& x, const Values& dy) {
  Values dw(static_cast<std::size_t>(problem.kernel_shape().numel()), 0.0);
  for_each_product(problem,
                   [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { dw[wi] += dy[yi] * x[xi]; });
  return dw;
}

Values sum_over_rows(const Values& values, std::int64_t channels) {
  Values sums(static_cast<std::size_t>(channels), 0.0);
  for (std::size_t i = 0; i < values.size(); ++i)
    sums[i % sums.size()] += values[i];
  return sums;
}

}  // namespace ringtrain::reference
