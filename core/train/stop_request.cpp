// Stop requests from signals.
#include "core/train/stop_request.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace ringtrain {

namespace {

// Lock-free, so safe in a signal handler on any thread.
std::atomic<int> requests = 0;
static_assert(std::atomic<int>::is_always_lock_free);

void on_stop_signal(int signal) {
  if (requests.fetch_add(1) >= 1) _exit(128 + signal);
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
