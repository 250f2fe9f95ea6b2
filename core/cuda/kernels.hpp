// The CUDA kernels behind the ops that are ours (not cuDNN's or cuBLAS's): elementwise activations, dropout
// with the shared Philox generator, the fused softmax cross-entropy, and the optimizers as one pass over the
// flat parameter buffer. Pointers are device memory; kernels run on cudaStreamPerThread. Declared for every
// build; cuda_absent.cpp makes each a clear error where CUDA is not built. The ops in core/ops call these for
// CUDA tensors, with the same argument checks as on the CPU.
#pragma once

#include <cstdint>

namespace ringtrain::cuda {

// kind: the value of ops::Activation (linear, relu, sigmoid, tanh, softmax); columns: the softmax axis.
void activation_forward(int kind, const float* x, float* y, std::int64_t count, std::int64_t columns);
void activation_backward(int kind, const float* y, const float* dy, float* dx, std::int64_t count,
                         std::int64_t columns);

// out = in * (kept ? 1 / (1 - rate) : 0), kept when philox::uniform(k0, k1, step, (first_sample + row) *
// features + feature) >= rate: the CPU's mask bit for bit.
void dropout(const float* in, float* out, std::int64_t rows, std::int64_t features, float rate,
             std::uint32_t k0, std::uint32_t k1, std::uint64_t step, std::uint64_t first_sample);

// Per row: loss -log softmax(logits)[label] and arg-max == label, summed into *loss_sum and *correct (host
// memory; the call waits for them); dlogits (nullable) = (softmax - onehot) * gradient_scale.
void softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::int64_t rows,
                           std::int64_t classes, float gradient_scale, float* dlogits, double* loss_sum,
                           std::int64_t* correct);

// velocity null: p -= rate * g; else u = momentum * u - rate * g, p += u.
void sgd_update(float* params, const float* grads, float* velocity, std::int64_t count, float rate,
                float momentum);
// Adam with the bias correction folded into corrected_rate (as on the CPU).
void adam_update(float* params, const float* grads, float* m, float* v, std::int64_t count,
                 float corrected_rate, float beta1, float beta2, float epsilon);

}  // namespace ringtrain::cuda
