// Philox4x32-10 and the keyed generator built on it.
#include "core/rng.hpp"

#include "core/philox.hpp"

namespace ringtrain {

namespace {

// SplitMix64 finalizer: spreads (seed, stream, id) over the 64 key bits.
std::uint64_t mix64(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ull;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

}  // namespace

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key) {
  const philox::Block result =
      philox::rounds({{counter[0], counter[1], counter[2], counter[3]}}, key[0], key[1]);
  return {result.word[0], result.word[1], result.word[2], result.word[3]};
}

Philox::Philox(std::uint64_t seed, RandomStream stream, std::uint64_t id) {
  const std::uint64_t key = mix64(mix64(seed) ^ mix64(static_cast<std::uint64_t>(stream) << 56 ^ id));
  key_ = {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
}

std::array<std::uint32_t, 4> Philox::block(std::uint64_t high, std::uint64_t low) const {
  const philox::Block result = philox::block(key_[0], key_[1], high, low);
  return {result.word[0], result.word[1], result.word[2], result.word[3]};
}

std::uint32_t Philox::word(std::uint64_t high, std::uint64_t index) const {
  return block(high, index / 4)[index % 4];
}

float Philox::uniform(std::uint64_t high, std::uint64_t index) const {
  return philox::uniform(key_[0], key_[1], high, index);
}

void Philox::uniforms(std::uint64_t high, std::uint64_t first, std::int64_t count, float* out) const {
  std::int64_t i = 0;
  while (i < count) {
    const std::uint64_t index = first + static_cast<std::uint64_t>(i);
    const philox::Block drawn = philox::block(key_[0], key_[1], high, index / 4);
    for (std::uint64_t word = index % 4; word < 4 && i < count; ++word, ++i)
      out[i] = philox::to_uniform(drawn.word[word]);
  }
}

}  // namespace ringtrain
