// Run directories: checkpoint names, listing, pruning and the choice of the checkpoint to resume from.
#include "core/checkpoint/run_directory.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <regex>

#include "core/checkpoint/checkpoint.hpp"
#include "core/file_access.hpp"

namespace ringtrain {

namespace fs = std::filesystem;

void create_run_directory(const fs::path& run_dir) {
  std::error_code error;
  fs::create_directories(run_dir, error);
  RT_CHECK(!error, "cannot create the run directory " << run_dir.string() << " (" << error.message()
                                                      << "): give --run-dir a directory this user can write");
}

fs::path checkpoint_path(const fs::path& run_dir, std::int64_t global_step) {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%09lld.h5", static_cast<long long>(global_step));
  return run_dir / name;
}

fs::path best_checkpoint_path(const fs::path& run_dir) {
  return run_dir / "best.h5";
}

fs::path metrics_path(const fs::path& run_dir) {
  return run_dir / "metrics.h5";
}

std::vector<fs::path> list_checkpoints(const fs::path& run_dir) {
  static const std::regex pattern("checkpoint-([0-9]{9,})\\.h5");
  std::vector<std::pair<std::int64_t, fs::path>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(run_dir, error)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    std::int64_t step = 0;
    if (!entry.is_regular_file() || !std::regex_match(name, match, pattern)) continue;
    const std::string digits = match[1].str();
    if (std::from_chars(digits.data(), digits.data() + digits.size(), step).ec != std::errc()) continue;
    found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& [step, path] : found)
    paths.push_back(std::move(path));
  return paths;
}

void keep_newest_checkpoints(const fs::path& run_dir, int keep) {
  const auto paths = list_checkpoints(run_dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(keep, 1)) < paths.size(); ++i)
    fs::remove(paths[i]);
}

std::vector<fs::path> prepare_run_directory(const fs::path& run_dir, std::int64_t start_step, bool resuming) {
  const auto paths = list_checkpoints(run_dir);
  RT_CHECK(resuming || paths.empty(),
           run_dir.string() << " already holds the checkpoints of a run (newest: "
                            << paths.back().filename().string()
                            << "): continue it with --resume auto, or give this run another --run-dir");
  if (!resuming) {
    // A run stopped before its first checkpoint, or pruned to its best, still has files a fresh run would
    // overwrite or mix with its own.
    for (const fs::path& earlier : {metrics_path(run_dir), best_checkpoint_path(run_dir)}) {
      std::error_code error;
      RT_CHECK(
          !fs::exists(earlier, error),
          run_dir.string() << " already holds the " << earlier.filename().string()
                           << " of an earlier run (perhaps this one, stopped before its first checkpoint): "
                           << "continue it with --resume auto, or give this run another --run-dir");
    }
  }
  // Checkpoints past the starting point belong to a line of training this run abandons: kept, renamed so that
  // neither pruning nor a later --resume auto takes them for this run's.
  const std::string suffix = ".superseded-" + utc_timestamp();
  std::vector<fs::path> set_aside;
  for (const auto& path : paths) {
    const std::string name = path.filename().string();
    std::int64_t step = 0;
    std::from_chars(name.data() + 11, name.data() + name.size() - 3, step);  // checkpoint-<step>.h5
    if (step <= start_step) continue;
    fs::path aside = path;
    aside += suffix;
    fs::rename(path, aside);
    set_aside.push_back(aside);
  }
  return set_aside;
}

void set_aside_damaged(const fs::path& path, const std::string& why, const std::string& next) {
  fs::path aside = path;
  aside += ".damaged-" + utc_timestamp();
  fs::rename(path, aside);
  std::clog << "ringtrain: warning: " << why << "; it is kept as " << aside.string() << ", and " << next
            << std::endl;
}

std::optional<UsableCheckpoint> newest_usable_checkpoint(const fs::path& run_dir, const std::string& reader,
                                                         std::ostream& report) {
  const auto paths = list_checkpoints(run_dir);
  for (auto path = paths.rbegin(); path != paths.rend(); ++path) {
    // A checkpoint this user may not read, or one a newer ringtrain wrote, is not damaged: passing over it
    // would resume from an older one, or start over and set every checkpoint aside.
    const int unreadable = open_error(*path, "rb");
    if (unreadable == ENOENT) continue;  // pruned meanwhile
    RT_CHECK(unreadable == 0, path->string() << " cannot be read (" << std::strerror(unreadable)
                                             << "): let this user read the run directory's checkpoints, or "
                                                "resume from another with --resume PATH");
    try {
      return UsableCheckpoint{*path, read_checkpoint(*path)};
    } catch (const NewerCheckpointError&) {
      throw;
    } catch (const std::exception& error) {
      report << reader << ": skipping " << path->string() << ": " << error.what() << "\n";
    }
  }
  return std::nullopt;
}

}  // namespace ringtrain
