// Reference batch normalization: per-channel loops; backward by the chain rule through mean and variance.
#include "tests/reference/batchnorm.hpp"

#include <cmath>

namespace ringtrain::reference {

namespace {

double gamma_of(const Values& gamma, std::int64_t c) {
  return gamma.empty() ? 1.0 : gamma[c];
}

}  // namespace

BatchNormForward batchnorm_training_forward(const Values& x, const Values& gamma, const Values& beta,
                                            std::int64_t channels, double epsilon) {
  const std::int64_t rows = static_cast<std::int64_t>(x.size()) / channels;
  BatchNormForward result{Values(x.size()), Values(channels, 0.0), Values(channels, 0.0)};
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t r = 0; r < rows; ++r)
      result.mean[c] += x[r * channels + c];
    result.mean[c] /= static_cast<double>(rows);
    for (std::int64_t r = 0; r < rows; ++r) {
      const double centred = x[r * channels + c] - result.mean[c];
      result.variance[c] += centred * centred;
    }
    result.variance[c] /= static_cast<double>(rows);
  }
  Values inv_std(channels);
  for (std::int64_t c = 0; c < channels; ++c)
    inv_std[c] = 1.0 / std::sqrt(result.variance[c] + epsilon);
  result.y = batchnorm_normalize(x, result.mean, inv_std, gamma, beta, channels);
  return result;
}

Values batchnorm_normalize(const Values& x, const Values& mean, const Values& inv_std, const Values& gamma,
                           const Values& beta, std::int64_t channels) {
  Values y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::int64_t c = static_cast<std::int64_t>(i) % channels;
    y[i] = gamma_of(gamma, c) * (x[i] - mean[c]) * inv_std[c] + (beta.empty() ? 0.0 : beta[c]);
  }
  return y;
}

BatchNormGradients batchnorm_training_backward(const Values& x, const Values& gamma, const Values& dy,
                                               std::int64_t channels, double epsilon) {
  const std::int64_t rows = static_cast<std::int64_t>(x.size()) / channels;
  const double n = static_cast<double>(rows);
  const BatchNormForward forward = batchnorm_training_forward(x, {}, {}, channels, epsilon);
  BatchNormGradients g{Values(x.size()), Values(channels, 0.0), Values(channels, 0.0)};
  for (std::int64_t c = 0; c < channels; ++c) {
    const double mean = forward.mean[c];
    const double std_dev = std::sqrt(forward.variance[c] + epsilon);
    auto at = [&](std::int64_t r) { return r * channels + c; };
    // xhat = (x - mean) / std_dev; y = gamma * xhat + beta.
    double dvariance = 0, dmean = 0, sum_centred = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      const double dxhat = dy[at(r)] * gamma_of(gamma, c);
      g.dgamma[c] += dy[at(r)] * (x[at(r)] - mean) / std_dev;
      g.dbeta[c] += dy[at(r)];
      // d xhat / d variance = (x - mean) * -1/2 * (variance + epsilon)^(-3/2)
      dvariance += dxhat * (x[at(r)] - mean) * -0.5 / (std_dev * std_dev * std_dev);
      dmean += -dxhat / std_dev;
      sum_centred += x[at(r)] - mean;
    }
    // variance = sum (x - mean)^2 / n also depends on the mean.
    dmean += dvariance * -2.0 * sum_centred / n;
    for (std::int64_t r = 0; r < rows; ++r) {
      const double dxhat = dy[at(r)] * gamma_of(gamma, c);
      g.dx[at(r)] = dxhat / std_dev + dvariance * 2.0 * (x[at(r)] - mean) / n + dmean / n;
    }
  }
  return g;
}

}  // namespace ringtrain::reference
