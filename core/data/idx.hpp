// Reading IDX files (the MNIST image and label format), raw or gzip-compressed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ringtrain::data {

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

// `count` images of rows x cols bytes, row-major, one after another.
struct IdxImages {
  std::int64_t count = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::uint8_t> pixels;
};

struct IdxLabels {
  std::vector<std::uint8_t> labels;
};

// What an error about an IDX file tells the user to do, by where the file came from.
struct IdxAdvice {
  std::string missing;     // the path does not exist
  std::string not_a_file;  // the path is a directory or a device
  std::string damaged;     // truncated, corrupt, or longer than its header says
};
// MNIST's own files, found under --data: fetch them again.
IdxAdvice mnist_file_advice();
// A file the user named with `option` (predict's --images): check that file.
IdxAdvice named_file_advice(const std::string& option);

// Both read raw and gzip files alike (zlib's gzread). Every problem with the file (missing, truncated, wrong
// magic, zero or absurd dimensions, bytes beyond the payload its header declares) is a ringtrain::Error
// naming the path, the field and the value, and ending with `advice`.
IdxImages read_idx_images(const std::filesystem::path& path, const IdxAdvice& advice = mnist_file_advice());
IdxLabels read_idx_labels(const std::filesystem::path& path, const IdxAdvice& advice = mnist_file_advice());

}  // namespace ringtrain::data
