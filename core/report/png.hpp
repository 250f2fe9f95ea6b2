// Images and their PNG encoding (libpng): 8-bit grayscale or RGB, to memory (for data: URIs in the report
// page, and for the files beside it); and base64 for those URIs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringtrain {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;                  // 1: gray, 3: RGB
  std::vector<std::uint8_t> pixels;  // row-major, channels interleaved
};

std::string encode_png(const Image& image);
std::string base64(const std::string& bytes);

}  // namespace ringtrain
