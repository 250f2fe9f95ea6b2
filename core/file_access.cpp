// open_error: one fopen and fclose.
#include "core/file_access.hpp"

#include <cerrno>
#include <cstdio>

namespace ringtrain {

int open_error(const std::filesystem::path& path, const char* mode) {
  errno = 0;
  std::FILE* file = std::fopen(path.c_str(), mode);
  if (file == nullptr) return errno != 0 ? errno : EIO;
  std::fclose(file);
  return 0;
}

}  // namespace ringtrain
