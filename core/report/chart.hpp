// Chart: a line chart described once (series, axes, ticks) and drawn twice: as inline SVG for the report page
// and on a Canvas for the PNG files, so both show the same thing.
#pragma once

#include <string>
#include <vector>

#include "core/report/canvas.hpp"

namespace ringtrain {

struct Series {
  std::string label;
  std::vector<double> x, y;
  Color color;
  double width = 1.5;  // thin for training values, thick for validation
  bool steps = false;  // a step plot (the learning rate)
};

struct Chart {
  std::string title;
  std::string x_label = "epoch";
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  std::vector<Series> series;
};

// The y range that shows the interesting part: for accuracies that end above 0.9, 0.9 (or a little below the
// lowest validation value) to 1.0; otherwise the data's range with a margin.
void fit_y_range(Chart& chart, bool accuracy);

std::string chart_svg(const Chart& chart, int width, int height);
void draw_chart(Canvas& canvas, const Chart& chart, int left, int top, int width, int height,
                const Font& font);

}  // namespace ringtrain
