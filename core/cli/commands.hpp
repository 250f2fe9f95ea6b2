// The CLI's subcommands; each takes the arguments after its name and this process's place in the run, and
// returns the exit code. Only rank 0 writes to standard output.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/cli/session.hpp"
#include "core/comm/communicator.hpp"
#include "core/comm/watched_communicator.hpp"
#include "core/device.hpp"
#include "core/thread_budget.hpp"
#include "core/train/train_config.hpp"

namespace ringtrain::cli {

// Where this process runs: its communicator, and its node's processes of the run with the cores they may use
// (they share the node's cores and GPUs).
struct Replica {
  Communicator& communicator;  // for CPU tensors and every scalar
  NodeShare node;
  // Makes the communicator for CUDA tensors (NCCL) of a run with more than one process; a collective that
  // has not finished after `timeout` aborts it.
  std::function<std::unique_ptr<Communicator>(std::chrono::milliseconds timeout)> make_gpu_communicator;
  std::unique_ptr<Communicator> gpu_communicator;

  // The CPU communicator's watchdog, with several processes (its timeout is set by for_device).
  WatchedCommunicator* watched = nullptr;

  // The CPU communicator's collectives end after config.collective_timeout_seconds (local: no collective).
  void watch_collectives(const TrainConfig& config);
  // The communicator for a model on config.device: made on first use for CUDA; both communicators get
  // config.collective_timeout_seconds.
  Communicator& for_device(const TrainConfig& config);
};

int train_command(const std::vector<std::string>& arguments, Replica& replica);
int summary_command(const std::vector<std::string>& arguments, Replica& replica);
int bench_command(const std::vector<std::string>& arguments, Replica& replica);
int evaluate_command(const std::vector<std::string>& arguments, Replica& replica);
int predict_command(const std::vector<std::string>& arguments, Replica& replica);
int gather_command(const std::vector<std::string>& arguments, Replica& replica);
int report_command(const std::vector<std::string>& arguments, Replica& replica);

// train's exit code when a signal (SIGTERM, SIGUSR1) stopped it after writing a checkpoint: the run can be
// requeued and resumed (EX_TEMPFAIL, "try again later").
constexpr int kExitStoppedBySignal = 75;

}  // namespace ringtrain::cli
