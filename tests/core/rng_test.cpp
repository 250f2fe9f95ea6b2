// Tests of core/rng: Philox4x32-10 known answers (Random123), the keyed generator's streams and uniforms.
#include "core/rng.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

namespace ringtrain {
namespace {

using Block = std::array<std::uint32_t, 4>;

// Known-answer vectors of philox4x32_10 from Random123's kat_vectors.
TEST(Philox4x32, ZeroCounterAndKey) {
  EXPECT_EQ(philox4x32({0, 0, 0, 0}, {0, 0}), (Block{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
}

TEST(Philox4x32, AllOnesCounterAndKey) {
  EXPECT_EQ(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (Block{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
}

TEST(Philox4x32, PiDigitsCounterAndKey) {
  EXPECT_EQ(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (Block{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, WordIsTheIndexedWordOfItsBlock) {
  const Philox philox(7, RandomStream::dropout, 3);
  for (std::uint64_t index : {0ull, 1ull, 2ull, 3ull, 4ull, 5ull, 4001ull, (1ull << 33) + 2}) {
    EXPECT_EQ(philox.word(11, index), philox.block(11, index / 4)[index % 4]) << "index " << index;
  }
}

TEST(Philox, UniformTakesTheTop24BitsOfTheWord) {
  const Philox philox(1, RandomStream::initialization, 0);
  for (std::uint64_t index = 0; index < 64; ++index) {
    const float expected = static_cast<float>(philox.word(5, index) >> 8) / 16777216.0f;
    EXPECT_EQ(philox.uniform(5, index), expected);
  }
}

TEST(Philox, UniformsAreTheDrawsOneByOne) {
  const Philox philox(9, RandomStream::dropout, 4);
  constexpr float kUntouched = -1.0f;
  for (std::uint64_t first : {0ull, 1ull, 2ull, 3ull, 5ull, 4001ull, (1ull << 33) + 2, ~0ull - 2}) {
    for (std::int64_t count : {0, 1, 2, 3, 4, 5, 7, 9, 17}) {
      std::vector<float> out(static_cast<std::size_t>(count) + 2, kUntouched);
      philox.uniforms(13, first, count, out.data() + 1);
      EXPECT_EQ(out.front(), kUntouched) << "first " << first << ", count " << count;
      EXPECT_EQ(out.back(), kUntouched) << "first " << first << ", count " << count;
      for (std::int64_t i = 0; i < count; ++i)
        EXPECT_EQ(out[static_cast<std::size_t>(i) + 1],
                  philox.uniform(13, first + static_cast<std::uint64_t>(i)))
            << "first " << first << ", i " << i;
    }
  }
}

TEST(Philox, UniformsLieInZeroOneWithMeanOneHalf) {
  const Philox philox(42, RandomStream::shuffle, 0);
  const int count = 200000;
  double sum = 0;
  int below_quarter = 0;
  for (int i = 0; i < count; ++i) {
    const float u = philox.uniform(0, static_cast<std::uint64_t>(i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    below_quarter += u < 0.25f;
  }
  // Standard errors: mean 0.00065, fraction 0.00097; the bounds are about 8 of them.
  EXPECT_NEAR(sum / count, 0.5, 0.005);
  EXPECT_NEAR(static_cast<double>(below_quarter) / count, 0.25, 0.008);
}

TEST(Philox, SameKeyAndCounterGiveTheSameDraws) {
  const Philox first(123, RandomStream::dropout, 9);
  const Philox second(123, RandomStream::dropout, 9);
  for (std::uint64_t index = 0; index < 100; ++index) {
    EXPECT_EQ(first.word(17, index), second.word(17, index));
  }
}

// How many of the first 64 words two generators (or two counters) have in common, position by position.
int common_words(const Philox& a, std::uint64_t high_a, const Philox& b, std::uint64_t high_b) {
  int common = 0;
  for (std::uint64_t index = 0; index < 64; ++index)
    common += a.word(high_a, index) == b.word(high_b, index);
  return common;
}

TEST(Philox, DifferentSeedsStreamsIdsAndCountersDiffer) {
  const Philox base(123, RandomStream::dropout, 9);
  EXPECT_EQ(common_words(base, 0, Philox(124, RandomStream::dropout, 9), 0), 0);
  EXPECT_EQ(common_words(base, 0, Philox(123, RandomStream::shuffle, 9), 0), 0);
  EXPECT_EQ(common_words(base, 0, Philox(123, RandomStream::initialization, 9), 0), 0);
  EXPECT_EQ(common_words(base, 0, Philox(123, RandomStream::dropout, 10), 0), 0);
  EXPECT_EQ(common_words(base, 0, base, 1), 0);
  EXPECT_EQ(common_words(base, 0, base, std::uint64_t{1} << 32), 0);
}

TEST(Philox, WordsWithinAStreamDoNotRepeat) {
  const Philox philox(0, RandomStream::initialization, 0);
  std::set<std::uint32_t> seen;
  for (std::uint64_t index = 0; index < 10000; ++index)
    seen.insert(philox.word(0, index));
  // 10^4 draws of 32 bits: a collision has probability about 1%; allow one.
  EXPECT_GE(seen.size(), 9999u);
}

}  // namespace
}  // namespace ringtrain
