// Stop requests from signals.
#include "core/train/stop_request.hpp"

#include <pthread.h>
#include <unistd.h>

#include <time.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace ringtrain {

namespace {

// Lock-free, so safe in a signal handler on any thread. The time of the first request is its mark: 0 means
// no request. It is claimed with a compare-and-swap, so that two signals arriving together on two threads
// cannot both see "not the first" before either wrote the time.
std::atomic<std::int64_t> first_request_ns = 0;
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

// The signals that ask for a stop: the scheduler's (SIGTERM at a time limit or a cancel, SIGUSR1 ahead of the
// limit with Slurm's --signal) and Ctrl-C.
constexpr std::array kStopSignals{SIGTERM, SIGUSR1, SIGINT};

// A launcher may deliver one request twice (Slurm signals the ranks and the batch script forwards): only a
// signal that comes at least this long after the first ends the process at once.
constexpr std::int64_t kSecondSignalAfterNs = 2'000'000'000;

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
  // Never 0, the mark of no request.
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec + 1;
}

// Records a request made at `now`; returns the time of the earlier one, or 0 when this is the first.
std::int64_t record_request(std::int64_t now) {
  std::int64_t first = 0;
  first_request_ns.compare_exchange_strong(first, now);
  return first;
}

// Whether this process says on stderr what a signal does (one rank of a run speaks), and whether a stop
// writes a checkpoint (a run with a run directory).
std::atomic<bool> announce = false;
std::atomic<bool> checkpoint_on_stop = true;

// write(2) of a string literal: async-signal-safe.
template <std::size_t N>
void say(const char (&text)[N]) {
  if (write(STDERR_FILENO, text, N - 1) < 0) {
    // nothing to do about a closed stderr
  }
}

void on_stop_signal(int signal) {
  const int saved_errno = errno;  // the interrupted code may be about to read it
  const std::int64_t now = monotonic_ns();
  const std::int64_t first = record_request(now);
  // Ctrl-C comes from a person at the terminal, never twice from a launcher: a second one ends at once.
  const bool again = first != 0 && (signal == SIGINT || now - first >= kSecondSignalAfterNs);
  if (first != 0 && !again) {  // the first request again: nothing more to do or say
    errno = saved_errno;
    return;
  }
  if (announce.load()) {
    if (signal == SIGTERM) say("ringtrain: SIGTERM received");
    if (signal == SIGUSR1) say("ringtrain: SIGUSR1 received");
    if (signal == SIGINT) say("ringtrain: interrupted (Ctrl-C)");
    if (first == 0 && checkpoint_on_stop.load())
      say(": checkpointing and stopping at the next step boundary");
    if (first == 0 && !checkpoint_on_stop.load()) {
      say(": stopping at the next step boundary (no --run-dir: no checkpoint)");
    }
    if (first == 0 && signal == SIGINT) say("; Ctrl-C again exits at once");
    if (first == 0) say("\n");
    if (again) say(" again: exiting at once, without a checkpoint\n");
  }
  if (again) _exit(128 + signal);
  errno = saved_errno;
}

}  // namespace

void install_stop_signal_handlers(bool announce_on_stderr) {
  announce.store(announce_on_stderr);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  // A process started in the background by a shell that is not interactive has SIGINT ignored, so that the
  // Ctrl-C meant for its parent leaves it alone: it stays ignored.
  struct sigaction inherited_sigint {};
  const bool sigint_ignored =
      sigaction(SIGINT, nullptr, &inherited_sigint) == 0 && inherited_sigint.sa_handler == SIG_IGN;
  for (const int signal : kStopSignals) {
    if (signal != SIGINT || !sigint_ignored) sigaction(signal, &action, nullptr);
  }
}

void take_stop_signals_on_a_thread_of_their_own() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (const int signal : kStopSignals)
    sigaddset(&stop_signals, signal);
  // Blocked here, and so in every thread this one starts from now on (they inherit the mask); the kernel
  // hands a signal sent to the process to a thread that does not block it: this one, which waits for them.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::thread([stop_signals] {
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    while (true)
      pause();  // the handler runs here
  }).detach();
}

void announce_checkpoint_on_stop(bool writes_checkpoint) noexcept {
  checkpoint_on_stop.store(writes_checkpoint);
}

void request_stop() noexcept {
  record_request(monotonic_ns());
}

bool stop_requested() noexcept {
  return first_request_ns.load() != 0;
}

void clear_stop_request() noexcept {
  first_request_ns.store(0);
}

}  // namespace ringtrain
