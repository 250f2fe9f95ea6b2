// The CLI's subcommands; each takes the arguments after its name and this process's place in the run, and
// returns the exit code. Only rank 0 writes to standard output.
#pragma once

#include <string>
#include <vector>

#include "core/comm/communicator.hpp"

namespace ringtrain::cli {

// Where this process runs: its communicator and how many processes share its node (they share its cores).
struct Replica {
  Communicator& communicator;
  int processes_on_node = 1;
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
