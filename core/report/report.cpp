// The report: series from metrics.h5 into charts, predictions into the grid, both into HTML and PNG.
#include "core/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "core/atomic_write.hpp"
#include "core/report/chart.hpp"

namespace ringtrain {

namespace {

namespace fs = std::filesystem;

const Color kTraining{31, 119, 180}, kValidation{255, 127, 14}, kRate{44, 160, 44};
const Color kWrong{208, 0, 0}, kRight{32, 32, 32};
constexpr int kGridColumns = 20, kGridDigits = 100, kLabelPixels = 18;

struct Cell {
  Image digit;  // 28x28, white on black
  int label = 0;
  int predicted = 0;
};

std::vector<double> series(const Hdf5File& metrics, const std::string& name) {
  return metrics.exists(name) ? metrics.read_doubles(name).values : std::vector<double>{};
}

std::string escape(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '<')
      escaped += "&lt;";
    else if (c == '>')
      escaped += "&gt;";
    else if (c == '&')
      escaped += "&amp;";
    else if (c == '"')
      escaped += "&quot;";
    else
      escaped += c;
  }
  return escaped;
}

// The charts: loss, accuracy and learning rate over epochs.
std::array<Chart, 3> charts(const Hdf5File& metrics) {
  const double steps_per_epoch = static_cast<double>(
      std::max<std::int64_t>(metrics.integer_attribute("steps_per_epoch").value_or(1), 1));
  std::vector<double> step_x = series(metrics, "steps/global_step");
  for (auto& x : step_x)
    x /= steps_per_epoch;
  std::vector<double> epoch_x = series(metrics, "epochs/epoch");
  for (auto& x : epoch_x)
    x += 1;  // validation happens at the end of its epoch
  // The rate of every logged step, so that a warm-up within an epoch shows; per epoch when no step is logged.
  std::vector<double> rate_x = step_x, rate_y = series(metrics, "steps/learning_rate");
  if (rate_y.empty())
    rate_x = series(metrics, "epochs/epoch"), rate_y = series(metrics, "epochs/learning_rate");
  const double x_max =
      std::max({1.0, step_x.empty() ? 0.0 : step_x.back(), epoch_x.empty() ? 0.0 : epoch_x.back()});

  Chart loss{"loss", "epoch", 0, x_max, 0, 1, {}};
  loss.series.push_back({"training", step_x, series(metrics, "steps/loss"), kTraining, 1.2, false});
  loss.series.push_back({"validation", epoch_x, series(metrics, "epochs/val_loss"), kValidation, 3.5, false});
  fit_y_range(loss, false);
  Chart accuracy{"accuracy", "epoch", 0, x_max, 0, 1, {}};
  accuracy.series.push_back({"training", step_x, series(metrics, "steps/accuracy"), kTraining, 1.2, false});
  accuracy.series.push_back(
      {"validation", epoch_x, series(metrics, "epochs/val_accuracy"), kValidation, 3.5, false});
  fit_y_range(accuracy, true);
  Chart rate{"learning rate", "epoch", 0, x_max, 0, 1, {}};
  rate.series.push_back({"learning rate", rate_x, rate_y, kRate, 2.0, true});
  fit_y_range(rate, false);
  rate.y_min = 0;
  rate.y_max *= 1.1;  // a constant rate is drawn below the frame, not on it
  return {loss, accuracy, rate};
}

// The model's classes for a batch of 28x28 digits (white on black, 0..255).
std::vector<int> classify(Sequential& model, const std::vector<const std::uint8_t*>& digits) {
  std::vector<float> values;
  for (const auto* digit : digits)
    for (int i = 0; i < 28 * 28; ++i)
      values.push_back(static_cast<float>(digit[i]) / 256.0f);
  const auto count = static_cast<std::int64_t>(digits.size());
  const Tensor probabilities = model.predict(Tensor::from_vector({count, 28, 28, 1}, values));
  RT_CHECK(probabilities.rank() == 2, "the report needs a model whose output is [batch, classes], not "
                                          << to_string(probabilities.shape()));
  const std::int64_t classes = probabilities.shape()[1];
  std::vector<int> predicted;
  for (std::int64_t row = 0; row < count; ++row) {
    const float* p = probabilities.data<float>() + row * classes;
    predicted.push_back(static_cast<int>(std::max_element(p, p + classes) - p));
  }
  return predicted;
}

