// RunDirectoryLock: flock on RUN_DIR/.ringtrain.lock, whose text says who holds it.
#include "core/checkpoint/run_directory_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "core/check.hpp"
#include "core/checkpoint/checkpoint.hpp"
#include "core/train/stop_request.hpp"

namespace ringtrain {

namespace {

// "pid=<pid> host=<host> since=<UTC time>"
std::string holder_text() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string text = "pid=";
  text.append(std::to_string(::getpid())).append(" host=").append(host).append(" since=");
  text.append(utc_timestamp()).append("\n");
  return text;
}

std::string read_holder(int descriptor) {
  char text[512] = {};
  const ssize_t bytes = ::pread(descriptor, text, sizeof text - 1, 0);
  std::string holder(text, bytes > 0 ? static_cast<std::size_t>(bytes) : 0);
  while (!holder.empty() && holder.back() == '\n')
    holder.pop_back();
  return holder.empty() ? "a process that has not said who it is" : holder;
}

}  // namespace

std::filesystem::path RunDirectoryLock::lock_path(const std::filesystem::path& run_dir) {
  return run_dir / ".ringtrain.lock";
}

RunDirectoryLock::RunDirectoryLock(const std::filesystem::path& run_dir, std::chrono::milliseconds wait) {
  const std::filesystem::path path = lock_path(run_dir);
  // Never through a link: the holder's line is written into this file, which must be the run directory's own.
  descriptor_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  const int open_error = errno;
  RT_CHECK(open_error != ELOOP || descriptor_ >= 0,
           path.string() << " is a symbolic link: remove it (ringtrain makes its own lock file there)");
  RT_CHECK(descriptor_ >= 0, "cannot open " << path.string() << " (" << std::strerror(open_error)
                                            << "): give --run-dir a directory this user can write");
  const auto deadline = std::chrono::steady_clock::now() + wait;
  int result = ::flock(descriptor_, LOCK_EX | LOCK_NB);
  if (result != 0 && errno == EWOULDBLOCK && wait.count() > 0) {
    std::cerr << "ringtrain: " << run_dir.string() << " is in use by another training run ("
              << read_holder(descriptor_) << "); waiting up to " << wait.count() / 1000.0
              << " s for it to end" << std::endl;
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      // A stop asked for while waiting (Ctrl-C, SIGTERM) ends the wait: this run has not begun.
      if (stop_requested()) {
        ::close(descriptor_);
        descriptor_ = -1;
        throw StoppedWhileWaiting("stopped by a signal while waiting for " + run_dir.string() +
                                  ", before training began: nothing was written");
      }
      result = ::flock(descriptor_, LOCK_EX | LOCK_NB);
    } while (result != 0 && errno == EWOULDBLOCK && std::chrono::steady_clock::now() < deadline);
  }
  if (result != 0) {
    const int lock_error = errno;
    if (lock_error == EWOULDBLOCK) {
      const std::string holder = read_holder(descriptor_);
      ::close(descriptor_);
      descriptor_ = -1;
      RT_FAIL(run_dir.string() << " is in use by another training run (" << holder
                               << "): wait for it to end, or give this run another --run-dir");
    }
    std::cerr << "ringtrain: warning: cannot lock " << path.string() << " (" << std::strerror(lock_error)
              << "); nothing stops a second run from writing into " << run_dir.string() << " meanwhile"
              << std::endl;
  }
  const std::string holder = holder_text();
  if (::ftruncate(descriptor_, 0) != 0 ||
      ::pwrite(descriptor_, holder.data(), holder.size(), 0) != static_cast<ssize_t>(holder.size())) {
    std::cerr << "ringtrain: warning: cannot write who holds " << path.string() << std::endl;
  }
}

RunDirectoryLock::~RunDirectoryLock() {
  if (descriptor_ < 0) return;
  ::close(descriptor_);  // drops the lock; the file stays, for the next run to lock
}

}  // namespace ringtrain
