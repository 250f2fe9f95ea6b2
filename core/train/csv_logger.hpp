// CsvLogger: one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds), as Keras'
// CSVLogger; the file is flushed after every row. A fresh run starts the file anew; a resumed one keeps the
// rows of the epochs before the one it resumes in.
#pragma once

#include <filesystem>
#include <fstream>

#include "core/train/observer.hpp"

namespace ringtrain {

class CsvLogger final : public TrainingObserver {
 public:
  // A resumed run (`resuming`, starting in `first_epoch`) keeps the rows of earlier epochs already in the
  // file, which must then be one that CsvLogger wrote.
  explicit CsvLogger(const std::filesystem::path& path, bool resuming = false, std::int64_t first_epoch = 0);
  void on_epoch_end(const EpochMetrics& metrics) override;

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace ringtrain
