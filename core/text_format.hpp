// Numbers put into text: by a printf pattern ("%.4f", "%.1f%%") for the progress lines and the commands'
// result lines, or as the shortest text that reads back as the same double.
#pragma once

#include <charconv>
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

}  // namespace ringtrain
