// Philox4x32-10 and the keyed generator built on it.
#include "core/rng.hpp"

namespace ringtrain {

namespace {

constexpr std::uint32_t kMultiplier0 = 0xD2511F53u;
constexpr std::uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;

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
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t product0 = static_cast<std::uint64_t>(kMultiplier0) * counter[0];
    const std::uint64_t product1 = static_cast<std::uint64_t>(kMultiplier1) * counter[2];
    counter = {static_cast<std::uint32_t>(product1 >> 32) ^ counter[1] ^ key[0],
               static_cast<std::uint32_t>(product1),
               static_cast<std::uint32_t>(product0 >> 32) ^ counter[3] ^ key[1],
               static_cast<std::uint32_t>(product0)};
    key[0] += kWeyl0;
    key[1] += kWeyl1;
  }
  return counter;
}

Philox::Philox(std::uint64_t seed, RandomStream stream, std::uint64_t id) {
  const std::uint64_t key = mix64(mix64(seed) ^ mix64(static_cast<std::uint64_t>(stream) << 56 ^ id));
  key_ = {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
}

std::array<std::uint32_t, 4> Philox::block(std::uint64_t high, std::uint64_t low) const {
  return philox4x32({static_cast<std::uint32_t>(low), static_cast<std::uint32_t>(low >> 32),
                     static_cast<std::uint32_t>(high), static_cast<std::uint32_t>(high >> 32)},
                    key_);
}

std::uint32_t Philox::word(std::uint64_t high, std::uint64_t index) const {
  return block(high, index / 4)[index % 4];
}

float Philox::uniform(std::uint64_t high, std::uint64_t index) const {
  return static_cast<float>(word(high, index) >> 8) * 0x1.0p-24f;
}

}  // namespace ringtrain
