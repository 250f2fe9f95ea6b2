// CsvLogger: one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds), as Keras'
// CSVLogger; the file is flushed after every row.
#pragma once

#include <filesystem>
#include <fstream>

#include "core/train/observer.hpp"

namespace ringtrain {

class CsvLogger final : public TrainingObserver {
 public:
  explicit CsvLogger(const std::filesystem::path& path);
  void on_epoch_end(const EpochMetrics& metrics) override;

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace ringtrain
