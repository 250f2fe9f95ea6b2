// Our CUDA kernels against the CPU ops on the same random inputs: activations forward and backward, dropout
// (masks identical bit for bit: one Philox implementation for both devices), the fused softmax cross-entropy
// (loss, accuracy and gradient), the SGD and Adam updates, batch normalization, pooling, dense layers with
// cuBLAS and convolutions with cuDNN (and its deterministic mode). Skipped where no GPU is usable; the CPU
// ops are themselves checked against the plain references in tests/reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/kernels.hpp"
#include "core/ops/activation.hpp"
#include "core/ops/batchnorm.hpp"
#include "core/ops/conv2d.hpp"
#include "core/ops/dense.hpp"
#include "core/ops/dropout.hpp"
#include "core/ops/optimizer_update.hpp"
#include "core/ops/pooling.hpp"
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

  // Element i of a float32 or float64 host tensor.
  static double at(const Tensor& host, std::int64_t i) {
    return host.dtype() == DType::f64 ? host.data<double>()[i] : host.data<float>()[i];
  }

  // max |gpu - cpu| / max(1, |cpu|) over the elements; infinite where either side is not finite (a NaN
  // must not compare as no difference).
  static double difference(const Tensor& from_gpu, const Tensor& cpu) {
    const Tensor host = from_gpu.to(Device::cpu);
    double worst = 0;
    for (std::int64_t i = 0; i < cpu.numel(); ++i) {
      const double expected = at(cpu, i), actual = at(host, i);
      if (!std::isfinite(expected) || !std::isfinite(actual)) return std::numeric_limits<double>::infinity();
      worst = std::max(worst, std::abs(actual - expected) / std::max(1.0, std::abs(expected)));
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

// A model gone bad must look the same on both devices: relu and the batch statistics keep a NaN, so the
// non-finite-loss check fires on the GPU where it fires on the CPU.
TEST_F(CudaKernels, ReluAndBatchStatisticsKeepNanAsTheCpuDoes) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector({1, 4}, {nan, -1.0f, 2.0f, -nan});
  Tensor y = Tensor::zeros(x.shape()), y_gpu = gpu_like(x);
  activation_forward(Activation::relu, x, y);
  activation_forward(Activation::relu, gpu(x), y_gpu);
  const Tensor from_gpu = y_gpu.to(Device::cpu);
  for (std::int64_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(std::isnan(y.data<float>()[i]), std::isnan(from_gpu.data<float>()[i]));
    if (!std::isnan(y.data<float>()[i])) {
      EXPECT_EQ(y.data<float>()[i], from_gpu.data<float>()[i]);
    }
  }
  EXPECT_TRUE(std::isnan(from_gpu.data<float>()[0]));

  Tensor sum = Tensor::zeros({2}, DType::f64), sum_sq = Tensor::zeros({2}, DType::f64);
  sum.data<double>()[0] = sum_sq.data<double>()[0] = nan;
  sum.data<double>()[1] = 2.0;
  sum_sq.data<double>()[1] = 5.0;
  auto variance_on = [&](Device device) {
    Tensor mean = Tensor::zeros({2}, DType::f32, device), variance = Tensor::zeros({2}, DType::f32, device),
           inv_std = Tensor::zeros({2}, DType::f32, device);
    batchnorm_statistics(sum.to(device), sum_sq.to(device), 2.0, 1e-3f, mean, variance, inv_std);
    return variance.to(Device::cpu);
  };
  const Tensor cpu_variance = variance_on(Device::cpu), gpu_variance = variance_on(Device::cuda);
  EXPECT_TRUE(std::isnan(cpu_variance.data<float>()[0]));
  EXPECT_TRUE(std::isnan(gpu_variance.data<float>()[0]));
  EXPECT_EQ(gpu_variance.data<float>()[1], cpu_variance.data<float>()[1]);
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

TEST_F(CudaKernels, DropoutReadsItsStepFromTheGpuWhenGiven) {
  const Tensor x = random({32, 50}, 20);
  const DropoutKey key{42, 7, 1234, 640};
  Tensor expected = gpu_like(x), from_device = gpu_like(x);
  dropout_forward(gpu(x), 0.3f, key, expected);
  Tensor step = Tensor::empty({8}, DType::u8);
  const std::uint64_t value = 1234;
  std::copy_n(reinterpret_cast<const std::uint8_t*>(&value), 8, step.data<std::uint8_t>());
  const Tensor step_on_gpu = gpu(step);
  DropoutKey device_key = key;
  device_key.step = 99;  // ignored: the GPU's value wins
  device_key.step_on_device = reinterpret_cast<const std::uint64_t*>(step_on_gpu.data<std::uint8_t>());
  dropout_forward(gpu(x), 0.3f, device_key, from_device);
  EXPECT_EQ(from_device.to_vector(), expected.to_vector());
}

TEST_F(CudaKernels, SoftmaxCrossEntropyAccumulatesOnTheGpu) {
  const Tensor logits = random({300, 10}, 21, 3.0f);
  Tensor labels = Tensor::empty({300}, DType::i32);
  for (std::int32_t r = 0; r < 300; ++r)
    labels.data<std::int32_t>()[r] = (r * 7) % 10;
  Tensor no_gradient;
  const LossSums cpu = softmax_cross_entropy(logits, labels, 1.0f, no_gradient);
  Tensor totals = Tensor::zeros({3}, DType::f64, Device::cuda);
  accumulate_softmax_cross_entropy(gpu(logits), gpu(labels), 1.0f, no_gradient, totals);
  accumulate_softmax_cross_entropy(gpu(logits), gpu(labels), 1.0f, no_gradient, totals);
  Tensor host = totals.to(Device::cpu);
  EXPECT_NEAR(host.data<double>()[0], 2 * cpu.loss_sum, 1e-9 * cpu.loss_sum);
  EXPECT_EQ(host.data<double>()[1], 2.0 * static_cast<double>(cpu.correct));
  EXPECT_EQ(host.data<double>()[2], 0.0);
  labels.data<std::int32_t>()[3] = -1;
  labels.data<std::int32_t>()[299] = 10;
  accumulate_softmax_cross_entropy(gpu(logits), gpu(labels), 1.0f, no_gradient, totals);
  host = totals.to(Device::cpu);
  EXPECT_EQ(host.data<double>()[2], 2.0);  // the bad labels are counted, not summed
}

TEST_F(CudaKernels, UpdatesReadTheirRateFromTheGpuWhenGiven) {
  const std::int64_t count = 1000;
  const Tensor grads = random({count}, 22), start = random({count}, 23);
  const Tensor rate_on_gpu = gpu(Tensor::from_vector({1}, {0.004f}));
  Tensor expected = gpu(start), from_device = gpu(start), no_velocity;
  sgd_update(expected, gpu(grads), no_velocity, 0.004f, 0.0f);
  sgd_update(from_device, gpu(grads), no_velocity, 123.0f, 0.0f, rate_on_gpu.data<float>());
  EXPECT_EQ(from_device.to_vector(), expected.to_vector());
  Tensor m1 = gpu_like(start), v1 = gpu_like(start), m2 = gpu_like(start), v2 = gpu_like(start);
  adam_update_at_rate(expected, gpu(grads), m1, v1, 0.004f, nullptr, 0.9f, 0.999f, 1e-7f);
  adam_update_at_rate(from_device, gpu(grads), m2, v2, 123.0f, rate_on_gpu.data<float>(), 0.9f, 0.999f,
                      1e-7f);
  EXPECT_EQ(from_device.to_vector(), expected.to_vector());
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

TEST_F(CudaKernels, BatchNormMatchesTheCpu) {
  const Tensor x = random({6, 7, 7, 5}, 10, 2.0f), dy = random({6, 7, 7, 5}, 11);
  const Tensor gamma = random({5}, 12), beta = random({5}, 13);
  const double rows = 6 * 7 * 7;
  struct Outputs {
    Tensor sum, sum_sq, mean, variance, inv_std, moving_mean, moving_variance, y, sum_dy, sum_dy_xhat, dx;
  };
  auto run = [&](Device device) {
    auto on = [&](const Tensor& t) { return device == Device::cpu ? t : t.to(device); };
    auto zeros = [&](const Shape& shape) { return Tensor::zeros(shape, DType::f32, device); };
    auto sums = [&] { return Tensor::zeros({5}, DType::f64, device); };
    Outputs o{sums(),
              sums(),
              zeros({5}),
              zeros({5}),
              zeros({5}),
              on(random({5}, 14)),
              on(random({5}, 15)),
              zeros(x.shape()),
              zeros({5}),
              zeros({5}),
              zeros(x.shape())};
    const Tensor xd = on(x), dyd = on(dy), g = on(gamma), b = on(beta);
    batchnorm_sums(xd, o.sum, o.sum_sq);
    batchnorm_statistics(o.sum, o.sum_sq, rows, 1e-3f, o.mean, o.variance, o.inv_std);
    batchnorm_update_moving(o.moving_mean, o.moving_variance, o.mean, o.variance, 0.99f);
    batchnorm_normalize(xd, o.mean, o.inv_std, g, b, o.y);
    batchnorm_backward_sums(xd, dyd, o.mean, o.inv_std, o.sum_dy, o.sum_dy_xhat);
    batchnorm_backward_data(xd, dyd, o.mean, o.inv_std, g, o.sum_dy, o.sum_dy_xhat, rows, o.dx);
    return o;
  };
  const Outputs cpu = run(Device::cpu), on_gpu = run(Device::cuda);
  EXPECT_LE(difference(on_gpu.sum, cpu.sum), 1e-6);
  EXPECT_LE(difference(on_gpu.sum_sq, cpu.sum_sq), 1e-6);
  EXPECT_LE(difference(on_gpu.inv_std, cpu.inv_std), 1e-6);
  EXPECT_LE(difference(on_gpu.moving_variance, cpu.moving_variance), 1e-6);
  EXPECT_LE(difference(on_gpu.y, cpu.y), 1e-5);
  EXPECT_LE(difference(on_gpu.sum_dy_xhat, cpu.sum_dy_xhat), 1e-5);
  EXPECT_LE(difference(on_gpu.dx, cpu.dx), 1e-5);
  // Inference: the moving statistics' inverse deviation.
  Tensor inv_cpu = Tensor::zeros({5}), inv_gpu = gpu_like(inv_cpu);
  batchnorm_inverse_std(cpu.moving_variance, 1e-3f, inv_cpu);
  batchnorm_inverse_std(gpu(cpu.moving_variance), 1e-3f, inv_gpu);
  EXPECT_LE(difference(inv_gpu, inv_cpu), 1e-6);
}

TEST_F(CudaKernels, BatchNormSumsOverManyRowsAndWideRowsMatchTheCpuAndRepeat) {
  // Many chunks of rows, and rows wider than a block (257 = a full tile and one more channel; 1000).
  for (const std::int64_t channels : {std::int64_t{3}, std::int64_t{257}, std::int64_t{1000}}) {
    SCOPED_TRACE(std::to_string(channels) + " channels");
    const std::int64_t rows = 5003;
    const Tensor x = random({rows, channels}, 30, 2.0f), dy = random({rows, channels}, 31);
    Tensor sum = Tensor::zeros({channels}, DType::f64), sum_sq = Tensor::zeros({channels}, DType::f64);
    Tensor mean = Tensor::zeros({channels}), variance = Tensor::zeros({channels});
    Tensor inv_std = Tensor::zeros({channels}), sum_dy = Tensor::zeros({channels});
    Tensor sum_dy_xhat = Tensor::zeros({channels});
    batchnorm_sums(x, sum, sum_sq);
    batchnorm_statistics(sum, sum_sq, static_cast<double>(rows), 1e-3f, mean, variance, inv_std);
    batchnorm_backward_sums(x, dy, mean, inv_std, sum_dy, sum_dy_xhat);
    std::vector<std::vector<float>> runs;
    for (int run = 0; run < 2; ++run) {
      Tensor sum_gpu = gpu_like(sum), sum_sq_gpu = gpu_like(sum_sq), sum_dy_gpu = gpu_like(sum_dy);
      Tensor sum_dy_xhat_gpu = gpu_like(sum_dy_xhat);
      batchnorm_sums(gpu(x), sum_gpu, sum_sq_gpu);
      batchnorm_backward_sums(gpu(x), gpu(dy), gpu(mean), gpu(inv_std), sum_dy_gpu, sum_dy_xhat_gpu);
      EXPECT_LE(difference(sum_gpu, sum), 1e-11);  // float64 sums of float32 values, in another order
      EXPECT_LE(difference(sum_sq_gpu, sum_sq), 1e-11);
      EXPECT_LE(difference(sum_dy_gpu, sum_dy), 1e-6);  // rounded to float32
      EXPECT_LE(difference(sum_dy_xhat_gpu, sum_dy_xhat), 1e-6);
      runs.push_back(sum_dy_xhat_gpu.to(Device::cpu).to_vector());
    }
    EXPECT_EQ(runs[0], runs[1]) << "the same sums twice";
  }
}

TEST_F(CudaKernels, PoolingMatchesTheCpu) {
  const Conv2DGeometry geometry =
      conv2d_geometry(3, 9, 8, 4, 4, 3, 3, 2, 2, Padding::same);  // overlapping windows
  const Tensor x = random({3, 9, 8, 4}, 16);
  const Tensor dy = random({3, geometry.out_h, geometry.out_w, 4}, 17);
  Tensor y = Tensor::zeros(dy.shape()), argmax = Tensor::zeros(dy.shape(), DType::i32),
         dx = Tensor::zeros(x.shape());
  maxpool2d_forward(geometry, x, y, argmax);
  maxpool2d_backward(geometry, dy, argmax, dx);
  Tensor y_gpu = gpu_like(y), argmax_gpu = gpu_like(argmax), dx_gpu = gpu_like(dx);
  maxpool2d_forward(geometry, gpu(x), y_gpu, argmax_gpu);
  maxpool2d_backward(geometry, gpu(dy), argmax_gpu, dx_gpu);
  EXPECT_EQ(difference(y_gpu, y), 0.0);
  EXPECT_EQ(difference(dx_gpu, dx), 0.0);  // overlapping windows: added in the CPU's order
  const Tensor argmax_back = argmax_gpu.to(Device::cpu);
  EXPECT_TRUE(std::equal(argmax.data<std::int32_t>(), argmax.data<std::int32_t>() + argmax.numel(),
                         argmax_back.data<std::int32_t>()));

  Tensor average = Tensor::zeros({3, 4}), average_gpu = gpu_like(average);
  global_average_pool_forward(x, average);
  global_average_pool_forward(gpu(x), average_gpu);
  EXPECT_LE(difference(average_gpu, average), 1e-6);
  const Tensor dy_average = random({3, 4}, 18);
  Tensor dx_average = Tensor::zeros(x.shape()), dx_average_gpu = gpu_like(dx_average);
  global_average_pool_backward(dy_average, dx_average);
  global_average_pool_backward(gpu(dy_average), dx_average_gpu);
  EXPECT_LE(difference(dx_average_gpu, dx_average), 1e-7);
}

TEST_F(CudaKernels, DenseWithCublasMatchesTheCpu) {
  const Tensor x = random({37, 50}, 20), w = random({50, 13}, 21, 0.2f), bias = random({13}, 22);
  const Tensor dy = random({37, 13}, 23);
  Tensor y = Tensor::zeros({37, 13}), dx = Tensor::zeros(x.shape()), dw = Tensor::zeros(w.shape());
  Tensor dbias = Tensor::zeros({13});
  dense_forward(x, w, bias, y);
  dense_backward(x, w, dy, dx, dw, dbias);
  Tensor y_gpu = gpu_like(y), dx_gpu = gpu_like(dx), dw_gpu = gpu_like(dw), dbias_gpu = gpu_like(dbias);
  dense_forward(gpu(x), gpu(w), gpu(bias), y_gpu);
  dense_backward(gpu(x), gpu(w), gpu(dy), dx_gpu, dw_gpu, dbias_gpu);
  EXPECT_LE(difference(y_gpu, y), 1e-5);  // sums of 50 products in another order
  EXPECT_LE(difference(dx_gpu, dx), 1e-5);
  EXPECT_LE(difference(dw_gpu, dw), 1e-5);
  EXPECT_LE(difference(dbias_gpu, dbias), 1e-6);
  Tensor no_dx, no_dbias;
  dense_backward(gpu(x), gpu(w), gpu(dy), no_dx, dw_gpu, no_dbias);
  EXPECT_LE(difference(dw_gpu, dw), 1e-5);
}

TEST_F(CudaKernels, ConvolutionWithCudnnMatchesTheCpu) {
  struct Case {
    const char* name;
    std::int64_t height, width, kernel, stride;
    Padding padding;
    bool bias;
  };
  // 'same' with kernel 6 at stride 1, or kernel 4 at stride 2 on 9 columns, pads one more after (a padded
  // copy of the input); kernel 3 pads symmetrically (cuDNN's own padding).
  for (const Case& c : {Case{"same 3x3", 9, 8, 3, 1, Padding::same, true},
                        Case{"same 6x6 (asymmetric)", 9, 8, 6, 1, Padding::same, true},
                        Case{"same 4x4 stride 2 (asymmetric)", 9, 9, 4, 2, Padding::same, false},
                        Case{"valid 5x5 stride 2", 11, 9, 5, 2, Padding::valid, true}}) {
    SCOPED_TRACE(c.name);
    const Conv2DGeometry g =
        conv2d_geometry(3, c.height, c.width, 4, 5, c.kernel, c.kernel, c.stride, c.stride, c.padding);
    const Tensor x = random({3, c.height, c.width, 4}, 30), w = random({c.kernel, c.kernel, 4, 5}, 31, 0.3f);
    const Tensor bias = c.bias ? random({5}, 32) : Tensor();
    const Tensor dy = random({3, g.out_h, g.out_w, 5}, 33);
    Tensor y = Tensor::zeros(dy.shape()), dx = Tensor::zeros(x.shape()), dw = Tensor::zeros(w.shape());
    Tensor dbias = c.bias ? Tensor::zeros({5}) : Tensor();
    conv2d_forward(g, x, w, bias, y);
    conv2d_backward_data(g, dy, w, dx);
    conv2d_backward_filter(g, x, dy, dw, dbias);
    Tensor y_gpu = gpu_like(y), dx_gpu = gpu_like(dx), dw_gpu = gpu_like(dw);
    Tensor dbias_gpu = c.bias ? gpu_like(dbias) : Tensor();
    conv2d_forward(g, gpu(x), gpu(w), c.bias ? gpu(bias) : Tensor(), y_gpu);
    conv2d_backward_data(g, gpu(dy), gpu(w), dx_gpu);
    conv2d_backward_filter(g, gpu(x), gpu(dy), dw_gpu, dbias_gpu);
    // FP32 sums of up to 3 * 9 * 9 products in cuDNN's order, not oneDNN's.
    EXPECT_LE(difference(y_gpu, y), 1e-4);
    EXPECT_LE(difference(dx_gpu, dx), 1e-4);
    EXPECT_LE(difference(dw_gpu, dw), 1e-4);
    if (c.bias) {
      EXPECT_LE(difference(dbias_gpu, dbias), 1e-4);
    }
  }
}

// Twice on this thread (one plan), then on a new thread, whose plan chooses its algorithms afresh as another
// process or a resumed run would: deterministic mode must choose the same ones and give the same bits.
TEST_F(CudaKernels, DeterministicConvolutionsGiveTheSameBitsInEveryPlan) {
  cuda::set_deterministic_convolutions(true);
  const Conv2DGeometry g = conv2d_geometry(16, 14, 14, 8, 16, 4, 4, 2, 2, Padding::same);
  const Tensor x = random({16, 14, 14, 8}, 40), w = random({4, 4, 8, 16}, 41, 0.3f);
  const Tensor dy = random({16, g.out_h, g.out_w, 16}, 42);
  auto run = [&] {
    Tensor y = gpu_like(dy), dx = gpu_like(x), dw = gpu_like(w), no_bias;
    conv2d_forward(g, gpu(x), gpu(w), no_bias, y);
    conv2d_backward_data(g, gpu(dy), gpu(w), dx);
    conv2d_backward_filter(g, gpu(x), gpu(dy), dw, no_bias);
    return std::vector<Tensor>{y.to(Device::cpu), dx.to(Device::cpu), dw.to(Device::cpu)};
  };
  std::vector<std::vector<Tensor>> results{run(), run()};
  std::thread another_plan([&] { results.push_back(run()); });
  another_plan.join();
  cuda::set_deterministic_convolutions(false);
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t r = 1; r < results.size(); ++r) {
    for (std::size_t t = 0; t < 3; ++t) {
      SCOPED_TRACE("run " + std::to_string(r) + ", output " + std::to_string(t) + " (y, dx, dw)");
      const Tensor &first = results[0][t], &again = results[r][t];
      EXPECT_TRUE(std::equal(first.data<float>(), first.data<float>() + first.numel(), again.data<float>()));
    }
  }
}

// Choosing a plan's algorithms allocates and waits for the GPU, which a recording forbids: a geometry first
// seen inside a recording is a clear error, and the stream works afterwards.
TEST_F(CudaKernels, ANewConvolutionPlanDuringARecordingIsAClearError) {
  const Conv2DGeometry g = conv2d_geometry(3, 9, 11, 5, 7, 3, 3, 1, 1, Padding::valid);
  const Tensor x = gpu(random({3, 9, 11, 5}, 50)), w = gpu(random({3, 3, 5, 7}, 51));
  Tensor y = Tensor::zeros({3, g.out_h, g.out_w, 7}, DType::f32, Device::cuda), no_bias;
  cuda::CapturedWork recording;
  try {
    recording.capture([&] { conv2d_forward(g, x, w, no_bias, y); });
    FAIL() << "a plan was made inside a recording";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("while a step was being recorded"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(recording.captured());
  conv2d_forward(g, x, w, no_bias, y);  // eagerly: makes the plan
  recording.capture([&] { conv2d_forward(g, x, w, no_bias, y); });
  EXPECT_TRUE(recording.captured());
  EXPECT_GT(recording.node_count(), 0u);
}

TEST(CudaKernelsDevices, MixedDevicesAreAClearError) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no usable GPU";
  const Tensor x = Tensor::zeros({4, 3});
  Tensor y = Tensor::zeros({4, 3}, DType::f32, Device::cuda);
  EXPECT_THROW(activation_forward(Activation::relu, x, y), Error);
}

}  // namespace
}  // namespace ringtrain::ops
