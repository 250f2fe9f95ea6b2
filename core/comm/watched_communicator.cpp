// WatchedCommunicator: the blocking calls noted (what, since when) for the watchdog thread.
#include "core/comm/watched_communicator.hpp"

#include <cstdio>
#include <cstdlib>

namespace ringtrain {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

WatchedCommunicator::WatchedCommunicator(std::unique_ptr<Communicator> inner,
                                         std::chrono::milliseconds timeout)
    : WrappingCommunicator(std::move(inner)), timeout_ms_(timeout.count()), watchdog_([this] { watch(); }) {}

WatchedCommunicator::~WatchedCommunicator() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopping_.notify_all();
  watchdog_.join();
}

void WatchedCommunicator::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    const std::int64_t since = waiting_since_ns_;
    if (since == 0) continue;
    const double waited = static_cast<double>(now_ns() - since) * 1e-9;
    if (waited * 1000 < static_cast<double>(timeout_ms_)) continue;
    const char* what = waiting_in_;
    if (waiting_since_ns_ != since) continue;  // that call returned meanwhile; the next is checked next time
    // The main thread is inside MPI: this thread writes with stdio alone and leaves without unwinding.
    std::fprintf(stderr,
                 "ringtrain: error: rank %d: %s has waited %.0f s for the other ranks (--collective-timeout "
                 "%g s): a rank has stopped, hangs, or failed without a word; this rank ends so that the "
                 "launcher ends the job (the ranks that do not say this are the ones that stopped)\n",
                 rank(), what, waited, static_cast<double>(timeout_ms_) / 1000);
    std::fflush(stderr);
    std::_Exit(1);
  }
}

void WatchedCommunicator::blocking(const char* what, const std::function<void()>& call) {
  struct EndOnExit {
    std::atomic<std::int64_t>& since;
    ~EndOnExit() { since = 0; }
  } end_on_exit{waiting_since_ns_};
  waiting_in_ = what;
  waiting_since_ns_ = now_ns();
  call();
}

}  // namespace ringtrain
