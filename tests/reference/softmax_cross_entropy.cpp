// Reference softmax cross-entropy: one row at a time, shifted by the row maximum.
#include "tests/reference/softmax_cross_entropy.hpp"

#include <cmath>

namespace ringtrain::reference {

CrossEntropy softmax_cross_entropy(const Values& logits, const std::vector<std::int32_t>& labels,
                                   std::int64_t classes, double gradient_scale) {
  CrossEntropy result;
  result.dlogits.assign(logits.size(), 0.0);
  for (std::size_t n = 0; n < labels.size(); ++n) {
    const double* z = logits.data() + n * static_cast<std::size_t>(classes);
    std::int64_t first_max = 0;
    for (std::int64_t j = 1; j < classes; ++j) {
      if (z[j] > z[first_max]) first_max = j;
    }
    double total = 0;
    for (std::int64_t j = 0; j < classes; ++j)
      total += std::exp(z[j] - z[first_max]);
    const double log_sum_exp = z[first_max] + std::log(total);
    result.loss_sum += log_sum_exp - z[labels[n]];
    if (first_max == labels[n]) ++result.correct;
    for (std::int64_t j = 0; j < classes; ++j) {
      const double probability = std::exp(z[j] - log_sum_exp);
      result.dlogits[n * classes + j] = (probability - (j == labels[n] ? 1.0 : 0.0)) * gradient_scale;
    }
  }
  return result;
}

}  // namespace ringtrain::reference
