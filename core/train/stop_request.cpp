// Stop requests from signals.
#include "core/train/stop_request.hpp"

#include <unistd.h>

#include <csignal>

namespace ringtrain {

namespace {

volatile std::sig_atomic_t requests = 0;

void on_stop_signal(int signal) {
  requests = requests + 1;
  if (requests >= 2) _exit(128 + signal);
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
  requests = requests + 1;
}

bool stop_requested() noexcept {
  return requests > 0;
}

void clear_stop_request() noexcept {
  requests = 0;
}

}  // namespace ringtrain
