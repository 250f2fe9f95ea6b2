// Canvas: an RGB raster to draw the report's PNG files on: filled rectangles, thick lines, gray images
// (scaled, MNIST digits) and text through a Font.
#pragma once

#include <cstdint>
#include <string>

#include "core/report/font.hpp"
#include "core/report/png.hpp"

namespace ringtrain {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
  std::string css() const;  // "#rrggbb"
};

enum class Align { left, center, right };

class Canvas {
 public:
  Canvas(int width, int height, Color background);

  void fill_rect(double x, double y, double width, double height, Color color);
  // A line `thickness` pixels wide (discs stamped along it).
  void line(double x0, double y0, double x1, double y1, Color color, double thickness);
  // A gray image scaled by `scale`; `inverted` draws 255 as black (MNIST digits are white on black).
  void gray_image(const Image& gray, int x, int y, int scale, bool inverted);
  // Text whose top-left (left align) or top-centre (center) is at (x, y).
  void text(const std::string& text, double x, double y, int pixel_size, Color color, const Font& font,
            Align align = Align::left);

  const Image& image() const { return image_; }

 private:
  void blend(int x, int y, Color color, double alpha);
  Image image_;
};

}  // namespace ringtrain
