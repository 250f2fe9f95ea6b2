// Stop requests: a signal handler (SIGTERM, SIGUSR1, Ctrl-C's SIGINT) asks the run to stop; the trainer reads
// the request at the next step boundary and, through a collective, every rank agrees to checkpoint and stop
// there.
#pragma once

namespace ringtrain {

// Installs the handlers: the first signal requests a stop; another one, 2 s or more later, ends the process
// at once with 128 + the signal's number (sooner it is taken for the same request delivered twice), and so
// does a second Ctrl-C at any time. With
// `announce_on_stderr` (rank 0), each of the two says so on stderr as it arrives.
void install_stop_signal_handlers(bool announce_on_stderr = false);
// Whether the announcement of a first signal says a checkpoint is written (the default) or that none is (a
// run without a run directory).
void announce_checkpoint_on_stop(bool writes_checkpoint) noexcept;
// Async-signal-safe.
void request_stop() noexcept;
bool stop_requested() noexcept;
// Forgets a request (tests).
void clear_stop_request() noexcept;

}  // namespace ringtrain
