// Chart layout (plot area, ticks) shared by the SVG and raster renderers.
#include "core/report/chart.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace ringtrain {

namespace {

const Color kAxis{90, 90, 90}, kGrid{225, 225, 225}, kText{40, 40, 40};

// The plot area inside a chart's box, and the mapping of data to it.
struct Layout {
  double left, top, width, height;
  const Chart& chart;
  double x(double value) const { return left + (value - chart.x_min) / (chart.x_max - chart.x_min) * width; }
  double y(double value) const {
    const double clamped = std::clamp(value, chart.y_min, chart.y_max);
    return top + height - (clamped - chart.y_min) / (chart.y_max - chart.y_min) * height;
  }
};

Layout layout(const Chart& chart, double left, double top, double width, double height) {
  return {left + 58, top + 30, width - 58 - 16, height - 30 - 42, chart};
}

std::vector<double> ticks(double low, double high, int wanted) {
  const double raw = (high - low) / wanted;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double factor : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = factor * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> values;
  for (double value = std::ceil(low / step - 1e-9) * step; value <= high + step * 1e-9; value += step)
    values.push_back(std::abs(value) < step * 1e-9 ? 0.0 : value);
  return values;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// The points of a series as drawn: a step plot holds each value until the next x.
// Non-finite values (a diverged loss) are left out; series of unequal lengths (a file still being written)
// are cut to the shorter.
std::vector<std::pair<double, double>> points(const Series& series, double x_max) {
  std::vector<std::pair<double, double>> drawn;
  for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i) {
    if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) continue;
    if (series.steps && !drawn.empty()) drawn.emplace_back(series.x[i], drawn.back().second);
    drawn.emplace_back(series.x[i], series.y[i]);
  }
  if (series.steps && !drawn.empty()) drawn.emplace_back(x_max, drawn.back().second);
  return drawn;
}

// Points drawn as dots too: every validation point (one per epoch), and a lone point of any series.
bool marked(const Series& series, std::size_t points_in_run) {
  return (series.width > 2 && !series.steps) || points_in_run == 1;
}

// The drawn points split into runs inside [y_min, y_max]: a line leaving the range ends at its edge and
// starts again where it comes back, instead of running along the edge.
std::vector<std::vector<std::pair<double, double>>> visible_runs(
    const std::vector<std::pair<double, double>>& drawn, double y_min, double y_max) {
  std::vector<std::vector<std::pair<double, double>>> runs;
  auto inside = [&](double y) { return y >= y_min && y <= y_max; };
  auto crossing = [&](std::pair<double, double> a, std::pair<double, double> b) {
    const double edge = (a.second < y_min || b.second < y_min) ? y_min : y_max;
    const double t = (edge - a.second) / (b.second - a.second);
    return std::pair{a.first + t * (b.first - a.first), edge};
  };
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const auto& point = drawn[i];
    const bool was_inside = i > 0 && inside(drawn[i - 1].second);
    if (inside(point.second)) {
      if (!was_inside) {
        runs.emplace_back();
        if (i > 0) runs.back().push_back(crossing(drawn[i - 1], point));
      }
      runs.back().push_back(point);
    } else if (was_inside) {
      runs.back().push_back(crossing(drawn[i - 1], point));
    }
  }
  return runs;
}

}  // namespace

void fit_y_range(Chart& chart, bool accuracy) {
  double low = std::numeric_limits<double>::infinity(), high = -low, validation_low = low, last = 0;
  for (const auto& series : chart.series) {
    for (const double value : series.y) {
      if (!std::isfinite(value)) continue;
      low = std::min(low, value);
      high = std::max(high, value);
      if (series.width > 2) {  // validation
        validation_low = std::min(validation_low, value);
        last = value;
      }
    }
  }
  if (!std::isfinite(low)) low = 0, high = 1;
  if (accuracy && last > 0.9) {
    chart.y_min = std::min(0.9, std::floor(validation_low * 100) / 100);
    chart.y_max = 1.0;
    return;
  }
  const double margin = std::max({(high - low) * 0.05, std::abs(high) * 1e-3, 1e-6});
  chart.y_min = accuracy ? std::max(0.0, low - margin) : std::max(0.0, low - margin);
  chart.y_max = accuracy ? std::min(1.0, high + margin) : high + margin;
}