// Digits 0-9 rendered from the font, centred in 28x28 like MNIST's (white on black, about 20 pixels tall).
std::vector<Cell> font_digits(Sequential& model, const Font& font) {
  std::vector<Cell> cells;
  std::vector<const std::uint8_t*> pointers;
  for (int digit = 0; digit < 10; ++digit) {
    const Image glyph = font.render(std::to_string(digit), 26);
    int top = glyph.height, bottom = -1, left = glyph.width, right = -1;
    for (int y = 0; y < glyph.height; ++y)
      for (int x = 0; x < glyph.width; ++x)
        if (glyph.pixels[static_cast<std::size_t>(y) * glyph.width + x] > 0) {
          top = std::min(top, y), bottom = std::max(bottom, y), left = std::min(left, x),
          right = std::max(right, x);
        }
    Cell cell{{28, 28, 1, std::vector<std::uint8_t>(28 * 28, 0)}, digit, 0};
    const int offset_y = 14 - (top + bottom + 1) / 2, offset_x = 14 - (left + right + 1) / 2;
    for (int y = top; y <= bottom; ++y)
      for (int x = left; x <= right; ++x) {
        const int ty = y + offset_y, tx = x + offset_x;
        if (ty >= 0 && ty < 28 && tx >= 0 && tx < 28)
          cell.digit.pixels[static_cast<std::size_t>(ty) * 28 + tx] =
              glyph.pixels[static_cast<std::size_t>(y) * glyph.width + x];
      }
    cells.push_back(std::move(cell));
  }
  for (const auto& cell : cells)
    pointers.push_back(cell.digit.pixels.data());
  const auto predicted = classify(model, pointers);
  for (std::size_t i = 0; i < cells.size(); ++i)
    cells[i].predicted = predicted[i];
  return cells;
}

