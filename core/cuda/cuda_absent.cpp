// The CUDA runtime entry points for builds without the CUDA backend: every use is a clear error.
#include "core/check.hpp"
#include "core/cuda/cuda_runtime.hpp"

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
void* allocate(std::size_t) {
  built_without_cuda();
}
void release(void*) noexcept {}
void copy(void*, const void*, std::size_t) {
  built_without_cuda();
}
void fill_zero(void*, std::size_t) {
  built_without_cuda();
}
void scale(float*, const float*, float, std::size_t) {
  built_without_cuda();
}

}  // namespace ringtrain::cuda
