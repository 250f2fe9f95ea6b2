// TimedCommunicator: wraps a communicator and adds up the wall time its caller spends blocked in it
// (blocking collectives, and waits on started sums). That is the communication not hidden behind compute,
// which `ringtrain bench` reports beside the step time.
#pragma once

#include "core/comm/wrapping_communicator.hpp"

namespace ringtrain {

class TimedCommunicator final : public WrappingCommunicator {
 public:
  explicit TimedCommunicator(Communicator& inner) : WrappingCommunicator(inner) {}

  // Seconds spent blocked since construction or the last reset().
  double blocked_seconds() const { return blocked_seconds_; }
  void reset() { blocked_seconds_ = 0; }

  void blocking(const char* what, const std::function<void()>& call) override;

 private:
  double blocked_seconds_ = 0;
};

}  // namespace ringtrain
