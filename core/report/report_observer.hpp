// ReportObserver: rewrites the run's report page at every epoch's end (train --report), so that a browser
// refresh shows the progress. Rank 0 only; it must be added after the MetricsFile whose series it draws.
#pragma once

#include <iostream>

#include "core/checkpoint/metrics_file.hpp"
#include "core/report/report.hpp"
#include "core/train/observer.hpp"

namespace ringtrain {

class ReportObserver final : public TrainingObserver {
 public:
  ReportObserver(std::filesystem::path run_dir, const MetricsFile& metrics, Sequential& model,
                 ReportContent content, const data::Dataset& validation)
      : run_dir_(std::move(run_dir)),
        metrics_(metrics),
        model_(model),
        content_(std::move(content)),
        validation_(validation),
        font_(Font::default_font()) {}

  // A report that cannot be drawn is a warning: training goes on.
  void on_epoch_end(const EpochMetrics&) override {
    try {
      write_report(run_dir_, metrics_.file(), model_, content_, validation_, font_);
    } catch (const Error& error) {
      std::cerr << "ringtrain: warning: no report this epoch: " << error.what() << std::endl;
    }
  }

 private:
  std::filesystem::path run_dir_;
  const MetricsFile& metrics_;
  Sequential& model_;
  ReportContent content_;
  const data::Dataset& validation_;
  Font font_;
};

}  // namespace ringtrain
