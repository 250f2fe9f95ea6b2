// Numbers put into text: by a printf pattern ("%.4f", "%.1f%%") for the progress lines and the commands'
// result lines, as the shortest text that reads back as the same double, or with thousands grouped.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ringtrain {

inline std::string format_number(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// "0.003", not "0.0030000000000000001" or "0.003000"; "0.99999999999", not "1".
inline std::string shortest_text(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

// "1,287,983", as Keras' summary prints counts (a minus sign kept first).
inline std::string with_thousands(std::int64_t value) {
  const std::string digits = std::to_string(value);
  const std::size_t first = value < 0 ? 1 : 0;
  std::string grouped = digits.substr(0, first);
  for (std::size_t i = first; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

}  // namespace ringtrain
