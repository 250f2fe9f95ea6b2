// LayerOptions: a layer's "key=value" settings from a config line, read with types and checked for
// leftovers, so a misspelt option is an error that names the layer line and the key.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/check.hpp"

namespace ringtrain {

class LayerOptions {
 public:
  // `where` names the source for errors, e.g. "experiments/09_batch_norm.ini: layer 3 'conv2d ...'".
  LayerOptions(std::map<std::string, std::string> values, std::string where);

  std::int64_t integer(const std::string& key, std::int64_t fallback);
  std::int64_t required_integer(const std::string& key);
  double number(const std::string& key, double fallback);
  double required_number(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  std::string text(const std::string& key, const std::string& fallback);
  // "3" or "3,3" -> {3, 3}; `count` numbers after expansion of a single one.
  std::vector<std::int64_t> integers(const std::string& key, std::vector<std::int64_t> fallback);
  // "3" -> {3, 3}, "3,5" -> {3, 5}, both positive; a fallback of 0 makes the option required.
  std::pair<std::int64_t, std::int64_t> positive_pair(const std::string& key, std::int64_t fallback);
  // The value of `key` (or fallback) turned into a type by `parse`; parse errors gain where() and the key.
  template <typename Parse>
  auto parsed(const std::string& key, const std::string& fallback, Parse parse) -> decltype(parse(fallback)) {
    const std::string value = text(key, fallback);
    try {
      return parse(value);
    } catch (const Error& error) {
      RT_FAIL(where_ << ": option " << key << "=" << value << ": " << error.what());
    }
  }
  // Throws naming the first option no layer read.
  void reject_unused() const;
  const std::string& where() const { return where_; }

 private:
  const std::string* find(const std::string& key);
  [[noreturn]] void bad_value(const std::string& key, const std::string& value,
                              const std::string& expected) const;

  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
  std::string where_;
};

}  // namespace ringtrain
