// gather: one table of the final validation accuracy of every run under the given directories (a sweep's
// points), with the options in which the runs differ.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/hdf5_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/help.hpp"

namespace ringtrain::cli {

namespace {

namespace fs = std::filesystem;

struct RunSummary {
  std::string name;
  std::map<std::string, std::string> options;  // the newest checkpoint's stored configuration, and processes
  std::int64_t epochs = 0;
  double final_accuracy = -1, best_accuracy = -1;
};

// The run in `dir`, if it has metrics.h5 with at least one finished epoch.
std::optional<RunSummary> summarize(const fs::path& dir, const fs::path& root) {
  if (!fs::exists(metrics_path(dir))) return std::nullopt;
  const Hdf5File metrics = Hdf5File::open_for_reading(metrics_path(dir));
  if (!metrics.exists("epochs/val_accuracy")) return std::nullopt;
  const auto accuracies = metrics.read_doubles("epochs/val_accuracy").values;
  if (accuracies.empty()) return std::nullopt;
  RunSummary run;
  // The directory's own name, also when given as "runs/b/".
  fs::path normal = fs::absolute(dir).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  run.name = dir == root ? normal.filename().string() : fs::relative(dir, root).string();
  run.epochs = static_cast<std::int64_t>(accuracies.size());
  run.final_accuracy = accuracies.back();
  run.best_accuracy = *std::max_element(accuracies.begin(), accuracies.end());
  // The options from the newest checkpoint whose configuration reads back; each newer one is named.
  const auto checkpoints = list_checkpoints(dir);
  for (auto checkpoint = checkpoints.rbegin(); checkpoint != checkpoints.rend(); ++checkpoint) {
    try {
      const StoredRun stored = checkpoint_run(*checkpoint);
      run.options = config_entries(stored.config_text);
      run.options["processes"] = std::to_string(stored.processes);
      break;
    } catch (const Error& error) {
      std::clog << "ringtrain: warning: gather passes over " << checkpoint->string() << ": " << error.what()
                << std::endl;
    }
  }
  if (!checkpoints.empty() && run.options.empty())
    std::clog << "ringtrain: warning: gather found no readable checkpoint in " << dir.string()
              << ": its options are left blank" << std::endl;
  return run;
}

// A sweep's directory (launchers/slurm/sweep) lists its points in sweep.txt: each point that has no metrics
// (it failed, or has not trained yet) is named, since the table cannot show it.
void warn_of_points_without_metrics(const fs::path& dir) {
  std::ifstream points(dir / "sweep.txt");
  std::string point;
  for (int index = 0; std::getline(points, point); ++index) {
    const fs::path run = dir / ("point-" + std::to_string(index));
    std::error_code error;
    if (fs::exists(metrics_path(run), error)) continue;
    std::clog << "ringtrain: warning: gather finds no metrics.h5 for " << run.string() << " (" << point
              << "): it failed or has not trained yet (its task's output: " << (dir / "slurm-*_").string()
              << index << ".out)" << std::endl;
  }
}

}  // namespace

int gather_command(const std::vector<std::string>& arguments, Replica&) {
  if (arguments.empty() || wants_help(arguments)) {
    std::cout
        << "usage: ringtrain gather DIR...\n\nPrints one row per run directory (DIR itself, or the "
           "directories below it that hold a metrics.h5): the final and best validation accuracy and the "
           "options in which the runs differ (from each run's newest readable checkpoint, with the number of "
           "processes that wrote it), best first.\n";
    return arguments.empty() ? 2 : 0;
  }
  std::vector<RunSummary> runs;
  int skipped = 0;
  for (const auto& argument : arguments) {
    const fs::path root = argument;
    RT_CHECK(fs::is_directory(root), "gather: " << argument << " is not a directory");
    // One unreadable run is a warning, not the end of the table.
    auto add = [&](const fs::path& dir) {
      warn_of_points_without_metrics(dir);
      try {
        if (auto run = summarize(dir, root)) runs.push_back(*run);
      } catch (const Error& error) {
        std::clog << "ringtrain: warning: gather skips " << dir.string() << ": " << error.what() << std::endl;
        ++skipped;
      } catch (const fs::filesystem_error& error) {  // a link loop, a file this user may not read
        std::clog << "ringtrain: warning: gather skips " << dir.string() << ": " << error.code().message()
                  << std::endl;
        ++skipped;
      }
    };
    add(root);
    std::error_code error;
    for (fs::recursive_directory_iterator entry(root, fs::directory_options::skip_permission_denied, error),
         end;
         !error && entry != end; entry.increment(error)) {
      std::error_code not_a_directory;
      if (entry->is_directory(not_a_directory)) add(entry->path());
    }
    if (error)
      std::clog << "ringtrain: warning: gather stops listing " << root.string() << ": " << error.message()
                << std::endl;
  }
  const std::string unread =
      skipped > 0 ? " that could be read (" + std::to_string(skipped) + " skipped, see the warnings above)"
                  : "";
  RT_CHECK(
      !runs.empty(),
      "gather: no run directory with a finished epoch (metrics.h5) under the given directories" << unread);
  // The options worth a column: those whose values are not the same in every run.
  std::set<std::string> keys;
  for (const auto& run : runs)
    for (const auto& [key, value] : run.options)
      keys.insert(key);
  std::vector<std::string> differing;
  for (const auto& key : keys) {
    std::set<std::string> values;
    for (const auto& run : runs)
      values.insert(run.options.count(key) ? run.options.at(key) : "-");
    if (values.size() > 1) differing.push_back(key);
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunSummary& a, const RunSummary& b) { return a.final_accuracy > b.final_accuracy; });
  std::cout << "run";
  for (const auto& key : differing)
    std::cout << '\t' << key;
  // epochs_done, not epochs: an option column may be the configured epochs.
  std::cout << "\tepochs_done\tval_accuracy\tbest_val_accuracy\n";
  for (const auto& run : runs) {
    std::cout << run.name;
    for (const auto& key : differing)
      std::cout << '\t' << (run.options.count(key) ? run.options.at(key) : "-");
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, "\t%lld\t%.4f\t%.4f", static_cast<long long>(run.epochs),
                  run.final_accuracy, run.best_accuracy);
    std::cout << numbers << '\n';
  }
  return 0;
}

}  // namespace ringtrain::cli
