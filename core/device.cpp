// Device names and the allocation/copy entry points that route to the CPU or the CUDA runtime.
#include "core/device.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/check.hpp"
#include "core/cuda/cuda_runtime.hpp"

namespace ringtrain {

namespace {

constexpr std::size_t kCpuAlignment = 64;
// Each CPU block starts with its size, one alignment unit before the memory handed out.
constexpr std::size_t kCpuHeader = kCpuAlignment;
std::atomic<std::uint64_t> cpu_allocations{0};
std::atomic<std::uint64_t> gpu_allocations{0};
std::atomic<std::uint64_t> cpu_bytes_in_use{0};

}  // namespace

std::uint64_t host_memory_bytes() {
  static const std::uint64_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) return std::numeric_limits<std::uint64_t>::max();
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  }();
  return bytes;
}

double gib(std::uint64_t bytes) {
  return static_cast<double>(bytes) / (1u << 30);
}

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
  // Linux grants nearly any request and fails only when the pages are touched, by swapping without end or by
  // the out-of-memory killer: tensors beyond the machine's memory are refused here, before that.
  const std::uint64_t in_use = cpu_bytes_in_use.load(), physical = host_memory_bytes();
  RT_CHECK(bytes <= physical && in_use <= physical - bytes,
           "out of memory: a tensor of " << gib(bytes) << " GiB would bring ringtrain's tensors to "
                                         << gib(in_use) + gib(bytes) << " GiB, beyond this machine's "
                                         << gib(physical) << " GiB: " << kOutOfMemoryAdvice);
  const std::size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  auto* block = static_cast<unsigned char*>(std::aligned_alloc(kCpuAlignment, kCpuHeader + rounded));
  RT_CHECK(block != nullptr, "out of memory allocating a tensor of "
                                 << gib(bytes)
                                 << " GiB (the process's memory limit, ulimit -v?): " << kOutOfMemoryAdvice);
  std::memcpy(block, &rounded, sizeof rounded);
  cpu_bytes_in_use += rounded;
  return block + kCpuHeader;
}

void device_free(Device device, void* pointer) noexcept {
  if (device == Device::cuda) {
    cuda::release(pointer);
  } else if (pointer != nullptr) {
    unsigned char* block = static_cast<unsigned char*>(pointer) - kCpuHeader;
    std::size_t rounded = 0;
    std::memcpy(&rounded, block, sizeof rounded);
    cpu_bytes_in_use -= rounded;
    std::free(block);
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
