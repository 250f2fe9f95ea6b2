// Reference batch normalization in double over x viewed as [rows, channels]: training-mode forward with
// biased batch statistics, and its backward derived step by step through the mean and the variance.
#pragma once

#include <cstdint>

#include "tests/reference/support.hpp"

namespace ringtrain::reference {

struct BatchNormForward {
  Values y;         // [rows, channels]
  Values mean;      // [channels]
  Values variance;  // [channels], biased: divided by rows
};
// y = gamma * (x - mean) / sqrt(variance + epsilon) + beta; gamma and beta may be empty (1 and 0).
BatchNormForward batchnorm_training_forward(const Values& x, const Values& gamma, const Values& beta,
                                            std::int64_t channels, double epsilon);

// y = gamma * (x - mean) * inv_std + beta with given statistics (inference mode).
Values batchnorm_normalize(const Values& x, const Values& mean, const Values& inv_std, const Values& gamma,
                           const Values& beta, std::int64_t channels);

struct BatchNormGradients {
  Values dx;      // [rows, channels]
  Values dgamma;  // [channels]
  Values dbeta;   // [channels]
};
// Gradients of sum(y * dy) for the training-mode forward, the batch statistics depending on x.
BatchNormGradients batchnorm_training_backward(const Values& x, const Values& gamma, const Values& dy,
                                               std::int64_t channels, double epsilon);

}  // namespace ringtrain::reference
