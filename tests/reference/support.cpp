// Test support: random data, conversions and the closeness check with the worst element named.
#include "tests/reference/support.hpp"

#include <cmath>
#include <random>
#include <sstream>

namespace ringtrain::reference {

Values random_values(std::size_t count, std::uint32_t seed, double low, double high) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  Values values(count);
  for (double& value : values)
    value = distribution(generator);
  return values;
}

Tensor random_tensor(const Shape& shape, std::uint32_t seed, double low, double high) {
  return to_tensor(shape, random_values(static_cast<std::size_t>(shape.numel()), seed, low, high));
}

Tensor filled_tensor(const Shape& shape, float value) {
  return Tensor::from_vector(shape, std::vector<float>(static_cast<std::size_t>(shape.numel()), value));
}

Values to_values(const Tensor& tensor) {
  const Tensor host = tensor.device() == Device::cpu ? tensor : tensor.to(Device::cpu);
  Values values(static_cast<std::size_t>(host.numel()));
  if (host.dtype() == DType::i32) {
    const std::int32_t* data = host.data<std::int32_t>();
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] = data[i];
  } else if (host.dtype() == DType::f64) {
    const double* data = host.data<double>();
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] = data[i];
  } else {
    const float* data = host.data<float>();
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] = data[i];
  }
  return values;
}

Tensor to_tensor(const Shape& shape, const Values& values) {
  std::vector<float> floats(values.begin(), values.end());
  return Tensor::from_vector(shape, floats);
}

Tensor int_tensor(const Shape& shape, const std::vector<std::int32_t>& values) {
  RT_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(), "int_tensor: size mismatch");
  Tensor tensor = Tensor::empty(shape, DType::i32);
  std::int32_t* data = tensor.data<std::int32_t>();
  for (std::size_t i = 0; i < values.size(); ++i)
    data[i] = values[i];
  return tensor;
}

Values rounded_to_float(const Values& values) {
  Values rounded(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    rounded[i] = static_cast<float>(values[i]);
  return rounded;
}

double weighted_sum(const Tensor& y, const Values& weights) {
  const Values values = to_values(y);
  RT_CHECK(values.size() == weights.size(),
           "weighted_sum: " << values.size() << " values, " << weights.size() << " weights");
  double sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i)
    sum += values[i] * weights[i];
  return sum;
}

testing::AssertionResult all_close(const Values& actual, const Values& expected, double rel_tol,
                                   double abs_tol) {
  if (actual.size() != expected.size()) {
    return testing::AssertionFailure()
           << "sizes differ: actual " << actual.size() << ", expected " << expected.size();
  }
  std::size_t failures = 0, worst = 0;
  double worst_ratio = -1;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double error = std::abs(actual[i] - expected[i]);
    const double tolerance = abs_tol + rel_tol * std::abs(expected[i]);
    // A NaN error counts as the worst possible.
    const double ratio = std::isnan(error) ? INFINITY : error / tolerance;
    if (!(error <= tolerance)) ++failures;
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = i;
    }
  }
  if (failures == 0) return testing::AssertionSuccess();
  std::ostringstream message;
  message.precision(9);
  message << failures << " of " << actual.size() << " elements out of tolerance (rel " << rel_tol << ", abs "
          << abs_tol << "); worst at index " << worst << ": actual " << actual[worst] << ", expected "
          << expected[worst] << ", difference " << actual[worst] - expected[worst];
  return testing::AssertionFailure() << message.str();
}

void expect_close(const Values& actual, const Values& expected, double rel_tol, double abs_tol,
                  std::source_location location) {
  const testing::AssertionResult result = all_close(actual, expected, rel_tol, abs_tol);
  if (!result) ADD_FAILURE_AT(location.file_name(), static_cast<int>(location.line())) << result.message();
}

void expect_close(const Tensor& actual, const Values& expected, double rel_tol, double abs_tol,
                  std::source_location location) {
  expect_close(to_values(actual), expected, rel_tol, abs_tol, location);
}

bool all_finite(const Values& values) {
  for (double value : values) {
    if (!std::isfinite(value)) return false;
  }
  return true;
}

}  // namespace ringtrain::reference
