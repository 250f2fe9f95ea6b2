// Dense forward and backward: oneDNN's sgemm (row-major) on the CPU, cuBLAS on the GPU (core/cuda/dense.cu).
#include "core/ops/dense.hpp"

#include <dnnl.h>

#include "core/cuda/kernels.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

namespace {

// C[m, n] = alpha * op(A) * op(B) + beta * C, row-major.
void sgemm(char trans_a, char trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
  const dnnl_status_t status = dnnl_sgemm(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  RT_CHECK(status == dnnl_success, "oneDNN sgemm failed with status " << static_cast<int>(status));
}

}  // namespace

void dense_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  const std::int64_t batch = x.dim(0), in = w.dim(0), out = w.dim(1);
  require_shape("dense_forward", "x", x, {batch, in});
  require_shape("dense_forward", "y", y, {batch, out});
  if (on_cuda("dense_forward", {&x, &w, &bias, &y})) {
    cuda::dense_forward(x.data<float>(), w.data<float>(), bias.defined() ? bias.data<float>() : nullptr,
                        y.data<float>(), batch, in, out);
    return;
  }
  sgemm('N', 'N', batch, out, in, x.data<float>(), in, w.data<float>(), out, y.data<float>(), out);
  if (!bias.defined()) return;
  const float* b = bias.data<float>();
  float* output = y.data<float>();
#pragma omp parallel for
  for (std::int64_t row = 0; row < batch; ++row) {
    for (std::int64_t column = 0; column < out; ++column)
      output[row * out + column] += b[column];
  }
}

void dense_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                    Tensor& dbias) {
  const std::int64_t batch = x.dim(0), in = w.dim(0), out = w.dim(1);
  require_shape("dense_backward", "dy", dy, {batch, out});
  if (on_cuda("dense_backward", {&x, &w, &dy, &dx, &dw, &dbias})) {
    cuda::dense_backward(x.data<float>(), w.data<float>(), dy.data<float>(),
                         dx.defined() ? dx.data<float>() : nullptr, dw.data<float>(),
                         dbias.defined() ? dbias.data<float>() : nullptr, batch, in, out);
    return;
  }
  if (dx.defined()) {
    sgemm('N', 'T', batch, in, out, dy.data<float>(), out, w.data<float>(), out, dx.data<float>(), in);
  }
  sgemm('T', 'N', in, out, batch, x.data<float>(), in, dy.data<float>(), out, dw.data<float>(), out);
  if (!dbias.defined()) return;
  const float* gradient = dy.data<float>();
  float* db = dbias.data<float>();
  for (std::int64_t column = 0; column < out; ++column)
    db[column] = 0;
  for (std::int64_t row = 0; row < batch; ++row) {
    for (std::int64_t column = 0; column < out; ++column)
      db[column] += gradient[row * out + column];
  }
}

}  // namespace ringtrain::ops
