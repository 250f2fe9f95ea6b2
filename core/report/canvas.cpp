// Canvas drawing: plain loops over the pixels, with coverage blending for text.
#include "core/report/canvas.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ringtrain {

std::string Color::css() const {
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", r, g, b);
  return text;
}

Canvas::Canvas(int width, int height, Color background) : image_{width, height, 3, {}} {
  image_.pixels.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < image_.pixels.size(); i += 3) {
    image_.pixels[i] = background.r;
    image_.pixels[i + 1] = background.g;
    image_.pixels[i + 2] = background.b;
  }
}

void Canvas::blend(int x, int y, Color color, double alpha) {
  if (x < 0 || y < 0 || x >= image_.width || y >= image_.height || alpha <= 0) return;
  std::uint8_t* pixel = image_.pixels.data() + (static_cast<std::size_t>(y) * image_.width + x) * 3;
  const double a = std::min(alpha, 1.0);
  pixel[0] = static_cast<std::uint8_t>(std::lround(pixel[0] * (1 - a) + color.r * a));
  pixel[1] = static_cast<std::uint8_t>(std::lround(pixel[1] * (1 - a) + color.g * a));
  pixel[2] = static_cast<std::uint8_t>(std::lround(pixel[2] * (1 - a) + color.b * a));
}

void Canvas::fill_rect(double x, double y, double width, double height, Color color) {
  for (int row = static_cast<int>(std::floor(y)); row < static_cast<int>(std::ceil(y + height)); ++row)
    for (int column = static_cast<int>(std::floor(x)); column < static_cast<int>(std::ceil(x + width));
         ++column)
      blend(column, row, color, 1.0);
}

void Canvas::line(double x0, double y0, double x1, double y1, Color color, double thickness) {
  const double length = std::hypot(x1 - x0, y1 - y0);
  const int steps = std::max(1, static_cast<int>(std::ceil(length * 2)));
  const double radius = std::max(thickness / 2, 0.5);
  for (int i = 0; i <= steps; ++i) {
    const double cx = x0 + (x1 - x0) * i / steps, cy = y0 + (y1 - y0) * i / steps;
    for (int row = static_cast<int>(std::floor(cy - radius)); row <= static_cast<int>(std::ceil(cy + radius));
         ++row)
      for (int column = static_cast<int>(std::floor(cx - radius));
           column <= static_cast<int>(std::ceil(cx + radius)); ++column) {
        if (std::hypot(column + 0.5 - cx, row + 0.5 - cy) <= radius) blend(column, row, color, 1.0);
      }
  }
}

void Canvas::gray_image(const Image& gray, int x, int y, int scale, bool inverted) {
  for (int row = 0; row < gray.height * scale; ++row)
    for (int column = 0; column < gray.width * scale; ++column) {
      const std::uint8_t value = gray.pixels[static_cast<std::size_t>(row / scale) * gray.width +
                                             static_cast<std::size_t>(column / scale)];
      const auto level = static_cast<std::uint8_t>(inverted ? 255 - value : value);
      blend(x + column, y + row, {level, level, level}, 1.0);
    }
}

void Canvas::text(const std::string& text, double x, double y, int pixel_size, Color color, const Font& font,
                  Align align) {
  const Image coverage = font.render(text, pixel_size);
  const int left = static_cast<int>(std::lround(align == Align::left     ? x
                                                : align == Align::center ? x - coverage.width / 2.0
                                                                         : x - coverage.width));
  for (int row = 0; row < coverage.height; ++row)
    for (int column = 0; column < coverage.width; ++column)
      blend(left + column, static_cast<int>(y) + row, color,
            coverage.pixels[static_cast<std::size_t>(row) * coverage.width + column] / 255.0);
}

}  // namespace ringtrain
