// MPI start-up and shutdown, world discovery (local rank by a shared-memory split, the cores the node's
// processes may run on from their affinity masks), and the abort path.
#include "distributed/world.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <vector>

#include "distributed/mpi_check.hpp"
#include "distributed/mpi_communicator.hpp"
#include "distributed/nccl_communicator.hpp"

namespace ringtrain {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<std::size_t>(length));
}

namespace {

struct NodeCoreCounts {
  int together = 0;  // the union of the masks
  int fewest = 0;    // the smallest mask
};

// The cores that the processes of `node` may run on together and the fewest that one of them may, from
// their affinity masks; zeros where some process could not read its mask. Collective over `node`.
NodeCoreCounts cores_of_node_processes(MPI_Comm node) {
  // Masks sized for the node's CPUs (a cpu_set_t holds only 1024), the same size on each of its processes.
  const int cpus = std::max(static_cast<int>(sysconf(_SC_NPROCESSORS_CONF)), 1);
  const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
  const std::size_t words = bytes / sizeof(unsigned long);
  // Each process sends whether it read its mask (1 or 0), then the mask.
  std::vector<unsigned long> mine(1 + words, 0);
  mine[0] = sched_getaffinity(0, bytes, reinterpret_cast<cpu_set_t*>(mine.data() + 1)) == 0 ? 1 : 0;
  int processes = 1;
  MPI_CHECK(MPI_Comm_size(node, &processes));
  std::vector<unsigned long> all(mine.size() * static_cast<std::size_t>(processes));
  MPI_CHECK(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_UNSIGNED_LONG, all.data(),
                          static_cast<int>(mine.size()), MPI_UNSIGNED_LONG, node));
  std::vector<unsigned long> together(words, 0);
  NodeCoreCounts counts;
  for (std::size_t process = 0; process < static_cast<std::size_t>(processes); ++process) {
    const unsigned long* sent = all.data() + process * mine.size();
    if (sent[0] == 0) return {};
    int own = 0;
    for (std::size_t word = 0; word < words; ++word) {
      together[word] |= sent[1 + word];
      own += std::popcount(sent[1 + word]);
    }
    counts.fewest = process == 0 ? own : std::min(counts.fewest, own);
  }
  for (unsigned long word : together)
    counts.together += std::popcount(word);
  return counts;
}

}  // namespace

bool started_by_a_launcher() {
  // Open MPI's mpirun, PMIx (mpirun and srun --mpi=pmix), PMI-1/2 (srun --mpi=pmi2, MPICH's hydra).
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "PMI_FD"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

MpiRuntime::MpiRuntime(int& argc, char**& argv, MpiStart start) {
  if (start == MpiStart::when_launched && !started_by_a_launcher()) {
    // srun without MPI wire-up starts every task alone: each would train the whole run by itself.
    const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS");
    RT_CHECK(step_tasks == nullptr || std::atoi(step_tasks) <= 1,
             "srun started this process as one of " << step_tasks
                                                    << " tasks without MPI's wire-up (no PMIx or "
                                                    << "PMI variables), so each task would train alone: run "
                                                    << "srun --mpi=pmix (or --mpi=pmi2), or mpirun");
    return;
  }
  started_ = true;
  int provided = 0;
  MPI_CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
  // Only the main thread calls MPI, but threads exist (OpenMP, the prefetcher): MPI must know.
  RT_CHECK(provided >= MPI_THREAD_FUNNELED, "this MPI library provides thread level "
                                                << provided
                                                << ", below MPI_THREAD_FUNNELED that ringtrain needs");
  // Errors come back as codes that MPI_CHECK turns into messages, instead of aborting inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world_.rank));
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_.size));
  MPI_Comm node;
  MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_.rank, MPI_INFO_NULL, &node));
  MPI_CHECK(MPI_Comm_rank(node, &world_.local_rank));
  MPI_CHECK(MPI_Comm_size(node, &world_.local_size));
  const NodeCoreCounts cores = cores_of_node_processes(node);
  world_.local_cores = cores.together;
  world_.local_fewest_cores = cores.fewest;
  MPI_Comm_free(&node);
}

MpiRuntime::~MpiRuntime() {
  if (started_) MPI_Finalize();
}

std::unique_ptr<Communicator> MpiRuntime::communicator() const {
  if (world_.size == 1) return make_single_process_communicator();
  return make_mpi_communicator(MPI_COMM_WORLD);
}

std::unique_ptr<Communicator> MpiRuntime::gpu_communicator(int device,
                                                           std::chrono::milliseconds timeout) const {
  RT_CHECK(started_, "NCCL's communicator is set up over MPI, which this process did not start (no "
                         << "launcher): start it with mpirun or srun");
  NcclSettings settings;
  settings.device = device;
  settings.timeout = timeout;
  return make_nccl_communicator(MPI_COMM_WORLD, settings);
}

void MpiRuntime::abort(int code) const {
  if (world_.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

}  // namespace ringtrain
