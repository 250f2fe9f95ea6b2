// The error type ringtrain throws and RT_CHECK, the one macro for invariants and user errors.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ringtrain {

// Every error a user can act on: the message names the file, the field, the value and what to do.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void throw_check_failure(const std::string& message);
}  // namespace detail

}  // namespace ringtrain

// RT_CHECK(cond, a << b << c): throws ringtrain::Error with the streamed message when cond is false.
#define RT_CHECK(cond, message)                                         \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::ostringstream rt_check_stream_;                              \
      rt_check_stream_ << message;                                      \
      ::ringtrain::detail::throw_check_failure(rt_check_stream_.str()); \
    }                                                                   \
  } while (false)

// RT_FAIL(a << b): throws unconditionally.
#define RT_FAIL(message) RT_CHECK(false, message)
