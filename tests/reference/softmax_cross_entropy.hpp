// Reference softmax cross-entropy from logits in double: loss by log-sum-exp, gradient, arg-max accuracy.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/reference/support.hpp"

namespace ringtrain::reference {

struct CrossEntropy {
  double loss_sum = 0;       // sum over rows of log(sum_j exp(z_j)) - z_label
  std::int64_t correct = 0;  // rows whose first maximum logit is the label
  Values dlogits;            // (softmax(z) - onehot(label)) * gradient_scale
};

// logits [batch, classes], labels [batch].
CrossEntropy softmax_cross_entropy(const Values& logits, const std::vector<std::int32_t>& labels,
                                   std::int64_t classes, double gradient_scale);

}  // namespace ringtrain::reference
