// FNV-1a, the 64-bit hash that ranks compare to find that they hold the same bytes (parameters, the run's
// configuration).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringtrain {

inline constexpr std::uint64_t kFnv1aStart = 0xcbf29ce484222325ull;

// `hash` continued over `size` bytes at `data`.
inline std::uint64_t fnv1a(const void* data, std::size_t size, std::uint64_t hash = kFnv1aStart) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i)
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

}  // namespace ringtrain
