// WrappingCommunicator: each call forwarded, the blocking ones through blocking() with their names.
#include "core/comm/wrapping_communicator.hpp"

namespace ringtrain {

namespace {

class WrappedPendingSum final : public PendingSum {
 public:
  WrappedPendingSum(std::unique_ptr<PendingSum> inner, WrappingCommunicator& owner)
      : inner_(std::move(inner)), owner_(owner) {}
  // A sum never waited for (an error cut the step short) is waited for here, watched like any wait: a rank
  // that failed mid-step does not hang in it before it can end the job.
  ~WrappedPendingSum() override {
    if (!waited_)
      owner_.blocking("the wait for a gradient all-reduce left by an error", [this] { inner_.reset(); });
  }

  void poll() override { inner_->poll(); }
  void wait() override {
    owner_.blocking("the wait for a gradient all-reduce", [&] { inner_->wait(); });
    waited_ = true;
  }

 private:
  std::unique_ptr<PendingSum> inner_;
  WrappingCommunicator& owner_;
  bool waited_ = false;
};

}  // namespace

void WrappingCommunicator::sum(Tensor& buffer) {
  blocking("an all-reduce", [&] { inner_.sum(buffer); });
}

std::unique_ptr<PendingSum> WrappingCommunicator::start_sum(Tensor& buffer) {
  std::unique_ptr<PendingSum> started;
  blocking("the start of a gradient all-reduce", [&] { started = inner_.start_sum(buffer); });
  return std::make_unique<WrappedPendingSum>(std::move(started), *this);
}

void WrappingCommunicator::broadcast(Tensor& buffer, int root) {
  blocking("a broadcast", [&] { inner_.broadcast(buffer, root); });
}

void WrappingCommunicator::sum(std::span<double> values) {
  blocking("a sum of scalars (losses, counts, checks)", [&] { inner_.sum(values); });
}

std::vector<std::uint64_t> WrappingCommunicator::all_gather(std::uint64_t value) {
  std::vector<std::uint64_t> values;
  blocking("an all-gather", [&] { values = inner_.all_gather(value); });
  return values;
}

void WrappingCommunicator::barrier() {
  blocking("a barrier", [&] { inner_.barrier(); });
}

}  // namespace ringtrain
