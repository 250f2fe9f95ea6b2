// Test helpers for the data tests: a temporary directory, IDX file bytes, and writing them raw or gzipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/data/idx.hpp"

namespace ringtrain::data::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

enum class Compression { none, gzip };

// The bytes of an IDX file: big-endian magic and dimensions, then the payload.
std::vector<std::uint8_t> idx_file_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                                         const std::vector<std::uint8_t>& payload);
std::vector<std::uint8_t> idx_images_bytes(const IdxImages& images);
std::vector<std::uint8_t> idx_labels_bytes(const std::vector<std::uint8_t>& labels);

// Writes `bytes` to `path`, through zlib's gzopen("wb") for Compression::gzip.
void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes,
                Compression compression = Compression::none);

// Images whose pixels are a simple function of (image, pixel), so every sample differs.
IdxImages patterned_images(std::int64_t count, std::int64_t rows, std::int64_t cols);
std::uint8_t patterned_pixel(std::int64_t image, std::int64_t pixel);

// Runs `action`, expects a ringtrain::Error whose message contains every one of `fragments`.
void expect_error_mentioning(const std::function<void()>& action,
                             std::initializer_list<std::string> fragments);

}  // namespace ringtrain::data::testing
