// PNG encoding through libpng's write callbacks into a string.
#include "core/report/png.hpp"

#include <png.h>

#include "core/check.hpp"

namespace ringtrain {

std::string encode_png(const Image& image) {
  RT_CHECK(image.width > 0 && image.height > 0 && (image.channels == 1 || image.channels == 3) &&
               image.pixels.size() == static_cast<std::size_t>(image.width) * image.height * image.channels,
           "encode_png: an image of " << image.width << "x" << image.height << "x" << image.channels
                                      << " with " << image.pixels.size() << " bytes");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  RT_CHECK(info != nullptr, "libpng could not start a PNG");
  std::string bytes;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    RT_FAIL("libpng failed to encode a " << image.width << "x" << image.height << " image");
  }
  png_set_write_fn(
      png, &bytes,
      [](png_structp writer, png_bytep data, png_size_t length) {
        static_cast<std::string*>(png_get_io_ptr(writer))
            ->append(reinterpret_cast<const char*>(data), length);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int row = 0; row < image.height; ++row) {
    png_write_row(png, image.pixels.data() + static_cast<std::size_t>(row) * image.width * image.channels);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}

std::string base64(const std::string& bytes) {
  static const char* const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                                (i + 1 < bytes.size() ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0) |
                                (i + 2 < bytes.size() ? static_cast<unsigned char>(bytes[i + 2]) : 0);
    text += digits[(chunk >> 18) & 63];
    text += digits[(chunk >> 12) & 63];
    text += i + 1 < bytes.size() ? digits[(chunk >> 6) & 63] : '=';
    text += i + 2 < bytes.size() ? digits[chunk & 63] : '=';
  }
  return text;
}

}  // namespace ringtrain
