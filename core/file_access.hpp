// open_error: whether this user may open a file, asked before a run relies on it. A file that is there but
// cannot be opened is not damaged: the caller stops and says why rather than passing over it or setting it
// aside.
#pragma once

#include <filesystem>

namespace ringtrain {

// 0 when `path` opens with fopen's `mode` ("rb", "r+b"), else the errno of the failed open.
int open_error(const std::filesystem::path& path, const char* mode);

}  // namespace ringtrain
