// Device names and the allocation/copy entry points that route to the CPU or the CUDA runtime.
#include "core/device.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/check.hpp"
#include "core/cuda/cuda_runtime.hpp"

namespace ringtrain {

namespace {
constexpr std::size_t kCpuAlignment = 64;
std::atomic<std::uint64_t> cpu_allocations{0};
std::atomic<std::uint64_t> gpu_allocations{0};
}  // namespace

std::uint64_t allocation_count(Device device) {
  return device == Device::cuda ? gpu_allocations.load() : cpu_allocations.load();
}

std::string to_string(Device device) {
  return device == Device::cpu ? "cpu" : "cuda";
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") return Device::cuda;
  RT_FAIL("unknown device '" << text << "': use cpu or cuda");
}

void* device_allocate(Device device, std::size_t bytes) {
  if (device == Device::cuda) {
    ++gpu_allocations;
    return cuda::allocate(bytes);
  }
  ++cpu_allocations;
  const std::size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  void* pointer = std::aligned_alloc(kCpuAlignment, rounded);
  RT_CHECK(pointer != nullptr, "out of host memory allocating " << bytes << " bytes");
  return pointer;
}

void device_free(Device device, void* pointer) noexcept {
  if (device == Device::cuda) {
    cuda::release(pointer);
  } else {
    std::free(pointer);
  }
}

void device_copy(void* destination, Device destination_device, const void* source, Device source_device,
                 std::size_t bytes) {
  if (bytes == 0) return;
  if (destination_device == Device::cpu && source_device == Device::cpu) {
    std::memcpy(destination, source, bytes);
  } else {
    const bool host_memory = destination_device == Device::cpu || source_device == Device::cpu;
    cuda::copy(destination, source, bytes,
               host_memory ? cuda::CopyReturns::when_done : cuda::CopyReturns::when_queued);
  }
}

void device_fill_zero(Device device, void* pointer, std::size_t bytes) {
  if (bytes == 0) return;
  if (device == Device::cuda) {
    cuda::fill_zero(pointer, bytes);
  } else {
    std::memset(pointer, 0, bytes);
  }
}

}  // namespace ringtrain
