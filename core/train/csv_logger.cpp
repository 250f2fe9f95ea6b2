// CsvLogger: the header and one flushed row per epoch.
#include "core/train/csv_logger.hpp"

#include "core/check.hpp"

namespace ringtrain {

CsvLogger::CsvLogger(const std::filesystem::path& path) : path_(path), out_(path) {
  RT_CHECK(out_.good(), "cannot write the CSV file " << path << ": check that its directory exists");
  out_ << "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n" << std::flush;
}

void CsvLogger::on_epoch_end(const EpochMetrics& m) {
  out_.precision(9);
  out_ << m.epoch << ',' << m.loss << ',' << m.accuracy << ',' << m.val_loss << ',' << m.val_accuracy << ','
       << m.learning_rate << ',' << m.seconds << '\n'
       << std::flush;
  RT_CHECK(out_.good(), "writing the CSV file " << path_ << " failed (disk full?)");
}

}  // namespace ringtrain