std::string chart_svg(const Chart& chart, int width, int height) {
  const Layout area = layout(chart, 0, 0, width, height);
  std::ostringstream svg;
  svg << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
      << height << "\" viewBox=\"0 0 " << width << ' ' << height
      << "\" font-family=\"DejaVu Sans, sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" fill=\""
      << kText.css() << "\">" << chart.title << "</text>\n";
  for (const double value : ticks(chart.y_min, chart.y_max, 5)) {
    svg << "<line x1=\"" << area.left << "\" x2=\"" << area.left + area.width << "\" y1=\"" << area.y(value)
        << "\" y2=\"" << area.y(value) << "\" stroke=\"" << kGrid.css() << "\"/>"
        << "<text x=\"" << area.left - 6 << "\" y=\"" << area.y(value) + 4
        << "\" text-anchor=\"end\" font-size=\"11\" fill=\"" << kText.css() << "\">" << number(value)
        << "</text>\n";
  }
  for (const double value : ticks(chart.x_min, chart.x_max, 8)) {
    svg << "<text x=\"" << area.x(value) << "\" y=\"" << area.top + area.height + 16
        << "\" text-anchor=\"middle\" font-size=\"11\" fill=\"" << kText.css() << "\">" << number(value)
        << "</text>\n";
  }
  svg << "<rect x=\"" << area.left << "\" y=\"" << area.top << "\" width=\"" << area.width << "\" height=\""
      << area.height << "\" fill=\"none\" stroke=\"" << kAxis.css() << "\"/>\n"
      << "<text x=\"" << area.left + area.width / 2 << "\" y=\"" << height - 8
      << "\" text-anchor=\"middle\" font-size=\"12\" fill=\"" << kText.css() << "\">" << chart.x_label
      << "</text>\n";
  double legend_x = area.left + 8;
  for (const auto& series : chart.series) {
    svg << "<path class=\"series\" fill=\"none\" stroke=\"" << series.color.css() << "\" stroke-width=\""
        << series.width << "\" d=\"";
    for (const auto& run : visible_runs(points(series, chart.x_max), chart.y_min, chart.y_max)) {
      for (std::size_t i = 0; i < run.size(); ++i)
        svg << (i == 0 ? 'M' : 'L') << area.x(run[i].first) << ',' << area.y(run[i].second) << ' ';
    }
    svg << "\"/>\n";
    for (const auto& run : visible_runs(points(series, chart.x_max), chart.y_min, chart.y_max)) {
      for (const auto& [x, y] : run) {
        if (marked(series, run.size()))
          svg << "<circle cx=\"" << area.x(x) << "\" cy=\"" << area.y(y) << "\" r=\""
              << std::max(series.width, 2.5) << "\" fill=\"" << series.color.css() << "\"/>";
      }
    }
    svg << "<line x1=\"" << legend_x << "\" x2=\"" << legend_x + 18 << "\" y1=\"" << area.top + 12
        << "\" y2=\"" << area.top + 12 << "\" stroke=\"" << series.color.css() << "\" stroke-width=\""
        << series.width << "\"/><text x=\"" << legend_x + 22 << "\" y=\"" << area.top + 16
        << "\" font-size=\"11\" fill=\"" << kText.css() << "\">" << series.label << "</text>\n";
    legend_x += 30 + 7.0 * static_cast<double>(series.label.size());
  }
  svg << "</svg>\n";
  return svg.str();
}

void draw_chart(Canvas& canvas, const Chart& chart, int left, int top, int width, int height,
                const Font& font) {
  const Layout area = layout(chart, left, top, width, height);
  canvas.text(chart.title, left + width / 2.0, top + 4, 15, kText, font, Align::center);
  for (const double value : ticks(chart.y_min, chart.y_max, 5)) {
    canvas.line(area.left, area.y(value), area.left + area.width, area.y(value), kGrid, 1);
    canvas.text(number(value), area.left - 6, area.y(value) - 8, 11, kText, font, Align::right);
  }
  for (const double value : ticks(chart.x_min, chart.x_max, 8))
    canvas.text(number(value), area.x(value), area.top + area.height + 4, 11, kText, font, Align::center);
  canvas.text(chart.x_label, area.left + area.width / 2, top + height - 20, 12, kText, font, Align::center);
  const double right = area.left + area.width, bottom = area.top + area.height;
  using Segment = std::array<double, 4>;
  for (const auto& [x0, y0, x1, y1] :
       {Segment{area.left, area.top, right, area.top}, Segment{right, area.top, right, bottom},
        Segment{right, bottom, area.left, bottom}, Segment{area.left, bottom, area.left, area.top}})
    canvas.line(x0, y0, x1, y1, kAxis, 1);
  double legend_x = area.left + 8;
  for (const auto& series : chart.series) {
    for (const auto& run : visible_runs(points(series, chart.x_max), chart.y_min, chart.y_max)) {
      for (std::size_t i = 1; i < run.size(); ++i)
        canvas.line(area.x(run[i - 1].first), area.y(run[i - 1].second), area.x(run[i].first),
                    area.y(run[i].second), series.color, series.width);
      for (const auto& [x, y] : run) {
        if (marked(series, run.size()))
          canvas.line(area.x(x), area.y(y), area.x(x), area.y(y), series.color,
                      2 * std::max(series.width, 2.5));
      }
    }
    canvas.line(legend_x, area.top + 12, legend_x + 18, area.top + 12, series.color, series.width);
    canvas.text(series.label, legend_x + 22, area.top + 5, 11, kText, font);
    legend_x += 30 + 7.0 * static_cast<double>(series.label.size());
  }
}

}  // namespace ringtrain
