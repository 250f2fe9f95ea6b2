// The CUDA seam: without a usable GPU the runtime reports none and CUDA tensors fail with a clear error;
// with one, tensors round-trip through device memory, the scale kernel matches the host, and recorded work
// (CUDA graphs) runs only when replayed, a failed recording leaving the stream usable.
#include <gtest/gtest.h>

#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/tensor.hpp"

namespace ringtrain {
namespace {

TEST(CudaRuntime, DeviceCountNeverThrows) {
  EXPECT_GE(cuda::device_count(), 0);
}

TEST(CudaRuntime, DescribeNamesTheBuild) {
  const std::string text = cuda::describe();
  if (cuda::built()) {
    EXPECT_NE(text.find("cuDNN"), std::string::npos) << text;
    // cuBLAS, opened on first use rather than linked, loads and reports its version.
    EXPECT_NE(text.find(", cuBLAS "), std::string::npos) << text;
  } else {
    EXPECT_NE(text.find("without CUDA"), std::string::npos) << text;
  }
}

TEST(CudaRuntime, CudaTensorWithoutGpuIsAClearError) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is usable here";
  try {
    Tensor::empty({4}, DType::f32, Device::cuda);
    FAIL() << "allocating a CUDA tensor without a GPU did not throw";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_TRUE(message.find("--device cpu") != std::string::npos ||
                message.find("without CUDA") != std::string::npos)
        << message;
  }
}

TEST(CudaRuntime, TensorRoundTripAndScaleKernel) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  const std::vector<float> values{1.0f, -2.5f, 3.25f, 0.0f, 7.0f};
  const Tensor host = Tensor::from_vector({5}, values);
  const Tensor device = host.to(Device::cuda);
  Tensor scaled = Tensor::empty({5}, DType::f32, Device::cuda);
  cuda::scale(scaled.data<float>(), device.data<float>(), -2.0f, 5);
  const std::vector<float> back = scaled.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(back[i], -2.0f * values[i]) << i;
  EXPECT_EQ(device.to_vector(), values);
}

TEST(CudaRuntime, CapturedWorkRunsOnlyWhenReplayed) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  const std::vector<float> values{1.0f, -2.5f, 3.25f};
  Tensor data = Tensor::from_vector({3}, values, Device::cuda);
  cuda::CapturedWork doubling;
  EXPECT_FALSE(doubling.captured());
  doubling.capture([&] { cuda::scale(data.data<float>(), data.data<float>(), 2.0f, 3); });
  ASSERT_TRUE(doubling.captured());
  EXPECT_EQ(data.to_vector(), values);  // recorded, not run
  doubling.replay();
  doubling.replay();
  const std::vector<float> back = data.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(back[i], 4.0f * values[i]) << i;
}

TEST(CudaRuntime, AFailedCaptureLeavesTheStreamUsable) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  Tensor data = Tensor::from_vector({2}, {1.0f, 2.0f}, Device::cuda);
  cuda::CapturedWork broken;
  EXPECT_THROW(broken.capture([] { RT_FAIL("refused while recording"); }), Error);
  EXPECT_FALSE(broken.captured());
  // A host copy waits on the stream: it would fail were the stream still recording.
  cuda::scale(data.data<float>(), data.data<float>(), 3.0f, 2);
  EXPECT_EQ(data.to_vector(), (std::vector<float>{3.0f, 6.0f}));
}

TEST(CudaRuntime, CapturedWorkWithoutCudaIsAClearError) {
  if (cuda::built()) GTEST_SKIP() << "this build has CUDA";
  cuda::CapturedWork work;
  try {
    work.capture([] {});
    FAIL() << "recording GPU work without CUDA did not throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("without CUDA"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ringtrain
