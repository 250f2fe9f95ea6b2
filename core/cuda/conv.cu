// 2-D convolution on the GPU with cuDNN: forward, backward data and backward filter on NHWC activations.
// Our kernels are HWIO; cuDNN's NHWC filters are OHWI, so a small kernel transposes the weights in and the
// weight gradient out. cuDNN pads symmetrically: TensorFlow's 'same' with an odd total (one more row or
// column after) convolves a zero-padded copy of the input instead. Each geometry has a plan (descriptors,
// algorithms, buffers) made once per thread and device: the fastest algorithms cudnnFind measures, or in
// deterministic mode the best deterministic ones by cuDNN's heuristics (the same choice in every process).
// FP32 arithmetic (CUDNN_FMA_MATH, no TF32), as on the CPU.
#include <cudnn.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/kernels.hpp"
#include "core/cuda/launch.cuh"
#include "core/cuda/stream.hpp"
#include "core/cuda/thread_handle.cuh"

namespace ringtrain::cuda {

namespace {

std::atomic<bool> deterministic_mode = false;

// Algorithms that need more scratch memory than this are passed over.
constexpr std::size_t kWorkspaceLimitBytes = std::size_t{512} << 20;

void check_cudnn(cudnnStatus_t status, const char* call) {
  RT_CHECK(status == CUDNN_STATUS_SUCCESS, "cuDNN error " << cudnnGetErrorString(status) << " in " << call);
}

int checked_int(std::int64_t value, const char* what) {
  RT_CHECK(value >= 0 && value <= 0x7fffffff,
           "conv2d: " << what << " = " << value << " is too large for cuDNN");
  return static_cast<int>(value);
}

// This thread's handle for the current device, on stream().
cudnnHandle_t handle() {
  return thread_handle<cudnnHandle_t>(
      "a cuDNN handle",
      [] {
        cudnnHandle_t made = nullptr;
        check_cudnn(cudnnCreate(&made), "cudnnCreate");
        check_cudnn(cudnnSetStream(made, stream()), "cudnnSetStream");
        return made;
      },
      [](cudnnHandle_t handle) { cudnnDestroy(handle); });
}

// Device memory owned by one plan. Plans live as long as their thread, so a recorded step that uses one never
// sees its memory move, and a plan made later (evaluation's last, smaller batch) leaves the recording valid:
// not counted among the tensor allocations that tell the trainer to record again.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes > 0) pointer_ = allocate(bytes);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (pointer_ != nullptr) release(pointer_);
  }
  float* floats() const { return static_cast<float*>(pointer_); }
  void* get() const { return pointer_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* pointer_ = nullptr;
  std::size_t bytes_ = 0;
};

__global__ void hwio_to_ohwi_kernel(const float* hwio, float* ohwi, std::int64_t window, std::int64_t out_c) {
  RT_GRID_STRIDE(i, window * out_c) {
    ohwi[(i % out_c) * window + i / out_c] = hwio[i];
  }
}

__global__ void ohwi_to_hwio_kernel(const float* ohwi, float* hwio, std::int64_t window, std::int64_t out_c) {
  RT_GRID_STRIDE(i, window * out_c) {
    hwio[i] = ohwi[(i % out_c) * window + i / out_c];
  }
}

// The sizes of an NHWC image and of its zero-padded copy.
struct PaddedImage {
  std::int64_t batch, height, width, channels, top, left, padded_height, padded_width;
};

__global__ void pad_kernel(const float* image, float* padded, PaddedImage p) {
  RT_GRID_STRIDE(i, p.batch * p.padded_height * p.padded_width * p.channels) {
    const std::int64_t channel = i % p.channels;
    const std::int64_t column = (i / p.channels) % p.padded_width - p.left;
    const std::int64_t row = (i / (p.channels * p.padded_width)) % p.padded_height - p.top;
    const std::int64_t n = i / (p.channels * p.padded_width * p.padded_height);
    const bool inside = row >= 0 && row < p.height && column >= 0 && column < p.width;
    padded[i] = inside ? image[((n * p.height + row) * p.width + column) * p.channels + channel] : 0.0f;
  }
}

__global__ void crop_kernel(const float* padded, float* image, PaddedImage p) {
  RT_GRID_STRIDE(i, p.batch * p.height * p.width * p.channels) {
    const std::int64_t channel = i % p.channels;
    const std::int64_t column = (i / p.channels) % p.width;
    const std::int64_t row = (i / (p.channels * p.width)) % p.height;
    const std::int64_t n = i / (p.channels * p.width * p.height);
    image[i] = padded[((n * p.padded_height + row + p.top) * p.padded_width + column + p.left) * p.channels +
                      channel];
  }
}

// An algorithm and the scratch memory it needs.
template <typename Algorithm>
struct Choice {
  Algorithm algorithm;
  std::size_t workspace_bytes;
};

// The first usable candidate (candidates come best first): it runs here, is deterministic when asked, and
// needs at most kWorkspaceLimitBytes, both by the candidate's own figure and by what cuDNN says it needs
// under the descriptor's FMA math (`bytes_needed`), which may differ from the math a measurement ran under.
template <typename Perf, typename BytesNeeded>
auto pick(const Perf* candidates, int count, bool deterministic, const char* direction,
          BytesNeeded bytes_needed) -> Choice<decltype(candidates->algo)> {
  for (int i = 0; i < count; ++i) {
    const Perf& perf = candidates[i];
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    if (deterministic && perf.determinism != CUDNN_DETERMINISTIC) continue;
    std::size_t bytes = 0;
    if (bytes_needed(perf.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
    bytes = std::max(bytes, perf.memory);
    if (bytes > kWorkspaceLimitBytes) continue;
    return {perf.algo, bytes};
  }
  RT_FAIL("cuDNN has no " << (deterministic ? "deterministic " : "") << direction
                          << " convolution algorithm for this geometry within "
                          << (kWorkspaceLimitBytes >> 20) << " MiB of scratch memory");
}

// Everything one geometry needs on one device.
class ConvPlan {
 public:
  ConvPlan(const ops::Conv2DGeometry& g, bool deterministic) : g_(g) {
    padded_ = g.pad_top != g.pad_bottom || g.pad_left != g.pad_right;
    image_ = {g.batch,
              g.in_h,
              g.in_w,
              g.in_c,
              g.pad_top,
              g.pad_left,
              g.in_h + g.pad_top + g.pad_bottom,
              g.in_w + g.pad_left + g.pad_right};
    check_cudnn(cudnnCreateTensorDescriptor(&x_), "cudnnCreateTensorDescriptor");
    check_cudnn(cudnnCreateTensorDescriptor(&y_), "cudnnCreateTensorDescriptor");
    check_cudnn(cudnnCreateTensorDescriptor(&bias_), "cudnnCreateTensorDescriptor");
    check_cudnn(cudnnCreateFilterDescriptor(&w_), "cudnnCreateFilterDescriptor");
    check_cudnn(cudnnCreateConvolutionDescriptor(&conv_), "cudnnCreateConvolutionDescriptor");
    const int n = checked_int(g.batch, "batch"), c = checked_int(g.in_c, "input channels"),
              k = checked_int(g.out_c, "filters");
    const int h = checked_int(padded_ ? image_.padded_height : g.in_h, "input height");
    const int w = checked_int(padded_ ? image_.padded_width : g.in_w, "input width");
    check_cudnn(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, n, c, h, w), "input");
    check_cudnn(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, n, k,
                                           checked_int(g.out_h, "output height"),
                                           checked_int(g.out_w, "output width")),
                "output");
    check_cudnn(cudnnSetTensor4dDescriptor(bias_, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, k, 1, 1), "bias");
    check_cudnn(cudnnSetFilter4dDescriptor(w_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, k, c,
                                           checked_int(g.kernel_h, "kernel height"),
                                           checked_int(g.kernel_w, "kernel width")),
                "filter");
    check_cudnn(cudnnSetConvolution2dDescriptor(
                    conv_, padded_ ? 0 : checked_int(g.pad_top, "padding"),
                    padded_ ? 0 : checked_int(g.pad_left, "padding"), checked_int(g.stride_h, "stride"),
                    checked_int(g.stride_w, "stride"), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                "cudnnSetConvolution2dDescriptor");
    check_cudnn(cudnnSetConvolutionMathType(conv_, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
    int out_n = 0, out_c = 0, out_h = 0, out_w = 0;
    check_cudnn(cudnnGetConvolution2dForwardOutputDim(conv_, x_, w_, &out_n, &out_c, &out_h, &out_w),
                "cudnnGetConvolution2dForwardOutputDim");
    RT_CHECK(out_h == g.out_h && out_w == g.out_w, "conv2d: cuDNN computes a "
                                                       << out_h << "x" << out_w << " output where " << g.out_h
                                                       << "x" << g.out_w << " is expected");

    const std::size_t kernel_bytes = static_cast<std::size_t>(g.kernel_h * g.kernel_w * g.in_c * g.out_c) * 4;
    kernel_ = std::make_unique<DeviceBuffer>(kernel_bytes);
    kernel_gradient_ = std::make_unique<DeviceBuffer>(kernel_bytes);
    if (padded_) {
      image_buffer_ = std::make_unique<DeviceBuffer>(
          static_cast<std::size_t>(g.batch * image_.padded_height * image_.padded_width * g.in_c) * 4);
    }
    find_algorithms(deterministic);
  }

  ConvPlan(const ConvPlan&) = delete;
  ConvPlan& operator=(const ConvPlan&) = delete;
  ~ConvPlan() {
    cudnnDestroyConvolutionDescriptor(conv_);
    cudnnDestroyFilterDescriptor(w_);
    cudnnDestroyTensorDescriptor(bias_);
    cudnnDestroyTensorDescriptor(y_);
    cudnnDestroyTensorDescriptor(x_);
  }

  void forward(const float* x, const float* w, const float* bias, float* y) {
    const float one = 1.0f, zero = 0.0f;
    check_cudnn(
        cudnnConvolutionForward(handle(), &one, x_, input(x), w_, transposed_kernel(w), conv_,
                                forward_algorithm_, workspace_->get(), workspace_->bytes(), &zero, y_, y),
        "cudnnConvolutionForward");
    if (bias != nullptr)
      check_cudnn(cudnnAddTensor(handle(), &one, bias_, bias, &one, y_, y), "cudnnAddTensor");
  }

  void backward_data(const float* dy, const float* w, float* dx) {
    const float one = 1.0f, zero = 0.0f;
    float* gradient = padded_ ? image_buffer_->floats() : dx;
    check_cudnn(
        cudnnConvolutionBackwardData(handle(), &one, w_, transposed_kernel(w), y_, dy, conv_, data_algorithm_,
                                     workspace_->get(), workspace_->bytes(), &zero, x_, gradient),
        "cudnnConvolutionBackwardData");
    if (!padded_) return;
    crop_kernel<<<blocks_for(g_.batch * g_.in_h * g_.in_w * g_.in_c), kThreads, 0, stream()>>>(gradient, dx,
                                                                                               image_);
    check_launch("conv2d crop");
  }

  void backward_filter(const float* x, const float* dy, float* dw, float* dbias) {
    const float one = 1.0f, zero = 0.0f;
    check_cudnn(cudnnConvolutionBackwardFilter(handle(), &one, x_, input(x), y_, dy, conv_, filter_algorithm_,
                                               workspace_->get(), workspace_->bytes(), &zero, w_,
                                               kernel_gradient_->floats()),
                "cudnnConvolutionBackwardFilter");
    const std::int64_t window = g_.kernel_h * g_.kernel_w * g_.in_c;
    ohwi_to_hwio_kernel<<<blocks_for(window * g_.out_c), kThreads, 0, stream()>>>(kernel_gradient_->floats(),
                                                                                  dw, window, g_.out_c);
    check_launch("conv2d kernel gradient transpose");
    if (dbias != nullptr)
      check_cudnn(cudnnConvolutionBackwardBias(handle(), &one, y_, dy, &zero, bias_, dbias),
                  "cudnnConvolutionBackwardBias");
  }

 private:
  // x itself, or its zero-padded copy.
  const float* input(const float* x) {
    if (!padded_) return x;
    pad_kernel<<<blocks_for(g_.batch * image_.padded_height * image_.padded_width * g_.in_c), kThreads, 0,
                 stream()>>>(x, image_buffer_->floats(), image_);
    check_launch("conv2d pad");
    return image_buffer_->floats();
  }

  const float* transposed_kernel(const float* hwio) {
    const std::int64_t window = g_.kernel_h * g_.kernel_w * g_.in_c;
    hwio_to_ohwi_kernel<<<blocks_for(window * g_.out_c), kThreads, 0, stream()>>>(hwio, kernel_->floats(),
                                                                                  window, g_.out_c);
    check_launch("conv2d kernel transpose");
    return kernel_->floats();
  }

  // Deterministic mode takes cuDNN's heuristic ranking, which depends only on the card, cuDNN and the
  // geometry: every process and rank, and a resumed run, chooses the same algorithms and so gets the same
  // bits. Otherwise cudnnFind times the algorithms and the fastest is taken (its choice may vary by run).
  void find_algorithms(bool deterministic) {
    constexpr int kCandidates = 16;
    int found = 0;
    cudnnConvolutionFwdAlgoPerf_t forward[kCandidates];
    check_cudnn(deterministic ? cudnnGetConvolutionForwardAlgorithm_v7(handle(), x_, w_, conv_, y_,
                                                                       kCandidates, &found, forward)
                              : cudnnFindConvolutionForwardAlgorithm(handle(), x_, w_, conv_, y_, kCandidates,
                                                                     &found, forward),
                "choosing the forward convolution algorithm");
    const auto forward_choice =
        pick(forward, found, deterministic, "forward",
             [&](cudnnConvolutionFwdAlgo_t algorithm, std::size_t* bytes) {
               return cudnnGetConvolutionForwardWorkspaceSize(handle(), x_, w_, conv_, y_, algorithm, bytes);
             });
    cudnnConvolutionBwdDataAlgoPerf_t data[kCandidates];
    check_cudnn(deterministic ? cudnnGetConvolutionBackwardDataAlgorithm_v7(handle(), w_, y_, conv_, x_,
                                                                            kCandidates, &found, data)
                              : cudnnFindConvolutionBackwardDataAlgorithm(handle(), w_, y_, conv_, x_,
                                                                          kCandidates, &found, data),
                "choosing the backward data convolution algorithm");
    const auto data_choice = pick(data, found, deterministic, "backward data",
                                  [&](cudnnConvolutionBwdDataAlgo_t algorithm, std::size_t* bytes) {
                                    return cudnnGetConvolutionBackwardDataWorkspaceSize(
                                        handle(), w_, y_, conv_, x_, algorithm, bytes);
                                  });
    cudnnConvolutionBwdFilterAlgoPerf_t filter[kCandidates];
    check_cudnn(deterministic ? cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle(), x_, y_, conv_, w_,
                                                                              kCandidates, &found, filter)
                              : cudnnFindConvolutionBackwardFilterAlgorithm(handle(), x_, y_, conv_, w_,
                                                                            kCandidates, &found, filter),
                "choosing the backward filter convolution algorithm");
    const auto filter_choice = pick(filter, found, deterministic, "backward filter",
                                    [&](cudnnConvolutionBwdFilterAlgo_t algorithm, std::size_t* bytes) {
                                      return cudnnGetConvolutionBackwardFilterWorkspaceSize(
                                          handle(), x_, y_, conv_, w_, algorithm, bytes);
                                    });
    forward_algorithm_ = forward_choice.algorithm;
    data_algorithm_ = data_choice.algorithm;
    filter_algorithm_ = filter_choice.algorithm;
    workspace_ = std::make_unique<DeviceBuffer>(std::max(
        {forward_choice.workspace_bytes, data_choice.workspace_bytes, filter_choice.workspace_bytes}));
  }

  ops::Conv2DGeometry g_;
  bool padded_ = false;
  PaddedImage image_{};
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr, bias_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnConvolutionFwdAlgo_t forward_algorithm_{};
  cudnnConvolutionBwdDataAlgo_t data_algorithm_{};
  cudnnConvolutionBwdFilterAlgo_t filter_algorithm_{};
  std::unique_ptr<DeviceBuffer> kernel_, kernel_gradient_, image_buffer_, workspace_;
};

// This thread's plan for a geometry on the current device, made on first use.
ConvPlan& plan_for(const ops::Conv2DGeometry& g) {
  using Key = std::tuple<int, bool, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t>;
  thread_local std::map<Key, std::unique_ptr<ConvPlan>> plans;
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  const bool deterministic = deterministic_mode.load();
  const Key key{device,     deterministic, g.batch,    g.in_h,       g.in_w,
                g.in_c,     g.out_c,       g.kernel_h, g.kernel_w,   g.stride_h,
                g.stride_w, g.pad_top,     g.pad_left, g.pad_bottom, g.pad_right};
  auto found = plans.find(key);
  if (found == plans.end()) {
    // Choosing algorithms allocates and waits for the GPU.
    require_not_recording("conv2d: a new convolution plan (batch " + std::to_string(g.batch) + ", " +
                          std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" +
                          std::to_string(g.in_c) + " input)");
    found = plans.emplace(key, std::make_unique<ConvPlan>(g, deterministic)).first;
  }
  return *found->second;
}

}  // namespace

void set_deterministic_convolutions(bool deterministic) {
  deterministic_mode.store(deterministic);
}

bool deterministic_convolutions() {
  return deterministic_mode.load();
}

void conv2d_forward(const ops::Conv2DGeometry& geometry, const float* x, const float* w, const float* bias,
                    float* y) {
  if (geometry.batch == 0) return;
  plan_for(geometry).forward(x, w, bias, y);
}

void conv2d_backward_data(const ops::Conv2DGeometry& geometry, const float* dy, const float* w, float* dx) {
  if (geometry.batch == 0) return;
  plan_for(geometry).backward_data(dy, w, dx);
}

void conv2d_backward_filter(const ops::Conv2DGeometry& geometry, const float* x, const float* dy, float* dw,
                            float* dbias) {
  if (geometry.batch == 0) {
    const auto weights = geometry.kernel_h * geometry.kernel_w * geometry.in_c * geometry.out_c;
    CUDA_CHECK(cudaMemsetAsync(dw, 0, static_cast<std::size_t>(weights) * sizeof(float), stream()));
    if (dbias != nullptr)
      CUDA_CHECK(
          cudaMemsetAsync(dbias, 0, static_cast<std::size_t>(geometry.out_c) * sizeof(float), stream()));
    return;
  }
  plan_for(geometry).backward_filter(x, dy, dw, dbias);
}

}  // namespace ringtrain::cuda
