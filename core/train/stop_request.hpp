// Stop requests: a signal handler (SIGTERM, SIGUSR1, Ctrl-C's SIGINT) asks the run to stop; the trainer reads
// the request at the next step boundary and, through a collective, every rank agrees to checkpoint and stop
// there.
#pragma once

namespace ringtrain {

// Installs the handlers: the first signal requests a stop; another one, 2 s or more later, ends the process
// at once with 128 + the signal's number (sooner it is taken for the same request delivered twice, silently),
// and so does a second Ctrl-C at any time. With `announce_on_stderr` (rank 0), the first and the one that
// ends the process say so on stderr as they arrive.
void install_stop_signal_handlers(bool announce_on_stderr = false);
// Runs the handlers on a thread that does nothing else: the stop signals are blocked in the calling thread
// and in every thread it starts later (the OpenMP threads that run oneDNN among them). oneDNN's generated
// f32 GEMM kernels (the CPU convolutions' and dense layers') point the stack pointer at a workspace on the
// heap while they run (oneDNN issue 4845, fixed upstream in March 2026; Debian 12 ships 2.6): a signal
// handled on such a thread has its frame written over the heap, which aborts the run later, in a free(). Call
// it before starting other threads.
void take_stop_signals_on_a_thread_of_their_own();
// Whether the announcement of a first signal says a checkpoint is written (the default) or that none is (a
// run without a run directory).
void announce_checkpoint_on_stop(bool writes_checkpoint) noexcept;
// Async-signal-safe.
void request_stop() noexcept;
bool stop_requested() noexcept;
// Forgets a request (tests).
void clear_stop_request() noexcept;

}  // namespace ringtrain
