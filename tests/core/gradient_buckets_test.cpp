// GradientBuckets on a stand-in communicator that records which buckets it was asked to sum and which sums
// were waited for: buckets start from the buffer's end as backward produces them, and a step abandoned midway
// waits for the sums it started (ignoring their errors) before the next step starts from the first bucket.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/check.hpp"
#include "core/comm/gradient_buckets.hpp"

namespace ringtrain {
namespace {

// World size 2, whose sums do nothing but leave a trace: the size of each bucket started, and the waits.
class TracingCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void sum(Tensor&) override {}
  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override {
    started.push_back(buffer.numel());
    return std::make_unique<Traced>(*this, failing_waits);
  }
  void broadcast(Tensor&, int) override {}
  void sum(std::span<double>) override {}
  std::vector<std::uint64_t> all_gather(std::uint64_t value) override { return {value, value}; }
  void barrier() override {}

  std::vector<std::int64_t> started;  // the size of each bucket started, in order
  int waits = 0;
  bool failing_waits = false;

 private:
  struct Traced final : PendingSum {
    Traced(TracingCommunicator& owner, bool fails) : communicator(owner), failing(fails) {}
    void poll() override {}
    void wait() override {
      ++communicator.waits;
      RT_CHECK(!failing, "the sum failed");
    }
    TracingCommunicator& communicator;
    bool failing;
  };
};

TEST(GradientBuckets, StartBucketsFromTheEndAsBackwardReachesThem) {
  TracingCommunicator communicator;
  GradientBuckets buckets(communicator, Tensor::zeros({10}), 4);  // [0, 2), [2, 6), [6, 10)
  EXPECT_EQ(buckets.bucket_count(), 3u);
  buckets.ready_from(7);
  EXPECT_TRUE(communicator.started.empty());
  buckets.ready_from(6);
  EXPECT_EQ(communicator.started, (std::vector<std::int64_t>{4}));
  buckets.finish();
  EXPECT_EQ(communicator.started, (std::vector<std::int64_t>{4, 4, 2}));
  EXPECT_EQ(communicator.waits, 3);
}

TEST(GradientBuckets, AnAbandonedStepWaitsForItsSumsIgnoringTheirErrorsAndTheNextStartsAfresh) {
  TracingCommunicator communicator;
  GradientBuckets buckets(communicator, Tensor::zeros({10}), 4);
  buckets.ready_from(2);  // two of three buckets started, then the step fails
  communicator.failing_waits = true;
  EXPECT_NO_THROW(buckets.abandon());
  EXPECT_EQ(communicator.waits, 2);
  communicator.failing_waits = false;
  communicator.started.clear();
  buckets.ready_from(6);  // the next step starts from the first bucket again
  EXPECT_EQ(communicator.started, (std::vector<std::int64_t>{4}));
  buckets.finish();
  EXPECT_EQ(communicator.started, (std::vector<std::int64_t>{4, 4, 2}));
  EXPECT_EQ(communicator.waits, 2 + 3);
}

}  // namespace
}  // namespace ringtrain
