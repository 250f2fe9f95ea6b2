// Test helpers for the data tests: temporary directories and hand-made IDX files.
#include "tests/data/idx_test_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <fstream>

#include "core/check.hpp"

namespace ringtrain::data::testing {

TemporaryDirectory::TemporaryDirectory() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("ringtrain-data-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::uint8_t> idx_file_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                                         const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> bytes;
  auto append_big_endian = [&bytes](std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<std::uint8_t>(value >> shift));
  };
  append_big_endian(magic);
  for (std::uint32_t dim : dims)
    append_big_endian(dim);
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

std::vector<std::uint8_t> idx_images_bytes(const IdxImages& images) {
  return idx_file_bytes(kIdxImagesMagic,
                        {static_cast<std::uint32_t>(images.count), static_cast<std::uint32_t>(images.rows),
                         static_cast<std::uint32_t>(images.cols)},
                        images.pixels);
}

std::vector<std::uint8_t> idx_labels_bytes(const std::vector<std::uint8_t>& labels) {
  return idx_file_bytes(kIdxLabelsMagic, {static_cast<std::uint32_t>(labels.size())}, labels);
}

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes,
                Compression compression) {
  if (compression == Compression::none) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    RT_CHECK(out.good(), "cannot write test file " << path.string());
    return;
  }
  gzFile file = gzopen(path.c_str(), "wb");
  RT_CHECK(file != nullptr, "cannot open test file " << path.string() << " for gzip writing");
  const int written = bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  const int closed = gzclose(file);
  RT_CHECK(written == static_cast<int>(bytes.size()) && closed == Z_OK,
           "cannot gzip test file " << path.string());
}

std::uint8_t patterned_pixel(std::int64_t image, std::int64_t pixel) {
  return static_cast<std::uint8_t>((image * 37 + pixel * 11 + 5) % 256);
}

IdxImages patterned_images(std::int64_t count, std::int64_t rows, std::int64_t cols) {
  IdxImages images{count, rows, cols, {}};
  for (std::int64_t image = 0; image < count; ++image) {
    for (std::int64_t pixel = 0; pixel < rows * cols; ++pixel)
      images.pixels.push_back(patterned_pixel(image, pixel));
  }
  return images;
}

void expect_error_mentioning(const std::function<void()>& action,
                             std::initializer_list<std::string> fragments) {
  try {
    action();
    ADD_FAILURE() << "expected a ringtrain::Error mentioning " << *fragments.begin();
  } catch (const ringtrain::Error& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "'" << fragment << "' missing from: " << message;
    }
  }
}

}  // namespace ringtrain::data::testing