// Every validation digit classified; the grid's cells: the wrong ones first, then right ones, kGridDigits.
std::vector<Cell> validation_cells(Sequential& model, const data::Dataset& validation, ReportCounts& counts) {
  std::vector<int> predicted;
  for (std::int64_t begin = 0; begin < validation.count(); begin += 500) {
    std::vector<const std::uint8_t*> pointers;
    for (std::int64_t i = begin; i < std::min(validation.count(), begin + 500); ++i)
      pointers.push_back(validation.image_pixels(i).data());
    const auto batch = classify(model, pointers);
    predicted.insert(predicted.end(), batch.begin(), batch.end());
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(validation.count()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_partition(order.begin(), order.end(), [&](std::int64_t i) {
    return predicted[static_cast<std::size_t>(i)] != validation.label(i);
  });
  counts.validated = validation.count();
  for (std::int64_t i = 0; i < validation.count(); ++i)
    counts.wrong += predicted[static_cast<std::size_t>(i)] != validation.label(i);
  std::vector<Cell> cells;
  for (std::size_t k = 0; k < std::min<std::size_t>(order.size(), kGridDigits); ++k) {
    const std::int64_t i = order[k];
    const auto pixels = validation.image_pixels(i);
    Cell cell{{28, 28, 1, std::vector<std::uint8_t>(pixels.begin(), pixels.end())},
              validation.label(i),
              predicted[static_cast<std::size_t>(i)]};
    counts.wrong_shown += cell.label != cell.predicted;
    cells.push_back(std::move(cell));
  }
  counts.shown = static_cast<int>(cells.size());
  return cells;
}

std::string grid_html(const std::vector<Cell>& cells, const std::string& id) {
  std::ostringstream html;
  html << "<div class=\"grid\" id=\"" << id << "\">\n";
  for (const auto& cell : cells) {
    const bool wrong = cell.label != cell.predicted;
    html << "<figure class=\"digit\" data-label=\"" << cell.label << "\" data-predicted=\"" << cell.predicted
         << "\"><img alt=\"digit " << cell.label
         << "\" width=\"56\" height=\"56\" src=\"data:image/png;base64," << base64(encode_png(cell.digit))
         << "\"><figcaption class=\"" << (wrong ? "wrong" : "right") << "\">" << cell.predicted
         << "</figcaption></figure>\n";
  }
  html << "</div>\n";
  return html.str();
}

// The grid as a picture: rows of kGridColumns digits (scaled 2x) with their labels below.
Image grid_png(const std::vector<Cell>& font_row, const std::vector<Cell>& cells, const Font& font) {
  const int cell_width = 64, cell_height = 84;
  const int rows = 1 + static_cast<int>((cells.size() + kGridColumns - 1) / kGridColumns);
  Canvas canvas(kGridColumns * cell_width + 16, rows * cell_height + 24, {255, 255, 255});
  auto draw = [&](const Cell& cell, int index, int row) {
    const int x = 8 + index * cell_width, y = 12 + row * cell_height;
    canvas.gray_image(cell.digit, x + 4, y, 2, true);
    canvas.text(std::to_string(cell.predicted), x + 32, y + 58, kLabelPixels,
                cell.label != cell.predicted ? kWrong : kRight, font, Align::center);
  };
  for (std::size_t i = 0; i < font_row.size(); ++i)
    draw(font_row[i], static_cast<int>(i), 0);
  for (std::size_t i = 0; i < cells.size(); ++i)
    draw(cells[i], static_cast<int>(i % kGridColumns), 1 + static_cast<int>(i / kGridColumns));
  return canvas.image();
}

}  // namespace

ReportCounts write_report(const fs::path& run_dir, const Hdf5File& metrics, Sequential& model,
                          const ReportContent& content, const data::Dataset& validation, const Font& font) {
  RT_CHECK(validation.rows() == 28 && validation.cols() == 28 && model.input_shape().numel() == 28 * 28,
           "the report draws 28x28 digits for a model of 784 inputs; this run has "
               << validation.rows() << "x" << validation.cols() << " images and a model input of "
               << to_string(model.input_shape()));
  ReportCounts counts;
  const auto [loss, accuracy, rate] = charts(metrics);
  const auto font_row = font_digits(model, font);
  for (const auto& cell : font_row)
    counts.font_digits_wrong += cell.label != cell.predicted;
  const auto cells = validation_cells(model, validation, counts);

  Canvas curves(1200, 700, {255, 255, 255});
  draw_chart(curves, loss, 0, 0, 600, 400, font);
  draw_chart(curves, accuracy, 600, 0, 600, 400, font);
  draw_chart(curves, rate, 0, 420, 600, 280, font);
  write_file_atomically(run_dir / "curves.png", encode_png(curves.image()));
  write_file_atomically(run_dir / "predictions.png", encode_png(grid_png(font_row, cells, font)));

  const auto val_accuracy = series(metrics, "epochs/val_accuracy");
  auto val_loss = series(metrics, "epochs/val_loss");
  val_loss.resize(val_accuracy.size(),
                  std::numeric_limits<double>::quiet_NaN());  // a file still being written
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << escape(content.title)
       << " - ringtrain report</title>\n<style>\n"
       << "body{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#202020;background:#fff}\n"
       << ".charts{display:flex;flex-wrap:wrap;gap:12px}\n"
       << ".grid{display:grid;grid-template-columns:repeat(auto-fill,64px);gap:4px;margin:8px 0 20px}\n"
       << ".digit{margin:0;text-align:center}.digit img{image-rendering:pixelated;display:block;margin:0 "
          "auto}\n"
       << "figcaption{font-size:" << kLabelPixels << "px;font-weight:bold;line-height:22px}\n"
       << ".right{color:" << kRight.css() << "}.wrong{color:" << kWrong.css() << "}\n"
       << "pre{background:#f6f6f6;padding:10px;font-size:12px;overflow-x:auto}\n</style></head><body>\n"
       << "<h1>" << escape(content.title) << "</h1>\n<p id=\"final\">";
  if (!val_accuracy.empty()) {
    char text[160];
    std::snprintf(text, sizeof text, "after %zu epoch(s): validation accuracy %.4f, validation loss %.4f",
                  val_accuracy.size(), val_accuracy.back(), val_loss.back());
    html << text;
  } else {
    html << "no epoch has finished yet";
  }
  html << "</p>\n<div class=\"charts\">\n"
       << chart_svg(loss, 600, 400) << chart_svg(accuracy, 600, 400) << "</div>\n"
       << "<div class=\"charts\">\n"
       << chart_svg(rate, 600, 280) << "</div>\n"
       << "<h2>Predictions</h2>\n<p>Digits 0-9 rendered from the font " << escape(font.family()) << " ("
       << escape(font.path().string()) << "): " << counts.font_digits_wrong << " wrong.</p>\n"
       << grid_html(font_row, "font-digits") << "<p id=\"errors\">Validation: " << counts.wrong << " of "
       << counts.validated << " digits misclassified. Shown: " << counts.shown << " digits, the "
       << counts.wrong_shown
       << " misclassified first; the predicted class is under each digit, in red when wrong.</p>\n"
       << grid_html(cells, "validation-digits") << "<h2>Model</h2>\n<pre>" << escape(content.summary)
       << "</pre>\n<h2>Configuration</h2>\n<p>Trained on " << content.processes << " process(es).</p>\n<pre>"
       << escape(content.config_text) << "</pre>\n"
       << "<p>Also: curves.png and predictions.png in this directory.</p>\n</body></html>\n";
  write_file_atomically(run_dir / "report.html", html.str());
  return counts;
}

}  // namespace ringtrain
