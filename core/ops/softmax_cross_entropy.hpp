// Softmax and categorical cross-entropy fused from logits with log-sum-exp, so no NaN or infinity can come
// from an underflowing probability.
#pragma once

#include <cstdint>

#include "core/tensor.hpp"

namespace ringtrain::ops {

struct LossSums {
  double loss_sum = 0;       // sum over the rows of -log softmax(logits)[label]
  std::int64_t correct = 0;  // rows whose arg-max logit equals the label (first maximum wins)
};

// logits [batch, classes], labels int32 [batch] in [0, classes). When dlogits is defined it receives
// (softmax(logits) - onehot(label)) * gradient_scale (gradient_scale is 1 / global batch for a mean loss).
LossSums softmax_cross_entropy(const Tensor& logits, const Tensor& labels, float gradient_scale,
                               Tensor& dlogits);

// The same sums added to `totals` (float64 [3] on the logits' device: loss sum, correct rows, and rows whose
// label is outside [0, classes), which the CPU reports at once instead) rather than returned: on the GPU
// nothing waits for them, so a training step needs no host synchronisation.
void accumulate_softmax_cross_entropy(const Tensor& logits, const Tensor& labels, float gradient_scale,
                                      Tensor& dlogits, Tensor& totals);

}  // namespace ringtrain::ops
