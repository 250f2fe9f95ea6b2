// One number put into text by a printf pattern ("%.4f", "%.1f%%"): the progress lines and the commands'
// result lines.
#pragma once

#include <cstdio>
#include <string>

namespace ringtrain {

inline std::string format_number(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

}  // namespace ringtrain
