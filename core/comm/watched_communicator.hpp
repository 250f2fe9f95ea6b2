// WatchedCommunicator: wraps a communicator whose collectives cannot time out by themselves (MPI) and ends
// this process when one of them has waited longer than the timeout. A rank that stops or hangs (a stopped
// process, a stuck file system) would otherwise leave every other rank waiting in its next collective
// forever; with the watchdog each waiting rank says what it waited in, and for how long, and exits with
// status 1, and the launcher (mpirun, srun --kill-on-bad-exit) ends the job. The ranks that did not say so
// are the ones that stopped. A thread checks once a second; the calls themselves only note the time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/comm/communicator.hpp"

namespace ringtrain {

class WatchedCommunicator final : public Communicator {
 public:
  WatchedCommunicator(std::unique_ptr<Communicator> inner, std::chrono::milliseconds timeout);
  ~WatchedCommunicator() override;
  WatchedCommunicator(const WatchedCommunicator&) = delete;
  WatchedCommunicator& operator=(const WatchedCommunicator&) = delete;

  // Collectives started from now on may wait this long.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ms_ = timeout.count(); }

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  void sum(Tensor& buffer) override;
  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override;
  void broadcast(Tensor& buffer, int root) override;
  void sum(std::span<double> values) override;
  std::vector<std::uint64_t> all_gather(std::uint64_t value) override;
  void barrier() override;
  void watch_queued_work(const char* what) override { inner_->watch_queued_work(what); }
  void throw_if_failed() const override { inner_->throw_if_failed(); }

  // Marks a blocking call as begun (`what` names it in the message) and, on destruction, as ended.
  class Watch {
   public:
    Watch(WatchedCommunicator& owner, const char* what);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    WatchedCommunicator& owner_;
  };

 private:
  void watch();

  std::unique_ptr<Communicator> inner_;
  std::atomic<std::int64_t> timeout_ms_;
  std::atomic<std::int64_t> waiting_since_ns_{0};  // steady clock; 0: in no collective
  std::atomic<const char*> waiting_in_{""};
  std::mutex mutex_;
  std::condition_variable stopping_;
  bool stop_ = false;
  std::thread watchdog_;
};

}  // namespace ringtrain
