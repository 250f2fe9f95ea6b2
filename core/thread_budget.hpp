// The cores of a node as one of its processes of a run sees them: how many threads that process runs by
// default, and the warning when the node's threads outnumber the cores its processes may use.
#pragma once

#include <string>

namespace ringtrain {

// The --threads option's help, for every command that takes it.
inline constexpr const char* kThreadsHelp =
    "CPU threads per process (0: this process's share of the cores its node's processes may run on)";

// CPU threads per process: 0 (this process's share of the cores) up to this many.
inline constexpr int kMaxThreads = 1024;

struct NodeCores {
  int processes = 1;  // this node's processes of the run
  int own = 1;        // the cores this process may run on (its affinity mask)
  int fewest = 1;     // the fewest cores any of the node's processes may run on (at most `own`)
  int shared = 1;     // the cores the node's processes may run on together (the union of their masks)
  int online = 1;     // the node's cores
};

// What a node's processes of a run know of each other (from their gathered affinity masks).
struct NodeProcesses {
  int count = 1;         // this node's processes of the run
  int fewest_cores = 0;  // the fewest cores one of them may run on (0: not known)
  int shared_cores = 0;  // the cores they may run on together (0: not known)
};

// This process's view of its node. A core count that is not known (0) is taken as this process's own cores
// (a process alone, or masks that could not be gathered); a process count of 0 as 1.
NodeCores node_cores(const NodeProcesses& node);

// --threads 0: the shared cores divided among the node's processes, at most this process's own (and
// kMaxThreads), at least 1.
// Processes bound to equal sets of cores of their own each get all of theirs; unbound ones split the node's.
int default_threads(const NodeCores& cores);

// "" when the --threads value `threads` (0: each process's default) fits in each process: no more than the
// cores a bound process may run on, and the node's threads no more than the cores its processes may use
// together. Else a warning line that says which, and what to do. Rank 0 prints it for its node.
std::string oversubscription_warning(int threads, const NodeCores& cores);

}  // namespace ringtrain
