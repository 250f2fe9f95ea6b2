// Stop requests from signals.
#include "core/train/stop_request.hpp"

#include <unistd.h>

#include <time.h>

#include <atomic>
#include <csignal>
#include <cstdint>

namespace ringtrain {

namespace {

// Lock-free, so safe in a signal handler on any thread.
std::atomic<int> requests = 0;
std::atomic<std::int64_t> first_request_ns = 0;
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free);

// A launcher may deliver one request twice (Slurm signals the ranks and the batch script forwards): only a
// signal that comes at least this long after the first ends the process at once.
constexpr std::int64_t kSecondSignalAfterNs = 2'000'000'000;

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void on_stop_signal(int signal) {
  const std::int64_t now = monotonic_ns();
  if (requests.fetch_add(1) == 0) {
    first_request_ns.store(now);
    return;
  }
  if (now - first_request_ns.load() >= kSecondSignalAfterNs) _exit(128 + signal);
}

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

void request_stop() noexcept {
  requests.fetch_add(1);
}

bool stop_requested() noexcept {
  return requests.load() > 0;
}

void clear_stop_request() noexcept {
  requests.store(0);
}

}  // namespace ringtrain
