// The NCCL communicator: set-up over MPI, stream ordering by events, and the watchdog that turns a stuck or
// failed collective into an abort and an error.
#include "distributed/nccl_communicator.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/cuda/cuda_check.hpp"
#include "core/cuda/stream.hpp"
#include "distributed/mpi_check.hpp"

#define NCCL_CHECK(call)                                                                                \
  do {                                                                                                  \
    const ncclResult_t nccl_check_status_ = (call);                                                     \
    RT_CHECK(nccl_check_status_ == ncclSuccess || nccl_check_status_ == ncclInProgress,                 \
             "NCCL error " << ncclGetErrorString(nccl_check_status_) << " in " #call " at " << __FILE__ \
                           << ':' << __LINE__);                                                         \
  } while (false)

namespace ringtrain {

namespace {

using Clock = std::chrono::steady_clock;

// A float32 or float64 CUDA tensor's elements and NCCL type.
struct Floats {
  void* elements;
  ncclDataType_t type;
};
Floats floats_of(const Tensor& buffer, const char* call) {
  void* elements = float_elements(buffer, Device::cuda, "NCCL", call);
  return {elements, buffer.dtype() == DType::f32 ? ncclFloat32 : ncclFloat64};
}

// The communicator handle and the lock every NCCL call on it takes: the watchdog may abort the communicator
// (which frees it) from its own thread, so a call never races the abort, and none is made after it.
struct GuardedComm {
  ncclComm_t comm = nullptr;
  std::mutex mutex;
  bool aborted = false;  // under mutex

  // Aborts once; later calls do nothing. The lock only marks the communicator aborted (no call starts on it
  // after that): ncclCommAbort itself runs outside it, since it may wait for the CUDA graphs that hold the
  // communicator's collectives, and a thread recording one must be able to take the lock and fail.
  void abort() {
    {
      std::lock_guard lock(mutex);
      if (aborted) return;
      aborted = true;
    }
    ncclCommAbort(comm);
  }
};

// Watches the collectives in flight: each is an event recorded after it on the NCCL stream. Polls every
// few milliseconds; an asynchronous NCCL error, or an event still pending after the timeout, aborts the
// communicator (which also ends any kernel of it that is stuck) and records why.
class Watchdog {
 public:
  Watchdog(GuardedComm& guarded, std::chrono::milliseconds timeout, int device)
      : guarded_(guarded), timeout_(timeout), device_(device), thread_([this] { run(); }) {}

  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    for (auto& entry : in_flight_)
      cudaEventDestroy(entry.event);
  }

  // Takes ownership of `event`, recorded after a collective named `what`.
  void watch(cudaEvent_t event, const char* what) {
    std::lock_guard lock(mutex_);
    in_flight_.push_back({event, what, Clock::now()});
  }

  // Throws the recorded failure, if any.
  void check() const {
    std::lock_guard lock(mutex_);
    RT_CHECK(failure_.empty(), failure_);
  }

  // Whether every watched collective has finished (a failure counts as finished: check() reports it).
  bool idle() const {
    std::lock_guard lock(mutex_);
    return in_flight_.empty() || !failure_.empty();
  }

 private:
  struct Entry {
    cudaEvent_t event;
    const char* what;
    Clock::time_point started;
  };

  void run() {
    cudaSetDevice(device_);  // queries on another device would create a context there
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(10));
      if (!failure_.empty()) continue;
      const std::string why = problem();
      if (why.empty()) continue;
      failure_ = why + "; the NCCL communicator was aborted";
      // The abort takes the communicator's lock: not while holding ours, which the main thread may be
      // waiting for while it holds the communicator's.
      lock.unlock();
      guarded_.abort();
      lock.lock();
    }
  }

  // Under mutex_: why the communicator must be aborted, or "" (finished entries are dropped).
  std::string problem() {
    ncclResult_t asynchronous = ncclSuccess;
    std::string detail;
    {
      std::lock_guard comm_lock(guarded_.mutex);
      if (guarded_.aborted) return "";
      ncclCommGetAsyncError(guarded_.comm, &asynchronous);
      if (asynchronous != ncclSuccess && asynchronous != ncclInProgress) {
        const char* last = ncclGetLastError(guarded_.comm);
        if (last != nullptr) detail = last;
      }
    }
    if (asynchronous != ncclSuccess && asynchronous != ncclInProgress)
      return std::string("NCCL reported ") + ncclGetErrorString(asynchronous) +
             (detail.empty() ? "" : " (" + detail + ")");
    while (!in_flight_.empty()) {
      const Entry& oldest = in_flight_.front();
      const cudaError_t state = cudaEventQuery(oldest.event);
      if (state == cudaSuccess) {
        cudaEventDestroy(oldest.event);
        in_flight_.pop_front();
        last_finished_ = Clock::now();
      } else if (state == cudaErrorNotReady) {
        // Its time counts from when it could start: queued behind others, it waited for them first.
        if (Clock::now() - std::max(oldest.started, last_finished_) <= timeout_) return "";
        std::ostringstream text;
        text << "NCCL " << oldest.what << " did not finish within " << timeout_.count() / 1000.0
             << " s (another rank failed or stopped? a longer --collective-timeout allows slower steps)";
        return text.str();
      } else {
        return std::string("CUDA error ") + cudaGetErrorString(state) +
               " in the GPU work queued up to the NCCL " + oldest.what;
      }
    }
    return "";
  }

  GuardedComm& guarded_;
  std::chrono::milliseconds timeout_;
  int device_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Entry> in_flight_;
  Clock::time_point last_finished_{};  // when the last watched entry was seen finished
  std::string failure_;
  bool stopping_ = false;
  std::thread thread_;
};

