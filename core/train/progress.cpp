// ProgressPrinter: formatting of the per-epoch progress lines.
#include "core/train/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "core/check.hpp"
#include "core/text_format.hpp"

namespace ringtrain {

namespace {

std::string bar(std::int64_t done, std::int64_t total) {
  constexpr int kWidth = 30;
  const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string text(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) text += '>' + std::string(static_cast<std::size_t>(kWidth - filled - 1), '.');
  return "[" + text + "]";
}

std::string counter(std::int64_t done, std::int64_t total) {
  const std::string total_text = std::to_string(total);
  std::string done_text = std::to_string(done);
  return std::string(total_text.size() - std::min(total_text.size(), done_text.size()), ' ') + done_text +
         "/" + total_text;
}

// " - name: value": 4 decimals as Keras prints them, in exponent form (1.2346e+31, 2.5000e-05) where fixed
// point would show nothing or a run of digits.
std::string metric(const char* name, double value) {
  const double size = std::fabs(value);
  const bool exponent = size >= 1e6 || (size > 0 && size < 1e-3);
  return std::string(" - ") + name + ": " + format_number(exponent ? "%.4e" : "%.4f", value);
}

std::string metrics_text(const StepMetrics& m) {
  return format_number(" - %.0f img/s", m.images_per_second) + metric("loss", m.loss) +
         metric("accuracy", m.accuracy);
}

// A step's time as Keras prints it: whole seconds from 1 s, else whole milliseconds, else microseconds.
std::string step_time_text(double milliseconds) {
  if (milliseconds >= 999.5) return format_number(" %.0fs/step", milliseconds / 1000);
  if (milliseconds >= 0.9995) return format_number(" %.0fms/step", milliseconds);
  return format_number(" %.0fus/step", milliseconds * 1000);
}

}  // namespace

ProgressStyle progress_style_for_stdout() {
  return isatty(STDOUT_FILENO) ? ProgressStyle::live : ProgressStyle::plain;
}

ProgressStyle progress_style(const std::string& verbose, const std::string& source) {
  if (verbose == "auto") return progress_style_for_stdout();
  if (verbose == "0") return ProgressStyle::silent;
  if (verbose == "1") return ProgressStyle::live;
  if (verbose == "2") return ProgressStyle::plain;
  RT_FAIL(source << ": verbose=" << verbose
                 << " is not auto, 0 (silent), 1 (a live progress bar) or 2 (one line per epoch)");
}

ProgressPrinter::ProgressPrinter(std::ostream& out, ProgressStyle style) : out_(out), style_(style) {}

ProgressPrinter::~ProgressPrinter() {
  end_line();
}

void ProgressPrinter::end_line() {
  if (line_open_) out_ << std::endl;
  line_open_ = false;
}

void ProgressPrinter::on_epoch_begin(int epoch, int epochs, double learning_rate) {
  if (style_ == ProgressStyle::silent) return;
  out_ << "Epoch " << epoch + 1 << "/" << epochs << format_number(" - learning rate %.6g", learning_rate)
       << std::endl;
  last_print_ = {};
}

void ProgressPrinter::on_step_end(const StepMetrics& metrics) {
  last_ = metrics;
  if (style_ != ProgressStyle::live) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last_step = metrics.step + 1 == metrics.steps;
  if (!last_step && now - last_print_ < std::chrono::milliseconds(100)) return;
  last_print_ = now;
  const double per_step =
      metrics.elapsed_seconds / static_cast<double>(metrics.step + 1 - metrics.first_step);
  const double eta = per_step * static_cast<double>(metrics.steps - metrics.step - 1);
  out_ << "\r" << counter(metrics.step + 1, metrics.steps) << " " << bar(metrics.step + 1, metrics.steps)
       << format_number(" - ETA: %.0fs", eta) << metrics_text(metrics) << "\033[K" << std::flush;
  line_open_ = true;
}

void ProgressPrinter::on_epoch_end(const EpochMetrics& metrics) {
  if (style_ == ProgressStyle::silent) return;
  const double per_step_ms =
      1000.0 * metrics.seconds / static_cast<double>(std::max<std::int64_t>(metrics.steps_run, 1));
  if (style_ == ProgressStyle::live) out_ << "\r";
  out_ << counter(last_.steps, last_.steps) << " " << bar(1, 1) << format_number(" - %.0fs", metrics.seconds)
       << step_time_text(per_step_ms) << format_number(" - %.0f img/s", metrics.images_per_second)
       << metric("loss", metrics.loss) << metric("accuracy", metrics.accuracy)
       << metric("val_loss", metrics.val_loss) << metric("val_accuracy", metrics.val_accuracy);
  if (style_ == ProgressStyle::live) out_ << "\033[K";
  out_ << std::endl;
  line_open_ = false;
}

}  // namespace ringtrain
