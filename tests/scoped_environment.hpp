// ScopedEnvironment: an environment variable set (or unset) for one scope, and for the processes started in
// it, restored afterwards.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace ringtrain {

class ScopedEnvironment {
 public:
  // Sets `name` to `value`, or unsets it where `value` is null.
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_value_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnvironment() {
    if (old_value_) {
      ::setenv(name_, old_value_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_value_;
};

}  // namespace ringtrain
