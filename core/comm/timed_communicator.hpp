// TimedCommunicator: wraps a communicator and adds up the wall time its caller spends blocked in it
// (blocking collectives, and waits on started sums). That is the communication not hidden behind compute,
// which `ringtrain bench` reports beside the step time.
#pragma once

#include "core/comm/communicator.hpp"

namespace ringtrain {

class TimedCommunicator final : public Communicator {
 public:
  explicit TimedCommunicator(Communicator& inner) : inner_(inner) {}

  // Seconds spent blocked since construction or the last reset().
  double blocked_seconds() const { return blocked_seconds_; }
  void reset() { blocked_seconds_ = 0; }

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void sum(Tensor& buffer) override;
  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override;
  void broadcast(Tensor& buffer, int root) override;
  void sum(std::span<double> values) override;
  std::vector<std::uint64_t> all_gather(std::uint64_t value) override;
  void barrier() override;
  void watch_queued_work(const char* what) override { inner_.watch_queued_work(what); }
  void throw_if_failed() const override { inner_.throw_if_failed(); }

 private:
  // Runs `call`, adding its wall time to blocked_seconds_.
  template <typename Call>
  auto timed(Call&& call) -> decltype(call());

  Communicator& inner_;
  double blocked_seconds_ = 0;
};

}  // namespace ringtrain
