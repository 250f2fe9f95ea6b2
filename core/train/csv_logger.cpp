// CsvLogger: the header, the rows a resumed run keeps, and one flushed row per epoch.
#include "core/train/csv_logger.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "core/check.hpp"

namespace ringtrain {

namespace {

constexpr const char* kHeader = "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds";

// Column 4 of a row (epoch,loss,accuracy,val_loss,val_accuracy,...), or -1 where it has none.
double val_accuracy_of(const std::string& row) {
  std::size_t start = 0;
  for (int comma = 0; comma < 4 && start != std::string::npos; ++comma) {
    start = row.find(',', start);
    if (start != std::string::npos) ++start;
  }
  if (start == std::string::npos) return -1;
  try {
    return std::stod(row.substr(start));
  } catch (const std::logic_error&) {
    return -1;
  }
}

// The rows of `path` for epochs before the resumed one (none when the file does not exist); the one of the
// epoch just before must agree with the run's validation accuracy.
std::vector<std::string> rows_before(const std::filesystem::path& path, const CsvResumePoint& resumed) {
  std::vector<std::string> kept;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return kept;
  std::ifstream in(path);
  std::string line;
  RT_CHECK(in.good() && std::getline(in, line) && line == kHeader,
           "the CSV file " << path.string() << " is not one that ringtrain wrote (its first line is not '"
                           << kHeader << "'): a resumed run adds to the CSV file of the run; give that one, "
                           << "or another path, with --csv");
  while (std::getline(in, line)) {
    std::size_t digits = 0;
    const std::int64_t epoch = std::stoll(line, &digits);
    if (digits == 0 || epoch >= resumed.first_epoch) continue;
    // Written with 9 significant digits: the same run's value agrees far within 1e-7.
    const double val_accuracy = val_accuracy_of(line);
    RT_CHECK(epoch + 1 < resumed.first_epoch || resumed.last_val_accuracy < 0 ||
                 std::abs(val_accuracy - resumed.last_val_accuracy) <= 1e-7,
             "the CSV file " << path.string() << " is another run's: its row of epoch " << epoch + 1 << " ("
                             << epoch << " in its epoch column) has val_accuracy " << val_accuracy
                             << " where the checkpoint resumed from has " << resumed.last_val_accuracy
                             << ": give this run's CSV file, or another path, with --csv");
    kept.push_back(line);
  }
  return kept;
}

}  // namespace

std::vector<std::string> csv_rows_kept(const std::filesystem::path& path,
                                       std::optional<CsvResumePoint> resumed) {
  std::error_code error;
  RT_CHECK(!std::filesystem::is_directory(path, error),
           "the CSV file " << path.string() << " is a directory: give a file's path with --csv");
  if (!resumed) return {};
  try {
    return rows_before(path, *resumed);
  } catch (const std::logic_error&) {  // a row that does not start with an epoch number
    RT_FAIL("the CSV file " << path.string() << " has a row that does not start with an epoch number: give "
                            << "the run's own CSV file, or another path, with --csv");
  }
}

CsvLogger::CsvLogger(const std::filesystem::path& path, const std::vector<std::string>& kept) : path_(path) {
  std::error_code error;
  if (!kept.empty()) {
    // The kept rows go to a new file that replaces the old one whole: a crash in between loses no row. A
    // symbolic link stays one: the file it points at is the one replaced.
    const std::filesystem::path target =
        std::filesystem::is_symlink(path, error) ? std::filesystem::canonical(path) : path;
    std::filesystem::path staged = target;
    staged += ".tmp";
    {
      std::ofstream rewritten(staged);
      rewritten << kHeader << '\n';
      for (const std::string& row : kept)
        rewritten << row << '\n';
      rewritten.flush();
      RT_CHECK(rewritten.good(), "cannot write " << staged.string() << " (disk full? not writable?)");
    }
    std::filesystem::rename(staged, target);
    out_.open(path, std::ios::app);
  } else {
    out_.open(path);
    out_ << kHeader << '\n' << std::flush;
  }
  RT_CHECK(out_.good(), "cannot write the CSV file " << path.string()
                                                     << ": check that its directory exists and is writable");
}

void CsvLogger::on_epoch_end(const EpochMetrics& m) {
  out_.precision(9);
  out_ << m.epoch << ',' << m.loss << ',' << m.accuracy << ',' << m.val_loss << ',' << m.val_accuracy << ','
       << m.learning_rate << ',' << m.seconds << '\n'
       << std::flush;
  RT_CHECK(out_.good(), "writing the CSV file " << path_.string() << " failed (disk full?)");
}

}  // namespace ringtrain
