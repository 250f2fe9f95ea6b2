// Sealing files with their length and CRC-32, and checking the seal.
#include "core/checkpoint/file_seal.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/check.hpp"

namespace ringtrain {

namespace {

// "ringtrain seal\nbytes=<count>\ncrc32=<8 hex digits>\n", then zeros: the count and CRC-32 (zlib's) of
// everything after the seal's kSealBytes.
constexpr std::string_view kSealTag = "ringtrain seal\n";
constexpr std::string_view kHdf5Signature = "\x89HDF\r\n\x1a\n";

struct Contents {
  unsigned long long bytes = 0;
  unsigned long crc = 0;
};

// The length and CRC-32 of what follows the seal in `in`.
Contents contents_after_seal(std::istream& in) {
  Contents contents;
  contents.crc = crc32(0L, Z_NULL, 0);
  in.seekg(static_cast<std::streamoff>(kSealBytes));
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<uInt>(in.gcount());
    contents.crc = crc32(contents.crc, reinterpret_cast<const Bytef*>(buffer.data()), got);
    contents.bytes += got;
  }
  return contents;
}

}  // namespace

void seal_file(const std::filesystem::path& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  RT_CHECK(file, "cannot open " << path.string() << " to seal it");
  const Contents contents = contents_after_seal(file);
  RT_CHECK(file.eof() && !file.bad(), "cannot read " << path.string() << " back to seal it");
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08lx", contents.crc);
  std::string seal =
      std::string(kSealTag) + "bytes=" + std::to_string(contents.bytes) + "\ncrc32=" + crc + "\n";
  seal.resize(kSealBytes, '\0');
  file.clear();
  file.seekp(0);
  file.write(seal.data(), static_cast<std::streamsize>(seal.size()));
  file.flush();
  RT_CHECK(file, "cannot write the seal of " << path.string());
}

void check_file_seal(const std::filesystem::path& path) {
  errno = 0;  // the stream's open sets it only on failure
  std::ifstream file(path, std::ios::binary);
  const int error = errno;
  RT_CHECK(file, "cannot open " << path.string() << " (" << std::strerror(error) << ")");
  std::string start(kSealBytes, '\0');
  file.read(start.data(), static_cast<std::streamsize>(start.size()));
  start.resize(static_cast<std::size_t>(file.gcount()));
  if (start.starts_with(kHdf5Signature)) return;
  RT_CHECK(start.starts_with(kSealTag), path.string()
                                            << " is neither a ringtrain checkpoint nor HDF5 (its first "
                                            << "bytes are neither ringtrain's seal nor HDF5's "
                                            << "signature): damaged, or another kind of file");
  unsigned long long bytes = 0;
  unsigned long crc = 0;
  std::istringstream fields(start.substr(kSealTag.size()));
  std::string line;
  bool have_bytes = false, have_crc = false;
  while (std::getline(fields, line) && !line.empty() && line[0] != '\0') {
    have_bytes |= std::sscanf(line.c_str(), "bytes=%llu", &bytes) == 1;
    have_crc |= std::sscanf(line.c_str(), "crc32=%8lx", &crc) == 1;
  }
  RT_CHECK(have_bytes && have_crc, path.string() << ": its seal (the first " << kSealBytes
                                                 << " bytes) is damaged: it lacks bytes= or crc32=");
  file.clear();
  const Contents contents = contents_after_seal(file);
  RT_CHECK(contents.bytes == bytes, path.string()
                                        << " is truncated or was extended: " << contents.bytes
                                        << " bytes follow its seal, and " << bytes << " were written");
  RT_CHECK(contents.crc == crc, path.string() << " is damaged: its contents fail the CRC-32 recorded when it "
                                              << "was written");
}

}  // namespace ringtrain
