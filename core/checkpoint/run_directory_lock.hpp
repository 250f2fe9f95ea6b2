// RunDirectoryLock: one training run at a time in a run directory. Rank 0 holds an exclusive lock (flock) on
// RUN_DIR/.ringtrain.lock while it trains; a second run started on the same directory waits a while for it
// (on a network file system, a node that failed holds its locks until its lease ends), then stops with an
// error naming the holder's process and host, having written nothing there. The kernel drops the
// lock when the process ends, however it ends, so a killed run leaves nothing to clean up. A file system
// without locks gets a warning, and the run goes on unlocked.
#pragma once

#include <chrono>
#include <filesystem>

#include "core/check.hpp"

namespace ringtrain {

// A stop signal (stop_request.hpp) that came while the lock was awaited: the run has not begun and wrote
// nothing, so it may simply be started again.
class StoppedWhileWaiting : public Error {
 public:
  using Error::Error;
};

class RunDirectoryLock {
 public:
  // Takes the lock, waiting up to `wait` while another process holds it (StoppedWhileWaiting if a stop is
  // asked for meanwhile).
  explicit RunDirectoryLock(const std::filesystem::path& run_dir,
                            std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

  static std::filesystem::path lock_path(const std::filesystem::path& run_dir);

 private:
  int descriptor_ = -1;
};

}  // namespace ringtrain
