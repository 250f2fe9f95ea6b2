// Test support: deterministic random data, Tensor <-> double conversions and closeness checks with gtest.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <source_location>
#include <vector>

#include "core/tensor.hpp"

namespace ringtrain::reference {

// The reference implementations work on row-major values in double.
using Values = std::vector<double>;

// `count` values uniform in [low, high), from std::mt19937 seeded with `seed`.
Values random_values(std::size_t count, std::uint32_t seed, double low = -1.0, double high = 1.0);
// A float32 CPU tensor holding random_values(numel, seed, low, high).
Tensor random_tensor(const Shape& shape, std::uint32_t seed, double low = -1.0, double high = 1.0);
// A float32 CPU tensor with every element `value` (to check that outputs are overwritten).
Tensor filled_tensor(const Shape& shape, float value);

// The elements of a float32 or int32 tensor, in double.
Values to_values(const Tensor& tensor);
// A float32 CPU tensor from double values (each rounded to float).
Tensor to_tensor(const Shape& shape, const Values& values);
// An int32 CPU tensor (labels).
Tensor int_tensor(const Shape& shape, const std::vector<std::int32_t>& values);
// `values` rounded to float and back, so that a reference sees exactly what a float32 kernel sees.
Values rounded_to_float(const Values& values);

// sum_i y[i] * weights[i] in double: the scalar loss L = sum(y * r) of the gradient checks.
double weighted_sum(const Tensor& y, const Values& weights);

// Whether |actual[i] - expected[i]| <= abs_tol + rel_tol * |expected[i]| for every i (and the sizes match);
// a failure names the worst element, its values, and how many elements are out of tolerance.
testing::AssertionResult all_close(const Values& actual, const Values& expected, double rel_tol,
                                   double abs_tol);

// EXPECT_TRUE(all_close(...)), reported at the caller's line.
void expect_close(const Values& actual, const Values& expected, double rel_tol, double abs_tol,
                  std::source_location location = std::source_location::current());
void expect_close(const Tensor& actual, const Values& expected, double rel_tol, double abs_tol,
                  std::source_location location = std::source_location::current());

// Whether every element is finite (no NaN, no infinity).
bool all_finite(const Values& values);

}  // namespace ringtrain::reference
