// Reference inverted-dropout mask, written out from the rule in core/ops/dropout.hpp with the Philox
// generator.
#pragma once

#include <cstdint>

#include "core/ops/dropout.hpp"
#include "tests/reference/support.hpp"

namespace ringtrain::reference {

// [rows, features]: 1 / (1 - rate) where element e of row r is kept, that is where
// Philox(seed, dropout, layer).uniform(step, (first_sample + r) * features + e) >= rate, and 0 elsewhere.
Values dropout_mask(std::int64_t rows, std::int64_t features, double rate, const ops::DropoutKey& key);

}  // namespace ringtrain::reference
