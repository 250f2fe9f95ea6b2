// LayerOptions: typed reads of "key=value" layer settings with errors that name the line and key.
#include "core/layers/layer_options.hpp"

#include <charconv>
#include <sstream>

#include "core/check.hpp"

namespace ringtrain {

LayerOptions::LayerOptions(std::map<std::string, std::string> values, std::string where)
    : values_(std::move(values)), where_(std::move(where)) {}

const std::string* LayerOptions::find(const std::string& key) {
  auto found = values_.find(key);
  if (found == values_.end()) return nullptr;
  used_.insert(key);
  return &found->second;
}

void LayerOptions::bad_value(const std::string& key, const std::string& value,
                             const std::string& expected) const {
  RT_FAIL(where_ << ": option " << key << "=" << value << " is not " << expected);
}

static bool parse_integer(const std::string& text, std::int64_t& out) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, out);
  return result.ec == std::errc() && result.ptr == end;
}

std::int64_t LayerOptions::integer(const std::string& key, std::int64_t fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  std::int64_t out = 0;
  if (!parse_integer(*value, out)) bad_value(key, *value, "an integer");
  return out;
}

std::int64_t LayerOptions::required_integer(const std::string& key) {
  RT_CHECK(values_.count(key) != 0, where_ << ": option " << key << " is required");
  return integer(key, 0);
}

double LayerOptions::number(const std::string& key, double fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  std::istringstream in(*value);
  double out = 0;
  in >> out;
  if (in.fail() || !in.eof()) bad_value(key, *value, "a number");
  return out;
}

double LayerOptions::required_number(const std::string& key) {
  RT_CHECK(values_.count(key) != 0, where_ << ": option " << key << " is required");
  return number(key, 0);
}

bool LayerOptions::boolean(const std::string& key, bool fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  if (*value == "true" || *value == "1" || *value == "True") return true;
  if (*value == "false" || *value == "0" || *value == "False") return false;
  bad_value(key, *value, "true or false");
}

std::string LayerOptions::text(const std::string& key, const std::string& fallback) {
  const std::string* value = find(key);
  return value == nullptr ? fallback : *value;
}

std::vector<std::int64_t> LayerOptions::integers(const std::string& key, std::vector<std::int64_t> fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  std::vector<std::int64_t> out;
  std::istringstream in(*value);
  std::string part;
  while (std::getline(in, part, ',')) {
    std::int64_t number = 0;
    if (!parse_integer(part, number)) bad_value(key, *value, "a comma-separated list of integers");
    out.push_back(number);
  }
  if (out.empty() || value->back() == ',') bad_value(key, *value, "a comma-separated list of integers");
  return out;
}

std::pair<std::int64_t, std::int64_t> LayerOptions::positive_pair(const std::string& key,
                                                                  std::int64_t fallback) {
  RT_CHECK(fallback > 0 || values_.count(key) != 0, where_ << ": option " << key << " is required");
  const auto values = integers(key, {fallback});
  if (values.size() > 2 || values[0] <= 0 || values.back() <= 0) {
    bad_value(key, *find(key), "one or two positive integers");
  }
  return {values[0], values.back()};
}

void LayerOptions::reject_unused() const {
  for (const auto& [key, value] : values_) {
    RT_CHECK(used_.count(key) != 0, where_ << ": unknown option " << key << "=" << value
                                           << " (check its spelling against the README's layer table)");
  }
}

}  // namespace ringtrain
