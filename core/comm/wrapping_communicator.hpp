// WrappingCommunicator: a communicator that forwards every call to another and runs each blocking one (the
// collectives, and the wait on a started sum) through blocking(), where a subclass adds what it is for:
// timing (TimedCommunicator) or a watchdog (WatchedCommunicator).
#pragma once

#include <functional>
#include <memory>

#include "core/comm/communicator.hpp"

namespace ringtrain {

class WrappingCommunicator : public Communicator {
 public:
  explicit WrappingCommunicator(Communicator& inner) : inner_(inner) {}
  explicit WrappingCommunicator(std::unique_ptr<Communicator> owned)
      : owned_(std::move(owned)), inner_(*owned_) {}

  int rank() const final { return inner_.rank(); }
  int size() const final { return inner_.size(); }
  void sum(Tensor& buffer) final;
  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) final;
  void broadcast(Tensor& buffer, int root) final;
  void sum(std::span<double> values) final;
  std::vector<std::uint64_t> all_gather(std::uint64_t value) final;
  void barrier() final;
  void watch_queued_work(const char* what) final { inner_.watch_queued_work(what); }
  void throw_if_failed() const final { inner_.throw_if_failed(); }

  // Runs `call`, a call into the wrapped communicator that blocks until the other ranks take part; `what`
  // names it for people ("an all-reduce").
  virtual void blocking(const char* what, const std::function<void()>& call) = 0;

 private:
  std::unique_ptr<Communicator> owned_;
  Communicator& inner_;
};

}  // namespace ringtrain
