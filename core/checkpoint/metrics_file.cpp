// MetricsFile: the two groups of series, their rows, and trimming on resume.
#include "core/checkpoint/metrics_file.hpp"

#include "core/check.hpp"
#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/hdf5_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/file_access.hpp"

#include <cstring>

namespace ringtrain {

namespace {

const std::vector<std::string> kStepSeries{"global_step", "epoch",         "loss",
                                           "accuracy",    "learning_rate", "images_per_second"};
const std::vector<std::string> kEpochSeries{"epoch",        "loss",          "accuracy", "val_loss",
                                            "val_accuracy", "learning_rate", "seconds"};

// Keeps the rows of `group` whose `key` series is at most `limit`.
void keep_rows_up_to(Hdf5File& file, const std::string& group, const std::vector<std::string>& series,
                     const std::string& key, double limit) {
  if (!file.exists(group + "/" + key)) return;
  const auto keys = file.read_doubles(group + "/" + key).values;
  std::int64_t keep = 0;
  while (keep < static_cast<std::int64_t>(keys.size()) && keys[static_cast<std::size_t>(keep)] <= limit)
    ++keep;
  for (const auto& name : series) {
    if (file.exists(group + "/" + name)) file.truncate(group + "/" + name, keep);
  }
}

// A file that is there but cannot be opened for reading and writing is not damaged: setting it aside would
// not help, so the run stops and says why.
void require_read_write(const std::filesystem::path& path) {
  RT_CHECK(std::filesystem::is_regular_file(path),
           path.string() << " is not a regular file: move it out of the run directory, or give this run "
                            "another --run-dir");
  const int error = open_error(path, "r+b");
  RT_CHECK(error == 0, path.string() << " cannot be opened for reading and writing (" << std::strerror(error)
                                     << "): let this user write it, or give this run another --run-dir");
}

void append_row(Hdf5File& file, const std::string& group, const std::vector<std::string>& series,
                const std::vector<double>& row) {
  for (std::size_t i = 0; i < series.size(); ++i)
    file.append(group + "/" + series[i], {row[i]});
}

}  // namespace

MetricsFile::MetricsFile(const std::filesystem::path& path, std::int64_t log_every,
                         const TrainingPosition& resumed_from)
    : log_every_(std::max<std::int64_t>(log_every, 1)) {
  if (std::filesystem::exists(path)) {
    require_read_write(path);
    try {
      file_ = std::make_unique<Hdf5File>(Hdf5File::open_for_writing(path));
      keep_rows_up_to(*file_, "steps", kStepSeries, "global_step",
                      static_cast<double>(resumed_from.global_step));
      // Epochs are numbered from 0; the epoch in progress at resume has not ended.
      keep_rows_up_to(*file_, "epochs", kEpochSeries, "epoch", static_cast<double>(resumed_from.epoch) - 1);
    } catch (const Error& error) {
      // The metrics of a run matter less than the run: a damaged file is kept aside, and a new one begun.
      file_.reset();
      set_aside_damaged(path, error.what(),
                        "a new " + path.filename().string() + " begins at this run's position");
    }
  }
  if (file_ == nullptr) file_ = std::make_unique<Hdf5File>(Hdf5File::create(path));
  file_->flush();
}

MetricsFile::~MetricsFile() = default;

void MetricsFile::on_step_end(const StepMetrics& metrics) {
  if (!steps_per_epoch_written_) {
    file_->set_attribute("steps_per_epoch", metrics.steps);
    steps_per_epoch_written_ = true;
  }
  if (metrics.global_step % log_every_ != 0) return;
  append_row(*file_, "steps", kStepSeries,
             {static_cast<double>(metrics.global_step), static_cast<double>(metrics.epoch), metrics.loss,
              metrics.accuracy, metrics.learning_rate, metrics.images_per_second});
}

void MetricsFile::flush() {
  file_->flush();
}

void MetricsFile::on_epoch_end(const EpochMetrics& metrics) {
  append_row(*file_, "epochs", kEpochSeries,
             {static_cast<double>(metrics.epoch), metrics.loss, metrics.accuracy, metrics.val_loss,
              metrics.val_accuracy, metrics.learning_rate, metrics.seconds});
  file_->flush();
}

}  // namespace ringtrain
