// Counter-based random numbers (Philox4x32-10): every draw is a pure function of a key and a counter,
// so shuffles, dropout masks and initial weights can be recomputed anywhere, in any order, on any rank.
#pragma once

#include <array>
#include <cstdint>

namespace ringtrain {

// What a stream of random numbers is for; part of the key, so streams never overlap.
enum class RandomStream : std::uint32_t { initialization = 1, shuffle = 2, dropout = 3 };

// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key);

// A keyed generator: key from (seed, stream, id); draws addressed by (high, low) counters.
class Philox {
 public:
  Philox(std::uint64_t seed, RandomStream stream, std::uint64_t id);

  // Four 32-bit words for the 128-bit counter (high, low).
  std::array<std::uint32_t, 4> block(std::uint64_t high, std::uint64_t low) const;
  // The index-th 32-bit word of the sequence at `high`: word index % 4 of block (high, index / 4).
  std::uint32_t word(std::uint64_t high, std::uint64_t index) const;
  // A float uniform in [0, 1) with 24 random bits, from word(high, index).
  float uniform(std::uint64_t high, std::uint64_t index) const;
  // out[i] = uniform(high, first + i) for i in [0, count): one block for every four draws, where uniform()
  // computes a block for each.
  void uniforms(std::uint64_t high, std::uint64_t first, std::int64_t count, float* out) const;
  // The two key words (for kernels that draw with philox::uniform).
  std::array<std::uint32_t, 2> key() const { return key_; }

 private:
  std::array<std::uint32_t, 2> key_;
};

}  // namespace ringtrain
