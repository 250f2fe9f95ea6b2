// ringtrain's entry point: picks the subcommand, and turns any error into one message and exit code 1.
#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/cli/commands.hpp"
#include "core/comm/agreement.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/train/stop_request.hpp"
#include "distributed/world.hpp"

namespace {

void print_usage() {
  std::cout
      << "ringtrain " << RINGTRAIN_VERSION << ": data-parallel training of Keras-like models\n\n"
      << "usage: ringtrain COMMAND [options]   (ringtrain COMMAND --help for its options)\n\n"
      << "commands:\n"
      << "  train     train a model from a config file, printing progress and validation metrics\n"
      << "  summary   print the model's layers, output shapes and parameter counts\n"
      << "  bench     time training steps and print images per second\n"
      << "  evaluate  accuracy of a checkpoint on the MNIST test set (the model comes from the checkpoint)\n"
      << "  predict   classes of the images of an IDX file by a checkpoint's model\n"
      << "  report    write a run directory's report.html (curves, predictions) from its files\n"
      << "  gather    one row per run directory: accuracies and the options in which the runs differ\n"
      << "  version   print the version and the backends this build has\n";
}

// The line that reports `failure`, with `rank_prefix` before its message: "error:" for what the user can act
// on, "internal error:" for the rest.
std::string failure_line(const std::exception_ptr& failure, const std::string& rank_prefix) {
  try {
    std::rethrow_exception(failure);
  } catch (const ringtrain::Error& error) {
    return "ringtrain: error: " + rank_prefix + error.what();
  } catch (const std::bad_alloc&) {
    return "ringtrain: error: " + rank_prefix + "out of memory: " + ringtrain::kOutOfMemoryAdvice +
           ", or run where there is more memory";
  } catch (const std::filesystem::filesystem_error& error) {
    // The file system refused (permissions, space): the message names the call, the reason and the path.
    return "ringtrain: error: " + rank_prefix + error.what();
  } catch (const std::exception& error) {
    return "ringtrain: internal error: " + rank_prefix + error.what();
  } catch (...) {
    return "ringtrain: internal error: " + rank_prefix + "an exception of unknown type";
  }
}

// Prints the agreed failure on the rank that reports it: its error, and which other ranks failed too.
void report(const ringtrain::AgreedFailure& failure, const std::string& rank_prefix) {
  if (!failure.cause()) return;
  std::vector<int> others = failure.failed_ranks();
  others.erase(others.begin());
  std::cerr << failure_line(failure.cause(), rank_prefix)
            << (others.empty() ? "" : " (also failed on " + ringtrain::describe_ranks(others) + ")")
            << std::endl;
}

using Command = int (*)(const std::vector<std::string>&, ringtrain::cli::Replica&);

// The commands that run on every rank of a job.
const std::map<std::string, Command>& commands() {
  namespace cli = ringtrain::cli;
  static const std::map<std::string, Command> table{
      {"train", cli::train_command},       {"summary", cli::summary_command}, {"bench", cli::bench_command},
      {"evaluate", cli::evaluate_command}, {"predict", cli::predict_command}, {"gather", cli::gather_command},
      {"report", cli::report_command}};
  return table;
}

// Exit code 2 and the usage, once for the whole job, when some rank was given a command ringtrain does not
// have: the ranks agree on it, so that a typo under mpirun is printed by one rank, not by each.
std::optional<int> refuse_unknown_command(const std::string& command, ringtrain::Communicator& communicator,
                                          const std::string& rank_prefix) {
  std::exception_ptr unknown;
  if (!commands().count(command)) {
    unknown = std::make_exception_ptr(
        ringtrain::Error("unknown command '" + command + "': ringtrain --help lists them"));
  }
  try {
    ringtrain::agree_on_outcome(communicator, unknown);
  } catch (const ringtrain::AgreedFailure& failure) {
    if (failure.cause()) print_usage();
    report(failure, rank_prefix);
    return 2;
  } catch (const ringtrain::Error&) {  // one process: its own error, as it is
    print_usage();
    std::cerr << failure_line(std::current_exception(), rank_prefix) << std::endl;
    return 2;
  }
  return std::nullopt;
}

// Buffers allocated and freed at every step (MPI's non-blocking sums take a scratch buffer of a bucket's
// size, 256 KiB by default) come from the heap and stay mapped, instead of costing an mmap, page faults and a
// munmap each time: glibc maps anything above 128 KiB on its own until a freed mapping raises that limit.
// Measured on experiment 9 at global batch 128 on 2 processes: 0.5 ms a step less of exposed communication. A
// limit the user set (MALLOC_MMAP_THRESHOLD_) is kept.
void keep_step_buffers_mapped() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) return;
  constexpr int kMapAbove = 64 << 20;
  mallopt(M_MMAP_THRESHOLD, kMapAbove);
  mallopt(M_TRIM_THRESHOLD, 2 * kMapAbove);  // as glibc pairs them when it raises the limit itself
}

}  // namespace

