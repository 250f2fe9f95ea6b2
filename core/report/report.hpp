// The report page of a run (the codelab's pictures): report.html in the run directory, one self-contained
// page with inline SVG charts (loss and accuracy, training thin and validation thick, x in epochs; the
// learning-rate schedule as a step plot), the model summary, the final metrics, the configuration, and the
// prediction grid (a row of digits 0-9 rendered from the font, then validation digits, wrong ones first, each
// with its predicted class, red when wrong). curves.png and predictions.png show the same beside it.
#pragma once

#include <filesystem>
#include <string>

#include "core/checkpoint/hdf5_file.hpp"
#include "core/data/mnist.hpp"
#include "core/model/sequential.hpp"
#include "core/report/font.hpp"

namespace ringtrain {

struct ReportContent {
  std::string title;           // the model's name
  std::string config_text;     // the run's options
  std::string summary;         // the model summary table
  std::int64_t processes = 1;  // how many processes trained it
};

struct ReportCounts {
  std::int64_t wrong = 0;      // misclassified validation digits, of all
  std::int64_t validated = 0;  // validation digits
  int shown = 0;               // digits in the grid (font row excluded)
  int wrong_shown = 0;         // of those, misclassified
  int font_digits_wrong = 0;   // of the font row's 0-9
};

// Writes report.html (atomically: a browser refresh never sees half a page), curves.png and
// predictions.png into `run_dir`, from the metrics series and the model as it is now.
ReportCounts write_report(const std::filesystem::path& run_dir, const Hdf5File& metrics, Sequential& model,
                          const ReportContent& content, const data::Dataset& validation, const Font& font);

}  // namespace ringtrain
