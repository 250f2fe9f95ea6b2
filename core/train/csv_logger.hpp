// CsvLogger: one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds), as Keras'
// CSVLogger; the file is flushed after every row. A fresh run starts the file anew; a resumed one keeps the
// rows of the epochs before the one it resumes in.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>

#include "core/train/observer.hpp"

namespace ringtrain {

// Where a resumed run starts: its first epoch, and the validation accuracy of the epoch before (-1: none).
struct CsvResumePoint {
  std::int64_t first_epoch = 0;
  double last_val_accuracy = -1;
};

class CsvLogger final : public TrainingObserver {
 public:
  // A resumed run keeps the rows of earlier epochs already in the file, which must then be one that
  // CsvLogger wrote for this run: its row of the epoch before `resumed.first_epoch`, when it has one, has
  // the run's validation accuracy.
  explicit CsvLogger(const std::filesystem::path& path, std::optional<CsvResumePoint> resumed = std::nullopt);
  void on_epoch_end(const EpochMetrics& metrics) override;

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace ringtrain
