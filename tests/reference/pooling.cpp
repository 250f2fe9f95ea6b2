// Reference pooling: a scan of every window for the max; sums for the global average.
#include "tests/reference/pooling.hpp"

#include <limits>

namespace ringtrain::reference {

MaxPoolForward maxpool2d_forward(const ConvProblem& p, const Values& x) {
  const SpatialSize rows = p.rows(), cols = p.cols();
  const std::size_t out_count = static_cast<std::size_t>(p.batch * rows.out * cols.out * p.in_c);
  MaxPoolForward result{Values(out_count), std::vector<std::int64_t>(out_count, -1)};
  std::size_t o = 0;
  for (std::int64_t n = 0; n < p.batch; ++n)
    for (std::int64_t oh = 0; oh < rows.out; ++oh)
      for (std::int64_t ow = 0; ow < cols.out; ++ow)
        for (std::int64_t c = 0; c < p.in_c; ++c, ++o) {
          double best = -std::numeric_limits<double>::infinity();
          for (std::int64_t kh = 0; kh < p.kernel_h; ++kh)
            for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
              const std::int64_t ih = oh * p.stride_h + kh - rows.pad_before;
              const std::int64_t iw = ow * p.stride_w + kw - cols.pad_before;
              if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;  // padding never wins
              const std::int64_t index = ((n * p.in_h + ih) * p.in_w + iw) * p.in_c + c;
              if (x[index] > best) {
                best = x[index];
                result.argmax[o] = index;
              }
            }
          result.y[o] = best;
        }
  return result;
}

Values maxpool2d_backward(const ConvProblem& problem, const Values& x, const Values& dy) {
  const MaxPoolForward forward = maxpool2d_forward(problem, x);
  Values dx(x.size(), 0.0);
  for (std::size_t o = 0; o < dy.size(); ++o)
    dx[forward.argmax[o]] += dy[o];
  return dx;
}

Values global_average_pool_forward(const Values& x, std::int64_t spatial, std::int64_t channels) {
  const std::int64_t batch = static_cast<std::int64_t>(x.size()) / (spatial * channels);
  Values y(static_cast<std::size_t>(batch * channels), 0.0);
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t s = 0; s < spatial; ++s)
      for (std::int64_t c = 0; c < channels; ++c)
        y[n * channels + c] += x[(n * spatial + s) * channels + c];
  for (double& value : y)
    value /= static_cast<double>(spatial);
  return y;
}

Values global_average_pool_backward(const Values& dy, std::int64_t spatial, std::int64_t channels) {
  const std::int64_t batch = static_cast<std::int64_t>(dy.size()) / channels;
  Values dx(static_cast<std::size_t>(batch * spatial * channels));
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t s = 0; s < spatial; ++s)
      for (std::int64_t c = 0; c < channels; ++c)
        dx[(n * spatial + s) * channels + c] = dy[n * channels + c] / static_cast<double>(spatial);
  return dx;
}

}  // namespace ringtrain::reference
