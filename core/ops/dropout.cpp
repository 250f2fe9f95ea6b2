// Inverted dropout with masks recomputed from the Philox key, never stored (CPU loop here, CUDA kernel in
// core/cuda/kernels.cu, the same draws).
#include "core/ops/dropout.hpp"

#include <vector>

#include "core/cuda/kernels.hpp"
#include "core/ops/op_checks.hpp"
#include "core/rng.hpp"

namespace ringtrain::ops {

namespace {

// out[i] = in[i] * (kept ? 1 / (1 - rate) : 0), the mask from the key.
void apply_mask(const char* op, const Tensor& in_tensor, float rate, const DropoutKey& key,
                Tensor& out_tensor) {
  RT_CHECK(rate >= 0.0f && rate < 1.0f, op << ": dropout rate " << rate << " must be in [0, 1)");
  const Philox generator(key.seed, RandomStream::dropout, key.layer);
  const std::int64_t rows = in_tensor.dim(0);
  const std::int64_t features = rows == 0 ? 0 : in_tensor.numel() / rows;
  if (on_cuda(op, {&in_tensor, &out_tensor})) {
    cuda::dropout(in_tensor.data<float>(), out_tensor.data<float>(), rows, features, rate, generator.key()[0],
                  generator.key()[1], key.step, key.step_on_device, key.first_sample);
    return;
  }
  const float keep_scale = 1.0f / (1.0f - rate);
  const float* in = in_tensor.data<float>();
  float* out = out_tensor.data<float>();
#pragma omp parallel
  {
    std::vector<float> draws(static_cast<std::size_t>(features));
#pragma omp for
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::uint64_t first =
          (key.first_sample + static_cast<std::uint64_t>(r)) * static_cast<std::uint64_t>(features);
      generator.uniforms(key.step, first, features, draws.data());
      for (std::int64_t f = 0; f < features; ++f) {
        const bool kept = draws[static_cast<std::size_t>(f)] >= rate;
        out[r * features + f] = kept ? in[r * features + f] * keep_scale : 0.0f;
      }
    }
  }
}

}  // namespace

void dropout_forward(const Tensor& x, float rate, const DropoutKey& key, Tensor& y) {
  apply_mask("dropout_forward", x, rate, key, y);
}

void dropout_backward(const Tensor& dy, float rate, const DropoutKey& key, Tensor& dx) {
  apply_mask("dropout_backward", dy, rate, key, dx);
}

}  // namespace ringtrain::ops
