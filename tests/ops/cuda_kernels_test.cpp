// Our CUDA kernels against the CPU ops on the same random inputs: activations forward and backward, dropout
// (masks identical bit for bit: one Philox implementation for both devices), the fused softmax cross-entropy
// (loss, accuracy and gradient), and the SGD and Adam updates. Skipped where no GPU is usable; the CPU ops
// are themselves checked against the plain references in tests/reference.
#include <gtest/gtest.h>

#include <random>

#include "core/cuda/cuda_runtime.hpp"
#include "core/ops/activation.hpp"
#include "core/ops/dropout.hpp"
#include "core/ops/optimizer_update.hpp"
#include "core/ops/softmax_cross_entropy.hpp"

namespace ringtrain::ops {
namespace {

class CudaKernels : public testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no usable GPU: " << cuda::describe();
  }

  static Tensor random(const Shape& shape, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> values(static_cast<std::size_t>(shape.numel()));
    for (auto& value : values)
      value = normal(generator);
    return Tensor::from_vector(shape, values);
  }

  static Tensor gpu(const Tensor& host) { return host.to(Device::cuda); }
  static Tensor gpu_like(const Tensor& host) {
    return Tensor::zeros(host.shape(), host.dtype(), Device::cuda);
  }

  // max |gpu - cpu| / max(1, |cpu|) over the elements.
  static double difference(const Tensor& from_gpu, const Tensor& cpu) {
    const Tensor host = from_gpu.to(Device::cpu);
    double worst = 0;
    for (std::int64_t i = 0; i < cpu.numel(); ++i) {
      const double expected = cpu.data<float>()[i];
      worst = std::max(worst, std::abs(host.data<float>()[i] - expected) / std::max(1.0, std::abs(expected)));
    }
    return worst;
  }
};

TEST_F(CudaKernels, ActivationsMatchTheCpu) {
  for (const Activation activation :
       {Activation::linear, Activation::relu, Activation::sigmoid, Activation::tanh, Activation::softmax}) {
    SCOPED_TRACE(to_string(activation));
    const Tensor x = random({37, 10}, 1, 3.0f), dy = random({37, 10}, 2);
    Tensor y = Tensor::zeros(x.shape()), dx = Tensor::zeros(x.shape());
    activation_forward(activation, x, y);
    activation_backward(activation, y, dy, dx);
    Tensor y_gpu = gpu_like(y), dx_gpu = gpu_like(dx);
    activation_forward(activation, gpu(x), y_gpu);
    activation_backward(activation, y_gpu, gpu(dy), dx_gpu);
    EXPECT_LE(difference(y_gpu, y), 1e-6);  // expf/tanhf differ from the CPU's by an ulp or two
    EXPECT_LE(difference(dx_gpu, dx), 1e-6);
  }
}

TEST_F(CudaKernels, DropoutMasksAreTheCpusBitForBit) {
  const Tensor x = random({64, 200}, 3);
  const DropoutKey key{42, 7, 1234, 640};
  Tensor y = Tensor::zeros(x.shape()), y_gpu = gpu_like(x);
  dropout_forward(x, 0.3f, key, y);
  dropout_forward(gpu(x), 0.3f, key, y_gpu);
  const Tensor back = y_gpu.to(Device::cpu);
  std::int64_t differing = 0, dropped = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    differing += back.data<float>()[i] != y.data<float>()[i];
    dropped += y.data<float>()[i] == 0.0f;
  }
  EXPECT_EQ(differing, 0);
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(x.numel()), 0.3, 0.02);
}

TEST_F(CudaKernels, SoftmaxCrossEntropyMatchesTheCpu) {
  const Tensor logits = random({129, 10}, 4, 4.0f);
  std::vector<std::int32_t> label_values;
  for (int r = 0; r < 129; ++r)
    label_values.push_back(r % 10);
  Tensor labels = Tensor::empty({129}, DType::i32);
  std::copy(label_values.begin(), label_values.end(), labels.data<std::int32_t>());
  Tensor dlogits = Tensor::zeros(logits.shape()), dlogits_gpu = gpu_like(logits);
  const LossSums cpu = softmax_cross_entropy(logits, labels, 1.0f / 129, dlogits);
  const LossSums on_gpu = softmax_cross_entropy(gpu(logits), gpu(labels), 1.0f / 129, dlogits_gpu);
  EXPECT_NEAR(on_gpu.loss_sum, cpu.loss_sum, 1e-9 * std::abs(cpu.loss_sum));
  EXPECT_EQ(on_gpu.correct, cpu.correct);
  EXPECT_LE(difference(dlogits_gpu, dlogits), 1e-7);
  labels.data<std::int32_t>()[5] = 10;
  Tensor no_gradient;
  EXPECT_THROW(softmax_cross_entropy(gpu(logits), gpu(labels), 1.0f, no_gradient), Error);
}

TEST_F(CudaKernels, OptimizerUpdatesMatchTheCpu) {
  const std::int64_t count = 100003;
  const Tensor grads = random({count}, 5);
  Tensor params = random({count}, 6), velocity = random({count}, 7), m = random({count}, 8, 0.1f);
  Tensor v = random({count}, 9, 0.1f);
  for (std::int64_t i = 0; i < count; ++i)
    v.data<float>()[i] = std::abs(v.data<float>()[i]);
  Tensor params_gpu = gpu(params), velocity_gpu = gpu(velocity), m_gpu = gpu(m), v_gpu = gpu(v);
  sgd_update(params, grads, velocity, 0.01f, 0.9f);
  sgd_update(params_gpu, gpu(grads), velocity_gpu, 0.01f, 0.9f);
  EXPECT_LE(difference(params_gpu, params), 1e-6);
  EXPECT_LE(difference(velocity_gpu, velocity), 1e-6);
  adam_update(params, grads, m, v, 0.001f, 0.9f, 0.999f, 1e-7f, 3);
  adam_update(params_gpu, gpu(grads), m_gpu, v_gpu, 0.001f, 0.9f, 0.999f, 1e-7f, 3);
  EXPECT_LE(difference(params_gpu, params), 1e-6);
  EXPECT_LE(difference(m_gpu, m), 1e-6);
  EXPECT_LE(difference(v_gpu, v), 1e-6);
}

TEST(CudaKernelsDevices, MixedDevicesAreAClearError) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no usable GPU";
  const Tensor x = Tensor::zeros({4, 3});
  Tensor y = Tensor::zeros({4, 3}, DType::f32, Device::cuda);
  EXPECT_THROW(activation_forward(Activation::relu, x, y), Error);
}

}  // namespace
}  // namespace ringtrain::ops
