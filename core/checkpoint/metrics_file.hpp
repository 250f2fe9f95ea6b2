// MetricsFile: rank 0's metrics.h5 in the run directory, appended to as training goes. Layout:
//   /steps/{global_step, epoch, loss, accuracy, learning_rate, images_per_second}   every --log-every steps
//   /epochs/{epoch, loss, accuracy, val_loss, val_accuracy, learning_rate, seconds}  every epoch
//   attribute steps_per_epoch
// All are extendable float64 series with fletcher32 checksums. The file is flushed at every epoch's end and
// before every checkpoint, so the rows up to the checkpoint a run resumes from survive a crash. A resumed run
// first drops the rows written after the position it resumes from, then continues the same series; when the
// file's contents cannot be read, it is renamed to metrics.h5.damaged-<time> and a new one begun (a file this
// user may not open for writing, or a directory of that name, is an error instead).
#pragma once

#include <filesystem>
#include <memory>

#include "core/train/observer.hpp"
#include "core/train/training_position.hpp"

namespace ringtrain {

class Hdf5File;

class MetricsFile final : public TrainingObserver {
 public:
  // Opens (or creates) `path`, keeping only the rows up to `resumed_from`; a damaged file is set aside.
  // Throws Error when `path` exists but is not a regular file this user can read and write.
  MetricsFile(const std::filesystem::path& path, std::int64_t log_every,
              const TrainingPosition& resumed_from);
  ~MetricsFile() override;

  void on_step_end(const StepMetrics& metrics) override;
  void on_epoch_end(const EpochMetrics& metrics) override;
  // Writes what is buffered to the operating system.
  void flush();
  // The open file, for readers in this process (the report).
  const Hdf5File& file() const { return *file_; }

 private:
  std::unique_ptr<Hdf5File> file_;
  std::int64_t log_every_;
  bool steps_per_epoch_written_ = false;
};

}  // namespace ringtrain
