// write_file_atomically: a file replaced whole or not at all, for files a reader may open at any moment (the
// report page and its pictures, rewritten while a browser shows them).
#pragma once

#include <filesystem>
#include <string_view>

namespace ringtrain {

// Writes `bytes` to a temporary file beside `path`, syncs it to disk, then renames it over `path`. On failure (a full disk, no
// permission) the temporary file is removed, `path` is left as it was, and Error names the file and the
// reason.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Where this process writes `path` before renaming it into place: .<name>.partial-<pid> beside it (hidden,
// and the pid tells whether its writer still runs).
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

}  // namespace ringtrain
