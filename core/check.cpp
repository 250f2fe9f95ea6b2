// Where RT_CHECK failures become ringtrain::Error.
#include "core/check.hpp"

namespace ringtrain::detail {

void throw_check_failure(const std::string& message) {
  throw Error(message);
}

}  // namespace ringtrain::detail
