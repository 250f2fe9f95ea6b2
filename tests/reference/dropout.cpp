// Reference dropout mask: one Philox draw per element.
#include "tests/reference/dropout.hpp"

#include "core/rng.hpp"

namespace ringtrain::reference {

Values dropout_mask(std::int64_t rows, std::int64_t features, double rate, const ops::DropoutKey& key) {
  const Philox generator(key.seed, RandomStream::dropout, key.layer);
  Values mask(static_cast<std::size_t>(rows * features));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t e = 0; e < features; ++e) {
      const std::uint64_t index = (key.first_sample + static_cast<std::uint64_t>(r)) * features + e;
      const bool kept = generator.uniform(key.step, index) >= rate;
      mask[r * features + e] = kept ? 1.0 / (1.0 - rate) : 0.0;
    }
  }
  return mask;
}

}  // namespace ringtrain::reference
