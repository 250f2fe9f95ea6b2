// TimedCommunicator: every call forwarded, the blocking ones timed.
#include "core/comm/timed_communicator.hpp"

#include <chrono>

namespace ringtrain {

namespace {

using Clock = std::chrono::steady_clock;

class TimedPendingSum final : public PendingSum {
 public:
  TimedPendingSum(std::unique_ptr<PendingSum> inner, double& blocked_seconds)
      : inner_(std::move(inner)), blocked_seconds_(blocked_seconds) {}

  void poll() override { inner_->poll(); }
  void wait() override {
    const auto start = Clock::now();
    inner_->wait();
    blocked_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  }

 private:
  std::unique_ptr<PendingSum> inner_;
  double& blocked_seconds_;
};

}  // namespace

template <typename Call>
auto TimedCommunicator::timed(Call&& call) -> decltype(call()) {
  const auto start = Clock::now();
  struct AddOnExit {
    Clock::time_point start;
    double& total;
    ~AddOnExit() { total += std::chrono::duration<double>(Clock::now() - start).count(); }
  } add_on_exit{start, blocked_seconds_};
  return call();
}

void TimedCommunicator::sum(Tensor& buffer) {
  timed([&] { inner_.sum(buffer); });
}

std::unique_ptr<PendingSum> TimedCommunicator::start_sum(Tensor& buffer) {
  return std::make_unique<TimedPendingSum>(timed([&] { return inner_.start_sum(buffer); }), blocked_seconds_);
}

void TimedCommunicator::broadcast(Tensor& buffer, int root) {
  timed([&] { inner_.broadcast(buffer, root); });
}

void TimedCommunicator::sum(std::span<double> values) {
  timed([&] { inner_.sum(values); });
}

std::vector<std::uint64_t> TimedCommunicator::all_gather(std::uint64_t value) {
  return timed([&] { return inner_.all_gather(value); });
}

void TimedCommunicator::barrier() {
  timed([&] { inner_.barrier(); });
}

}  // namespace ringtrain
