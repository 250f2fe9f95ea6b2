// Fused softmax cross-entropy from logits on the CPU (log-sum-exp, accumulated in double).
#include "core/ops/softmax_cross_entropy.hpp"

#include <algorithm>
#include <cmath>

#include "core/cuda/kernels.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

namespace {

// The GPU's sums, queued into `totals` (nothing waits).
void queue_on_gpu(const Tensor& logits, const Tensor& labels, float gradient_scale, Tensor& dlogits,
                  Tensor& totals) {
  require_shape("softmax_cross_entropy", "totals", totals, {3});
  cuda::softmax_cross_entropy(logits.data<float>(), labels.data<std::int32_t>(), logits.dim(0), logits.dim(1),
                              gradient_scale, dlogits.defined() ? dlogits.data<float>() : nullptr,
                              totals.data<double>());
}

}  // namespace

void accumulate_softmax_cross_entropy(const Tensor& logits, const Tensor& labels, float gradient_scale,
                                      Tensor& dlogits, Tensor& totals) {
  if (on_cuda("softmax_cross_entropy", {&logits, &labels, &dlogits, &totals})) {
    require_shape("softmax_cross_entropy", "labels", labels, {logits.dim(0)});
    queue_on_gpu(logits, labels, gradient_scale, dlogits, totals);
    return;
  }
  require_shape("softmax_cross_entropy", "totals", totals, {3});
  const LossSums sums = softmax_cross_entropy(logits, labels, gradient_scale, dlogits);
  double* sum = totals.data<double>();
  sum[0] += sums.loss_sum;
  sum[1] += static_cast<double>(sums.correct);
}

LossSums softmax_cross_entropy(const Tensor& logits, const Tensor& labels, float gradient_scale,
                               Tensor& dlogits) {
  const std::int64_t rows = logits.dim(0), classes = logits.dim(1);
  require_shape("softmax_cross_entropy", "labels", labels, {rows});
  if (on_cuda("softmax_cross_entropy", {&logits, &labels, &dlogits})) {
    Tensor totals = Tensor::zeros({3}, DType::f64, Device::cuda);
    queue_on_gpu(logits, labels, gradient_scale, dlogits, totals);
    double sums[3];
    device_copy(sums, Device::cpu, totals.data<double>(), Device::cuda, sizeof sums);
    RT_CHECK(sums[2] == 0,
             "softmax_cross_entropy: " << sums[2] << " label(s) outside [0, " << classes
                                       << "): labels must be class indices below the number of logits");
    return {sums[0], static_cast<std::int64_t>(sums[1])};
  }
  const float* in = logits.data<float>();
  const std::int32_t* label = labels.data<std::int32_t>();
  float* gradient = dlogits.defined() ? dlogits.data<float>() : nullptr;
  for (std::int64_t r = 0; r < rows; ++r) {
    RT_CHECK(label[r] >= 0 && label[r] < classes,
             "label " << label[r] << " at row " << r << " outside [0, " << classes << ")");
  }
  double loss_sum = 0;
  std::int64_t correct = 0;
#pragma omp parallel for reduction(+ : loss_sum, correct)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = in + r * classes;
    const std::int32_t target = label[r];
    const std::int64_t best = std::max_element(row, row + classes) - row;
    const float largest = row[best];
    double total = 0;
    for (std::int64_t c = 0; c < classes; ++c)
      total += std::exp(static_cast<double>(row[c] - largest));
    const double log_total = std::log(total);
    loss_sum += log_total - static_cast<double>(row[target] - largest);
    correct += best == target ? 1 : 0;
    if (gradient == nullptr) continue;
    for (std::int64_t c = 0; c < classes; ++c) {
      const double probability = std::exp(static_cast<double>(row[c] - largest) - log_total);
      gradient[r * classes + c] =
          static_cast<float>((probability - (c == target ? 1.0 : 0.0)) * gradient_scale);
    }
  }
  return {loss_sum, correct};
}

}  // namespace ringtrain::ops
