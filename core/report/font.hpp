// Font: a TrueType font read by FreeType, rendering a line of text into a grayscale coverage image. The
// default is DejaVu Sans from Debian's fonts-dejavu-core.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/report/png.hpp"

namespace ringtrain {

class Font {
 public:
  // /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf (or $RINGTRAIN_FONT); an error names the file and
  // package.
  static Font default_font();
  explicit Font(const std::filesystem::path& path);
  ~Font();
  Font(Font&&) noexcept;
  Font& operator=(Font&&) noexcept;

  // The text at `pixel_size` pixels per em: a gray image (coverage 0..255) as tall as the font's line, and
  // the distance from its top to the baseline.
  Image render(const std::string& text, int pixel_size, int* baseline = nullptr) const;
  const std::filesystem::path& path() const { return path_; }
  std::string family() const;

 private:
  struct Face;
  std::filesystem::path path_;
  std::unique_ptr<Face> face_;
};

}  // namespace ringtrain
