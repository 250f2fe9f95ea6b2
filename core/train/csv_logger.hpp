// CsvLogger: one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds), as Keras'
// CSVLogger; the file is flushed after every row. A fresh run starts the file anew; a resumed one keeps the
// rows of the epochs before the one it resumes in, checked first (csv_rows_kept) and written when it starts.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/train/observer.hpp"

namespace ringtrain {

// Where a resumed run starts: its first epoch, and the validation accuracy of the epoch before (-1: none).
struct CsvResumePoint {
  std::int64_t first_epoch = 0;
  double last_val_accuracy = -1;
};

// The rows of earlier epochs that a resumed run keeps from `path` (none for a fresh run or a missing file),
// after checking that the file is one that CsvLogger wrote for this run: its row of the epoch before
// `resumed.first_epoch`, when it has one, has the run's validation accuracy. Reads only.
std::vector<std::string> csv_rows_kept(const std::filesystem::path& path,
                                       std::optional<CsvResumePoint> resumed);

class CsvLogger final : public TrainingObserver {
 public:
  // Starts `path` with the header and the `kept` rows (from csv_rows_kept), replacing the file whole.
  explicit CsvLogger(const std::filesystem::path& path, const std::vector<std::string>& kept = {});
  void on_epoch_end(const EpochMetrics& metrics) override;

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace ringtrain
