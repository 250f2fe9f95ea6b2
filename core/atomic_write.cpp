// write_file_atomically: a temporary file in the same directory, written through stdio, renamed over the
// target.
#include "core/atomic_write.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/check.hpp"

namespace ringtrain {

std::filesystem::path temporary_path_for(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  name.insert(0, 1, '.');
  name.append(".partial-").append(std::to_string(::getpid()));
  return path.parent_path() / name;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path temporary = temporary_path_for(path);
  const auto fail = [&](int error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    RT_FAIL("cannot write " << path.string() << " (" << std::strerror(error) << "); "
                            << (std::filesystem::exists(path, ignored) ? "the previous one is unchanged"
                                                                       : "nothing was written"));
  };
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) fail(errno);
  // Synced before the rename, so that after a crash the name holds the old bytes or the new, never an empty
  // file.
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size() &&
                       std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const int write_error = errno;
  const bool closed = std::fclose(file) == 0;
  const int close_error = errno;
  if (!written) fail(write_error);
  if (!closed) fail(close_error);
  std::error_code renamed;
  std::filesystem::rename(temporary, path, renamed);
  if (renamed) fail(renamed.value());
}

}  // namespace ringtrain
