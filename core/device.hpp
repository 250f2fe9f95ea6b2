// Device: where a tensor's memory lives and so which backend runs the ops on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringtrain {

enum class Device { cpu, cuda };

std::string to_string(Device device);
// Parses "cpu" or "cuda"; anything else is an error naming the value.
Device parse_device(const std::string& text);

// Tensor allocations on `device` this process has made so far. A tensor buffer's memory only ever moves by a
// new allocation (it may shrink and grow again in place), so GPU work recorded over tensors (a CUDA graph)
// stays valid while the GPU's count is unchanged; library scratch memory (cuDNN plans) is kept for the life
// of the thread and not counted.
std::uint64_t allocation_count(Device device);

// This machine's memory in bytes (the most host tensors may take together), and `bytes` in GiB.
std::uint64_t host_memory_bytes();
double gib(std::uint64_t bytes);
// What every out-of-memory error tells the user to do.
inline constexpr const char* kOutOfMemoryAdvice = "make the layers or --batch-size smaller";

// Allocation and copies for every device; CUDA calls fail with "built without CUDA" where it is absent.
void* device_allocate(Device device, std::size_t bytes);
void device_free(Device device, void* pointer) noexcept;
void device_copy(void* destination, Device destination_device, const void* source, Device source_device,
                 std::size_t bytes);
void device_fill_zero(Device device, void* pointer, std::size_t bytes);

}  // namespace ringtrain
