// ProgressPrinter: Keras-like progress output. On a terminal one live line per epoch (step/steps, bar,
// ETA, img/s, loss, accuracy); elsewhere one plain line per epoch; or nothing (Keras' verbose 0). Then
// validation loss and accuracy.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "core/train/observer.hpp"

namespace ringtrain {

enum class ProgressStyle { live, plain, silent };

class ProgressPrinter final : public TrainingObserver {
 public:
  ProgressPrinter(std::ostream& out, ProgressStyle style);
  // Ends the live line (end_line()), so that what follows an error starts on a line of its own.
  ~ProgressPrinter() override;
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  void on_epoch_begin(int epoch, int epochs, double learning_rate) override;
  void on_step_end(const StepMetrics& metrics) override;
  void on_epoch_end(const EpochMetrics& metrics) override;
  // Ends the live line an unfinished epoch left open (before a message about why it stopped).
  void end_line();

 private:
  std::ostream& out_;
  ProgressStyle style_;
  StepMetrics last_;
  std::chrono::steady_clock::time_point last_print_;
  bool line_open_ = false;  // a live line printed and not yet ended
};

// live when standard output is a terminal.
ProgressStyle progress_style_for_stdout();
// --verbose as Keras' fit takes it: auto (progress_style_for_stdout), 0 silent, 1 live, 2 plain; another
// value is an error naming `source`.
ProgressStyle progress_style(const std::string& verbose, const std::string& source);

}  // namespace ringtrain
