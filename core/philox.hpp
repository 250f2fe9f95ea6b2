// Philox4x32-10 and the uniform float drawn from one of its words, as inline functions that compile for the
// CPU and, under nvcc, for CUDA kernels: the one implementation behind every random draw, so that a dropout
// mask is the same bit pattern on either device.
#pragma once

#include <cstdint>

#include "core/host_device.hpp"

namespace ringtrain::philox {

struct Block {
  std::uint32_t word[4];
};

// Ten rounds of Philox4x32 on counter (c0..c3) with key (k0, k1) (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3").
RT_HOST_DEVICE inline Block rounds(Block counter, std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t product0 = static_cast<std::uint64_t>(0xD2511F53u) * counter.word[0];
    const std::uint64_t product1 = static_cast<std::uint64_t>(0xCD9E8D57u) * counter.word[2];
    counter = Block{{static_cast<std::uint32_t>(product1 >> 32) ^ counter.word[1] ^ k0,
                     static_cast<std::uint32_t>(product1),
                     static_cast<std::uint32_t>(product0 >> 32) ^ counter.word[3] ^ k1,
                     static_cast<std::uint32_t>(product0)}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return counter;
}

// The block at the 128-bit counter (high, low).
RT_HOST_DEVICE inline Block block(std::uint32_t k0, std::uint32_t k1, std::uint64_t high, std::uint64_t low) {
  return rounds(Block{{static_cast<std::uint32_t>(low), static_cast<std::uint32_t>(low >> 32),
                       static_cast<std::uint32_t>(high), static_cast<std::uint32_t>(high >> 32)}},
                k0, k1);
}

// A float in [0, 1) from the top 24 bits of `word`.
RT_HOST_DEVICE inline float to_uniform(std::uint32_t word) {
  return static_cast<float>(word >> 8) * 5.9604644775390625e-08f;  // 2^-24
}

// Word `index` of the sequence at `high` (word index % 4 of block index / 4) as a uniform in [0, 1).
RT_HOST_DEVICE inline float uniform(std::uint32_t k0, std::uint32_t k1, std::uint64_t high,
                                    std::uint64_t index) {
  return to_uniform(block(k0, k1, high, index / 4).word[index % 4]);
}

}  // namespace ringtrain::philox