int main(int argc, char** argv) {
  keep_step_buffers_mapped();
  // train: a stop signal from the very start (MPI's start-up included) asks for a stop instead of ending the
  // process, and is handled on a thread of its own, started before MPI and OpenMP start theirs.
  if (argc >= 2 && std::string(argv[1]) == "train") {
    ringtrain::install_stop_signal_handlers();
    ringtrain::take_stop_signals_on_a_thread_of_their_own();
  }
  std::optional<ringtrain::MpiRuntime> started;
  try {
    started.emplace(argc, argv);
  } catch (const ringtrain::Error& error) {
    std::cerr << "ringtrain: error: " << error.what() << std::endl;
    return 1;
  }
  ringtrain::MpiRuntime& mpi = *started;
  const ringtrain::World& world = mpi.world();
  // Rank 0 alone writes to standard output and warns (std::clog, on standard error); every rank reports its
  // own errors (std::cerr), prefixed with its rank.
  if (world.rank != 0) {
    std::cout.rdbuf(nullptr);
    std::clog.rdbuf(nullptr);
  }
  const std::string rank_prefix = world.size > 1 ? "rank " + std::to_string(world.rank) + ": " : "";
  std::vector<std::string> arguments(argv + std::min(argc, 2), argv + argc);
  std::string command = argc >= 2 ? argv[1] : "";
  if (command == "help" && arguments.size() == 1) {  // ringtrain help train: train's own help
    command = arguments[0];
    arguments = {"--help"};
  }
  try {
    // One process per GPU: a rank that runs on CUDA takes the GPU of its local rank (--device cuda refuses
    // more processes than GPUs on a node; the CPU needs none, and a run on it never touches one).
    const int gpus = ringtrain::cuda::device_count();
    const int gpu = gpus > 0 ? world.local_rank % gpus : 0;
    std::unique_ptr<ringtrain::Communicator> communicator = mpi.communicator();
    // With several processes, a collective that waits too long for the others ends this one (the timeout is
    // the command's --collective-timeout, set once its options are read).
    ringtrain::WatchedCommunicator* watched = nullptr;
    if (world.size > 1) {
      auto watching = std::make_unique<ringtrain::WatchedCommunicator>(
          std::move(communicator), std::chrono::seconds(ringtrain::kDefaultCollectiveTimeoutSeconds));
      watched = watching.get();
      communicator = std::move(watching);
    }
    const ringtrain::NodeCores cores = ringtrain::node_cores({.count = world.local_size,
                                                              .fewest_cores = world.local_fewest_cores,
                                                              .shared_cores = world.local_cores});
    ringtrain::cli::Replica replica{*communicator, {.cores = cores, .gpu = gpu}, {}, nullptr, watched};
    replica.make_gpu_communicator =
        [&mpi, &world, gpu](std::chrono::milliseconds timeout) -> std::unique_ptr<ringtrain::Communicator> {
      auto nccl = mpi.gpu_communicator(gpu, timeout);
      if (world.size == 1) return nccl;
      // NCCL's own watchdog aborts a stuck collective on the GPU; its host-side collectives (MPI) are watched
      // as the CPU communicator's are.
      return std::make_unique<ringtrain::WatchedCommunicator>(std::move(nccl), timeout);
    };
    if (command == "version" || command == "--version") {
      std::cout << "ringtrain " << RINGTRAIN_VERSION << " (CPU: oneDNN; CUDA: " << ringtrain::cuda::describe()
                << ")\n";
      return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      print_usage();
      return 0;
    }
    if (command.empty()) {
      print_usage();
      return 2;
    }
    if (const auto refused = refuse_unknown_command(command, *communicator, rank_prefix)) return *refused;
    return commands().at(command)(arguments, replica);
  } catch (const ringtrain::AgreedFailure& failure) {
    // Every rank knows: the lowest failing rank reports, and every rank ends without aborting the others.
    report(failure, rank_prefix);
    return 1;
  } catch (...) {
    std::cerr << failure_line(std::current_exception(), rank_prefix) << std::endl;
  }
  // A failure on one rank ends every rank: the others may be waiting for it inside a collective.
  if (world.size > 1) mpi.abort(1);
  return 1;
}
