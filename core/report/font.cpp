// Font: FreeType library and face, and line rendering glyph by glyph.
#include "core/report/font.hpp"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cstdlib>

#include "core/check.hpp"

namespace ringtrain {

struct Font::Face {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  ~Face() {
    if (face != nullptr) FT_Done_Face(face);
    if (library != nullptr) FT_Done_FreeType(library);
  }
};

Font Font::default_font() {
  const char* chosen = std::getenv("RINGTRAIN_FONT");
  const std::filesystem::path path =
      chosen != nullptr ? chosen : "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  RT_CHECK(std::filesystem::exists(path), "the report's font "
                                              << path.string()
                                              << " is missing: install Debian's fonts-dejavu-core "
                                                 "(scripts/setup.sh does) or set RINGTRAIN_FONT");
  return Font(path);
}

Font::Font(const std::filesystem::path& path) : path_(path), face_(std::make_unique<Face>()) {
  RT_CHECK(FT_Init_FreeType(&face_->library) == 0, "FreeType could not start");
  RT_CHECK(FT_New_Face(face_->library, path.c_str(), 0, &face_->face) == 0,
           path.string() << " is not a font FreeType can read");
}

Font::~Font() = default;
Font::Font(Font&&) noexcept = default;
Font& Font::operator=(Font&&) noexcept = default;

std::string Font::family() const {
  return std::string(face_->face->family_name ? face_->face->family_name : "?") + " " +
         (face_->face->style_name ? face_->face->style_name : "");
}

Image Font::render(const std::string& text, int pixel_size, int* baseline) const {
  FT_Face face = face_->face;
  RT_CHECK(FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(pixel_size)) == 0,
           path_.string() << ": cannot use " << pixel_size << " pixels");
  const int ascent = static_cast<int>(face->size->metrics.ascender >> 6);
  const int height = static_cast<int>((face->size->metrics.ascender - face->size->metrics.descender) >> 6);
  int width = 0;
  for (const char c : text) {
    if (FT_Load_Char(face, static_cast<unsigned char>(c), FT_LOAD_DEFAULT) == 0)
      width += static_cast<int>(face->glyph->advance.x >> 6);
  }
  Image image{std::max(width, 1), std::max(height, 1), 1, {}};
  image.pixels.assign(static_cast<std::size_t>(image.width) * image.height, 0);
  int pen = 0;
  for (const char c : text) {
    if (FT_Load_Char(face, static_cast<unsigned char>(c), FT_LOAD_RENDER | FT_LOAD_NO_BITMAP) != 0) continue;
    const FT_Bitmap& bitmap = face->glyph->bitmap;
    if (bitmap.pixel_mode != FT_PIXEL_MODE_GRAY) continue;  // 8-bit coverage only
    // A negative pitch stores the rows bottom-up.
    const unsigned char* top_row =
        bitmap.pitch >= 0 ? bitmap.buffer
                          : bitmap.buffer - static_cast<std::ptrdiff_t>(bitmap.rows - 1) * bitmap.pitch;
    for (unsigned row = 0; row < bitmap.rows; ++row) {
      for (unsigned column = 0; column < bitmap.width; ++column) {
        const int x = pen + face->glyph->bitmap_left + static_cast<int>(column);
        const int y = ascent - face->glyph->bitmap_top + static_cast<int>(row);
        if (x < 0 || y < 0 || x >= image.width || y >= image.height) continue;
        auto& pixel = image.pixels[static_cast<std::size_t>(y) * image.width + x];
        pixel = std::max(pixel, top_row[static_cast<std::ptrdiff_t>(row) * bitmap.pitch + column]);
      }
    }
    pen += static_cast<int>(face->glyph->advance.x >> 6);
  }
  if (baseline != nullptr) *baseline = ascent;
  return image;
}

}  // namespace ringtrain
