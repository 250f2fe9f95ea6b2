// WatchedCommunicator: wraps a communicator whose collectives cannot time out by themselves (MPI) and ends
// this process when one of them has waited longer than the timeout. A rank that stops or hangs (a stopped
// process, a stuck file system) would otherwise leave every other rank waiting in its next collective
// forever; with the watchdog each waiting rank says what it waited in, and for how long, and exits with
// status 1, and the launcher (mpirun, srun --kill-on-bad-exit) ends the job. A rank that was itself stopped
// (SIGSTOP) and runs again says so instead: its watchdog finds that it did not run for a while. A thread
// checks once a second; the calls themselves only note the time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/comm/wrapping_communicator.hpp"

namespace ringtrain {

class WatchedCommunicator final : public WrappingCommunicator {
 public:
  WatchedCommunicator(std::unique_ptr<Communicator> inner, std::chrono::milliseconds timeout);
  ~WatchedCommunicator() override;
  WatchedCommunicator(const WatchedCommunicator&) = delete;
  WatchedCommunicator& operator=(const WatchedCommunicator&) = delete;

  // Collectives started from now on may wait this long.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ms_ = timeout.count(); }

  void blocking(const char* what, const std::function<void()>& call) override;

 private:
  void watch();

  std::atomic<std::int64_t> timeout_ms_;
  std::atomic<std::int64_t> waiting_since_ns_{0};  // steady clock; 0: in no collective
  std::atomic<const char*> waiting_in_{""};
  std::mutex mutex_;
  std::condition_variable stopping_;
  bool stop_ = false;
  std::thread watchdog_;
};

}  // namespace ringtrain
