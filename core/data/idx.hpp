// Reading IDX files (the MNIST image and label format), raw or gzip-compressed.
#pragma once

#include <cstdint>
#include <filesystem>
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

// Both read raw and gzip files alike (zlib's gzread). Every problem with the file (missing, truncated, wrong
// magic, zero or absurd dimensions) is a ringtrain::Error naming the path, the field and the value.
IdxImages read_idx_images(const std::filesystem::path& path);
IdxLabels read_idx_labels(const std::filesystem::path& path);

}  // namespace ringtrain::data
