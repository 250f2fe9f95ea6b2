// WatchedCommunicator: the blocking calls noted (what, since when) for the watchdog thread.
#include "core/comm/watched_communicator.hpp"

#include <algorithm>
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
  constexpr std::int64_t kLookEveryNs = 1'000'000'000;
  // A look that comes this much later than due means this process did not run meanwhile (SIGSTOP, a
  // debugger, a paused machine): its own wait then says little about the other ranks.
  constexpr std::int64_t kNotRunningNs = 2'000'000'000;
  std::int64_t last_look = now_ns(), not_running_in = 0, not_running_ns = 0;
  std::unique_lock lock(mutex_);
  while (!stopping_.wait_for(lock, std::chrono::nanoseconds(kLookEveryNs), [this] { return stop_; })) {
    const std::int64_t now = now_ns(), late = now - last_look - kLookEveryNs;
    last_look = now;
    const std::int64_t since = waiting_since_ns_;
    if (since == 0) continue;
    if (not_running_in != since) {  // another wait: its own count
      not_running_in = since;
      not_running_ns = 0;
    }
    if (late > kNotRunningNs) not_running_ns += std::min(late, now - since);
    const double waited = static_cast<double>(now - since) * 1e-9;
    if (waited * 1000 < static_cast<double>(timeout_ms_)) continue;
    const char* what = waiting_in_;
    if (waiting_since_ns_ != since) continue;  // that call returned meanwhile; the next is checked next time
    // The main thread is inside MPI: this thread writes with stdio alone and leaves without unwinding.
    // This rank itself is to blame only when the time it ran does not reach the timeout.
    const bool ran_too_little =
        static_cast<double>(now - since - not_running_ns) * 1e-6 < static_cast<double>(timeout_ms_);
    if (not_running_ns > 0 && ran_too_little) {
      std::fprintf(
          stderr,
          "ringtrain: error: rank %d: %s has waited %.0f s (--collective-timeout %g s), but this rank "
          "did not run for %.0f s of it (stopped by a signal or a debugger, or its machine paused), "
          "and the other ranks may have ended meanwhile; this rank ends so that the launcher ends "
          "the job\n",
          rank(), what, waited, static_cast<double>(timeout_ms_) / 1000,
          static_cast<double>(not_running_ns) * 1e-9);
    } else {
      std::fprintf(
          stderr,
          "ringtrain: error: rank %d: %s has waited %.0f s for the other ranks (--collective-timeout "
          "%g s): a rank has stopped, hangs, or failed without a word; this rank ends so that the "
          "launcher ends the job (a stopped rank that runs again says so; a hung one says nothing)%s\n",
          rank(), what, waited, static_cast<double>(timeout_ms_) / 1000,
          not_running_ns > 0 ? "; this rank itself did not run for a few seconds of it" : "");
    }
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