class NcclPendingSum final : public PendingSum {
 public:
  NcclPendingSum(cudaEvent_t done, const Watchdog& watchdog) : done_(done), watchdog_(watchdog) {}
  ~NcclPendingSum() override { cudaEventDestroy(done_); }

  void poll() override {}
  // Work queued on the caller's stream from now on runs after the sum; the host does not wait.
  void wait() override {
    CUDA_CHECK(cudaStreamWaitEvent(cuda::stream(), done_, 0));  // first: it also joins a recording's fork
    watchdog_.check();
  }

 private:
  cudaEvent_t done_;
  const Watchdog& watchdog_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(MPI_Comm mpi, const NcclSettings& settings) : mpi_(mpi), timeout_(settings.timeout) {
    MPI_CHECK(MPI_Comm_rank(mpi_, &rank_));
    MPI_CHECK(MPI_Comm_size(mpi_, &size_));
    CUDA_CHECK(cudaSetDevice(settings.device));
    ncclUniqueId id;
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_CHECK(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, mpi_));
    // Non-blocking: initialisation and collectives return at once, so that a stuck one can be aborted.
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    {
      std::lock_guard lock(guarded_.mutex);
      NCCL_CHECK(ncclCommInitRankConfig(&guarded_.comm, size_, id, rank_, &config));
      try {
        wait_until_ready("initialisation");
      } catch (const Error&) {
        ncclCommAbort(guarded_.comm);  // a peer that never came must not leave it half made
        throw;
      }
    }
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    watchdog_ = std::make_unique<Watchdog>(guarded_, timeout_, settings.device);
  }

  // On the normal path the last collectives are let finish (the watchdog still watching), then the
  // communicator is finalized, all within one timeout; when unwinding an error, after a failure, or past
  // that timeout, it is aborted: a peer may never come.
  ~NcclCommunicator() override {
    const bool unwinding = std::uncaught_exceptions() > 0;
    const auto deadline = Clock::now() + timeout_;
    while (!unwinding && !watchdog_->idle() && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const bool clean = !unwinding && watchdog_->idle() && cudaStreamQuery(stream_) == cudaSuccess;
    watchdog_.reset();
    bool finalized = false;
    if (clean) {
      std::lock_guard lock(guarded_.mutex);
      if (!guarded_.aborted) {
        try {
          NCCL_CHECK(ncclCommFinalize(guarded_.comm));
          wait_until_ready("finalize", deadline);
          ncclCommDestroy(guarded_.comm);
          finalized = true;
        } catch (const Error&) {
          // aborted below
        }
      }
    }
    if (!finalized) guarded_.abort();
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(Tensor& buffer) override { start_sum(buffer)->wait(); }

  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override {
    const Floats floats = floats_of(buffer, "start_sum");
    return std::make_unique<NcclPendingSum>(enqueue("all-reduce",
                                                    [&] {
                                                      return ncclAllReduce(
                                                          floats.elements, floats.elements,
                                                          static_cast<std::size_t>(buffer.numel()),
                                                          floats.type, ncclSum, guarded_.comm, stream_);
                                                    }),
                                            *watchdog_);
  }

  void broadcast(Tensor& buffer, int root) override {
    const Floats floats = floats_of(buffer, "broadcast");
    NcclPendingSum(enqueue("broadcast",
                           [&] {
                             return ncclBroadcast(floats.elements, floats.elements,
                                                  static_cast<std::size_t>(buffer.numel()), floats.type, root,
                                                  guarded_.comm, stream_);
                           }),
                   *watchdog_)
        .wait();
  }

  void sum(std::span<double> values) override {
    watchdog_->check();
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                            mpi_));
  }

  std::vector<std::uint64_t> all_gather(std::uint64_t value) override {
    watchdog_->check();
    std::vector<std::uint64_t> values(static_cast<std::size_t>(size_));
    MPI_CHECK(MPI_Allgather(&value, 1, MPI_UINT64_T, values.data(), 1, MPI_UINT64_T, mpi_));
    return values;
  }

  void throw_if_failed() const override { watchdog_->check(); }

  void watch_queued_work(const char* what) override {
    watchdog_->check();
    cudaEvent_t queued;
    CUDA_CHECK(cudaEventCreateWithFlags(&queued, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventRecord(queued, cuda::stream()));
    watchdog_->watch(queued, what);
  }

  void barrier() override {
    watchdog_->check();
    while (!watchdog_->idle())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    watchdog_->check();
    MPI_CHECK(MPI_Barrier(mpi_));
  }

 private:
  // The NCCL stream waits for what the caller's stream has queued, then runs `collective`; returns an event
  // recorded after it, for the caller to wait on. Holds the communicator's lock: no abort in between. While
  // the caller's stream is being captured into a CUDA graph the collective joins the capture, and the
  // watchdog, which cannot query captured events, watches each replay instead (watch_queued_work).
  template <typename Collective>
  cudaEvent_t enqueue(const char* what, Collective&& collective) {
    watchdog_->check();
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    CUDA_CHECK(cudaStreamIsCapturing(cuda::stream(), &capture));
    const bool capturing = capture != cudaStreamCaptureStatusNone;
    cudaEvent_t ready, done, watched = nullptr;
    {
      std::lock_guard lock(guarded_.mutex);
      RT_CHECK(!guarded_.aborted, "NCCL " << what << " on an aborted communicator");
      CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
      const cudaError_t recorded = cudaEventRecord(ready, cuda::stream());
      const cudaError_t nccl_stream_follows_caller =
          recorded == cudaSuccess ? cudaStreamWaitEvent(stream_, ready, 0) : recorded;
      cudaEventDestroy(ready);
      CUDA_CHECK(nccl_stream_follows_caller);
      try {
        const ncclResult_t status = collective();
        RT_CHECK(status == ncclSuccess || status == ncclInProgress,
                 "NCCL " << what << " failed: " << ncclGetErrorString(status));
        // A non-blocking communicator may still be enqueuing the collective: the events go after it.
        if (status == ncclInProgress) wait_until_ready(what);
        CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
        CUDA_CHECK(cudaEventRecord(done, stream_));
      } catch (const std::exception&) {
        // While recording, the NCCL stream joined the caller's capture by waiting on it: it must join back,
        // or the capture cannot end and the caller's stream stays unusable.
        if (capturing) join_caller_stream();
        throw;
      }
      if (!capturing) {
        CUDA_CHECK(cudaEventCreateWithFlags(&watched, cudaEventDisableTiming));
        CUDA_CHECK(cudaEventRecord(watched, stream_));
      }
    }
    if (watched != nullptr) watchdog_->watch(watched, what);
    return done;
  }

  // The caller's stream waits for what the NCCL stream has queued (errors ignored: this runs after one).
  void join_caller_stream() {
    cudaEvent_t joined = nullptr;
    if (cudaEventCreateWithFlags(&joined, cudaEventDisableTiming) == cudaSuccess) {
      if (cudaEventRecord(joined, stream_) == cudaSuccess) cudaStreamWaitEvent(cuda::stream(), joined, 0);
      cudaEventDestroy(joined);
    }
    cudaGetLastError();
  }

  // Under the communicator's lock: polls until a non-blocking NCCL call has finished, or the timeout (by
  // default counted from now) passes.
  void wait_until_ready(const char* what) { wait_until_ready(what, Clock::now() + timeout_); }
  void wait_until_ready(const char* what, Clock::time_point deadline) {
    ncclResult_t state = ncclInProgress;
    while (true) {
      NCCL_CHECK(ncclCommGetAsyncError(guarded_.comm, &state));
      if (state != ncclInProgress) break;
      RT_CHECK(Clock::now() <= deadline,
               "NCCL " << what << " did not finish within " << timeout_.count() << " ms");
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    RT_CHECK(state == ncclSuccess, "NCCL " << what << " failed: " << ncclGetErrorString(state));
  }

  MPI_Comm mpi_;
  std::chrono::milliseconds timeout_;
  int rank_ = 0;
  int size_ = 1;
  GuardedComm guarded_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace

bool nccl_built() {
  return true;
}

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, const NcclSettings& settings) {
  return std::make_unique<NcclCommunicator>(comm, settings);
}

}  // namespace ringtrain
