// The CUDA runtime entry points for builds without the CUDA backend: every use is a clear error.
#include "core/check.hpp"
#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/kernels.hpp"

namespace ringtrain::cuda {

namespace {
[[noreturn]] void built_without_cuda() {
  RT_FAIL("this ringtrain was built without CUDA: rebuild with -DRINGTRAIN_CUDA=ON or use --device cpu");
}
}  // namespace

bool built() {
  return false;
}
int device_count() {
  return 0;
}
void set_device(int) {
  built_without_cuda();
}
std::string describe() {
  return "built without CUDA";
}
std::string cublas_version() {
  return "built without CUDA";
}
std::string current_device_name() {
  built_without_cuda();
}
void synchronize() {}
void* allocate(std::size_t) {
  built_without_cuda();
}
void release(void*) noexcept {}
void copy(void*, const void*, std::size_t, CopyReturns) {
  built_without_cuda();
}
void fill_zero(void*, std::size_t) {
  built_without_cuda();
}
void scale(float*, const float*, float, std::size_t) {
  built_without_cuda();
}

struct CapturedWork::Graph {};
CapturedWork::CapturedWork() = default;
CapturedWork::~CapturedWork() = default;
void CapturedWork::capture(const std::function<void()>&) {
  built_without_cuda();
}
void CapturedWork::replay() {
  built_without_cuda();
}
std::size_t CapturedWork::node_count() const {
  return 0;
}

QueueDepthLimit::QueueDepthLimit(std::size_t) {
  built_without_cuda();
}
QueueDepthLimit::~QueueDepthLimit() = default;
void QueueDepthLimit::mark() {
  built_without_cuda();
}

void activation_forward(int, const float*, float*, std::int64_t, std::int64_t) {
  built_without_cuda();
}
void activation_backward(int, const float*, const float*, float*, std::int64_t, std::int64_t) {
  built_without_cuda();
}
void write_step_scalars(StepScalars*, const StepScalars&) {
  built_without_cuda();
}
void gather_batch(const std::uint8_t*, const std::uint8_t*, std::int64_t, const std::int32_t*, std::int64_t,
                  const std::int64_t*, std::int64_t, float*, std::int32_t*) {
  built_without_cuda();
}
void dropout(const float*, float*, std::int64_t, std::int64_t, float, std::uint32_t, std::uint32_t,
             std::uint64_t, const std::uint64_t*, std::uint64_t) {
  built_without_cuda();
}
void softmax_cross_entropy(const float*, const std::int32_t*, std::int64_t, std::int64_t, float, float*,
                           double*) {
  built_without_cuda();
}
void sgd_update(float*, const float*, float*, std::int64_t, float, const float*, float) {
  built_without_cuda();
}
void adam_update(float*, const float*, float*, float*, std::int64_t, float, const float*, float, float,
                 float) {
  built_without_cuda();
}

void dense_forward(const float*, const float*, const float*, float*, std::int64_t, std::int64_t,
                   std::int64_t) {
  built_without_cuda();
}
void dense_backward(const float*, const float*, const float*, float*, float*, float*, std::int64_t,
                    std::int64_t, std::int64_t) {
  built_without_cuda();
}
void set_deterministic_convolutions(bool) {}
bool deterministic_convolutions() {
  return false;
}
void conv2d_forward(const ops::Conv2DGeometry&, const float*, const float*, const float*, float*) {
  built_without_cuda();
}
void conv2d_backward_data(const ops::Conv2DGeometry&, const float*, const float*, float*) {
  built_without_cuda();
}
void conv2d_backward_filter(const ops::Conv2DGeometry&, const float*, const float*, float*, float*) {
  built_without_cuda();
}
void batchnorm_sums(const float*, std::int64_t, std::int64_t, double*, double*) {
  built_without_cuda();
}
void batchnorm_statistics(const double*, const double*, std::int64_t, double, float, float*, float*, float*) {
  built_without_cuda();
}
void batchnorm_inverse_std(const float*, std::int64_t, float, float*) {
  built_without_cuda();
}
void batchnorm_update_moving(float*, float*, const float*, const float*, std::int64_t, float) {
  built_without_cuda();
}
void batchnorm_normalize(const float*, std::int64_t, std::int64_t, const float*, const float*, const float*,
                         const float*, float*) {
  built_without_cuda();
}
void batchnorm_backward_sums(const float*, const float*, std::int64_t, std::int64_t, const float*,
                             const float*, float*, float*) {
  built_without_cuda();
}
void batchnorm_backward_data(const float*, const float*, std::int64_t, std::int64_t, const float*,
                             const float*, const float*, const float*, const float*, double, float*) {
  built_without_cuda();
}
void maxpool2d_forward(const ops::PoolWindow&, const float*, float*, std::int32_t*) {
  built_without_cuda();
}
void maxpool2d_backward(const ops::PoolWindow&, const float*, const std::int32_t*, float*) {
  built_without_cuda();
}
void global_average_pool_forward(const float*, std::int64_t, std::int64_t, std::int64_t, float*) {
  built_without_cuda();
}
void global_average_pool_backward(const float*, std::int64_t, std::int64_t, std::int64_t, float*) {
  built_without_cuda();
}

}  // namespace ringtrain::cuda
