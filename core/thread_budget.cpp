// Default thread counts and the oversubscription warning, from a node's cores as a process sees them.
#include "core/thread_budget.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>

namespace ringtrain {

namespace {

std::string cores_text(int count) {
  return std::to_string(count) + (count == 1 ? " core" : " cores");
}

}  // namespace

NodeCores node_cores(const NodeProcesses& node) {
  NodeCores cores;
  cores.processes = std::max(node.count, 1);
  cores.own = std::max(omp_get_num_procs(), 1);
  cores.fewest = node.fewest_cores > 0 ? std::min(node.fewest_cores, cores.own) : cores.own;
  cores.online = std::max(static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)), cores.own);
  cores.shared = node.shared_cores > 0 ? std::min(node.shared_cores, cores.online) : cores.own;
  return cores;
}

int default_threads(const NodeCores& cores) {
  const int share = cores.shared / std::max(cores.processes, 1);
  return std::max(1, std::min({cores.own, share, kMaxThreads}));
}

std::string oversubscription_warning(int threads, const NodeCores& cores) {
  const std::string prefix = "ringtrain: warning: ";
  const std::string slowdown = ": threads beyond the cores wait on each other and slow every step";
  // A process's default never exceeds its own cores. It may differ between processes bound to different
  // numbers of cores, but never past the shared cores: more processes than those cores give 1 each.
  const bool by_default = threads == 0;
  if (by_default) threads = default_threads(cores);
  if (!by_default && threads > cores.fewest && cores.fewest < cores.online) {
    const std::string which = cores.fewest == cores.own
                                  ? ", which may run on "
                                  : ", and one of the node's processes may run on only ";
    return prefix + std::to_string(threads) + " threads in each process" + which +
           std::to_string(cores.fewest) + " of the node's " + cores_text(cores.online) + slowdown +
           " (--threads 0 takes the process's share)\n";
  }
  const int total = threads * cores.processes;
  if (total <= cores.shared) return "";
  const std::string where = cores.shared < cores.online ? " that the node's processes may run on (of its " +
                                                              std::to_string(cores.online) + ")"
                                                        : "";
  const bool sharing_fits = default_threads(cores) * cores.processes <= cores.shared;
  const std::string advice =
      sharing_fits ? " (--threads 0 shares the cores)" : " (give the processes more cores, or start fewer)";
  return prefix + std::to_string(total) + " threads (" + std::to_string(threads) + " in each of " +
         std::to_string(cores.processes) + " process(es)) on the " + cores_text(cores.shared) + where +
         slowdown + advice + "\n";
}

}  // namespace ringtrain
