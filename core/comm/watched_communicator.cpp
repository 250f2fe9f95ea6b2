// WatchedCommunicator: every call forwarded; the blocking ones noted for the watchdog thread.
#include "core/comm/watched_communicator.hpp"

#include <cstdio>
#include <cstdlib>

namespace ringtrain {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

class WatchedPendingSum final : public PendingSum {
 public:
  WatchedPendingSum(std::unique_ptr<PendingSum> inner, WatchedCommunicator& owner)
      : inner_(std::move(inner)), owner_(owner) {}

  void poll() override { inner_->poll(); }
  void wait() override {
    const WatchedCommunicator::Watch watch(owner_, "the wait for a gradient all-reduce");
    inner_->wait();
  }

 private:
  std::unique_ptr<PendingSum> inner_;
  WatchedCommunicator& owner_;
};

}  // namespace

WatchedCommunicator::Watch::Watch(WatchedCommunicator& owner, const char* what) : owner_(owner) {
  owner_.waiting_in_ = what;
  owner_.waiting_since_ns_ = now_ns();
}

WatchedCommunicator::Watch::~Watch() {
  owner_.waiting_since_ns_ = 0;
}

WatchedCommunicator::WatchedCommunicator(std::unique_ptr<Communicator> inner,
                                         std::chrono::milliseconds timeout)
    : inner_(std::move(inner)), timeout_ms_(timeout.count()), watchdog_([this] { watch(); }) {}

WatchedCommunicator::~WatchedCommunicator() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopping_.notify_all();
  watchdog_.join();
}

void WatchedCommunicator::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    const std::int64_t since = waiting_since_ns_;
    if (since == 0) continue;
    const double waited = static_cast<double>(now_ns() - since) * 1e-9;
    if (waited * 1000 < static_cast<double>(timeout_ms_)) continue;
    // The main thread is inside MPI: this thread writes with stdio alone and leaves without unwinding.
    std::fprintf(stderr,
                 "ringtrain: error: rank %d: %s has waited %.0f s for the other ranks (--collective-timeout "
                 "%.0f s): a rank has stopped, hangs, or failed without a word; this rank ends so that the "
                 "launcher ends the job (the ranks that do not say this are the ones that stopped)\n",
                 inner_->rank(), waiting_in_.load(), waited, static_cast<double>(timeout_ms_) / 1000);
    std::fflush(stderr);
    std::_Exit(1);
  }
}

void WatchedCommunicator::sum(Tensor& buffer) {
  const Watch watch(*this, "an all-reduce");
  inner_->sum(buffer);
}

std::unique_ptr<PendingSum> WatchedCommunicator::start_sum(Tensor& buffer) {
  std::unique_ptr<PendingSum> started;
  {
    const Watch watch(*this, "the start of a gradient all-reduce");
    started = inner_->start_sum(buffer);
  }
  return std::make_unique<WatchedPendingSum>(std::move(started), *this);
}

void WatchedCommunicator::broadcast(Tensor& buffer, int root) {
  const Watch watch(*this, "a broadcast");
  inner_->broadcast(buffer, root);
}

void WatchedCommunicator::sum(std::span<double> values) {
  const Watch watch(*this, "a sum of scalars (losses, counts, checks)");
  inner_->sum(values);
}

std::vector<std::uint64_t> WatchedCommunicator::all_gather(std::uint64_t value) {
  const Watch watch(*this, "an all-gather");
  return inner_->all_gather(value);
}

void WatchedCommunicator::barrier() {
  const Watch watch(*this, "a barrier");
  inner_->barrier();
}

}  // namespace ringtrain
