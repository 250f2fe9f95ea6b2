// The communicator wrappers on a stand-in whose collectives take a set time: TimedCommunicator adds up the
// time blocked, and WatchedCommunicator ends the process (status 1, naming the collective) when one waits
// longer than its timeout (or says that this rank itself did not run), and lets slower-than-usual ones
// finish.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/comm/timed_communicator.hpp"
#include "core/comm/watched_communicator.hpp"

namespace ringtrain {
namespace {

using namespace std::chrono_literals;

// Rank 0 of 2, whose every collective takes `delay`, standing for the other rank being that late.
class LateOtherRank final : public Communicator {
 public:
  explicit LateOtherRank(std::chrono::milliseconds delay) : delay_(delay) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void sum(Tensor&) override { std::this_thread::sleep_for(delay_); }
  std::unique_ptr<PendingSum> start_sum(Tensor&) override { return std::make_unique<Late>(delay_); }
  void broadcast(Tensor&, int) override { std::this_thread::sleep_for(delay_); }
  void sum(std::span<double>) override { std::this_thread::sleep_for(delay_); }
  std::vector<std::uint64_t> all_gather(std::uint64_t value) override {
    std::this_thread::sleep_for(delay_);
    return {value, value};
  }
  void barrier() override { std::this_thread::sleep_for(delay_); }

 private:
  struct Late final : PendingSum {
    explicit Late(std::chrono::milliseconds wait_time) : delay(wait_time) {}
    void poll() override {}
    void wait() override { std::this_thread::sleep_for(delay); }
    std::chrono::milliseconds delay;
  };
  std::chrono::milliseconds delay_;
};

TEST(TimedCommunicator, AddsUpTheTimeBlockedInCollectivesAndWaits) {
  LateOtherRank late(100ms);
  TimedCommunicator timed(late);
  Tensor buffer = Tensor::zeros(Shape{4});
  timed.barrier();
  timed.start_sum(buffer)->wait();  // the start returns at once, the wait takes 100 ms
  EXPECT_GE(timed.blocked_seconds(), 0.19);
  EXPECT_LT(timed.blocked_seconds(), 2.0);
  EXPECT_EQ(timed.all_gather(7), (std::vector<std::uint64_t>{7, 7}));
  timed.reset();
  EXPECT_EQ(timed.blocked_seconds(), 0);
}

TEST(WatchedCommunicator, ACollectiveWithinTheTimeoutFinishes) {
  WatchedCommunicator watched(std::make_unique<LateOtherRank>(1500ms), 10s);
  EXPECT_EQ(watched.all_gather(3), (std::vector<std::uint64_t>{3, 3}));  // one check of the watchdog passes
}

TEST(WatchedCommunicatorDeathTest, ACollectiveWaitingPastTheTimeoutEndsTheProcessNamingIt) {
  EXPECT_EXIT(
      {
        WatchedCommunicator watched(std::make_unique<LateOtherRank>(20s), 10s);
        watched.set_timeout(1s);
        watched.barrier();
      },
      ::testing::ExitedWithCode(1),
      "rank 0: a barrier has waited [0-9]+ s for the other ranks \\(--collective-timeout 1 s\\)");
  EXPECT_EXIT(
      {
        WatchedCommunicator watched(std::make_unique<LateOtherRank>(20s), 1s);
        Tensor buffer = Tensor::zeros(Shape{4});
        watched.start_sum(buffer)->wait();
      },
      ::testing::ExitedWithCode(1), "the wait for a gradient all-reduce has waited");
}

// A rank that was itself stopped (SIGSTOP) for most of its wait says so when it runs again, rather than
// blaming the other ranks.
TEST(WatchedCommunicatorDeathTest, ARankThatDidNotRunSaysSo) {
  EXPECT_EXIT(
      {
        if (::fork() == 0) {  // stops the rank for 4 s of its wait, then lets it run again
          std::this_thread::sleep_for(500ms);
          ::kill(::getppid(), SIGSTOP);
          std::this_thread::sleep_for(4s);
          ::kill(::getppid(), SIGCONT);
          std::_Exit(0);
        }
        WatchedCommunicator watched(std::make_unique<LateOtherRank>(20s), 3s);
        watched.barrier();
      },
      ::testing::ExitedWithCode(1),
      "rank 0: a barrier has waited [0-9]+ s \\(--collective-timeout 3 s\\), but this rank did not run for "
      "[0-9]+ s of it");
}

}  // namespace
}  // namespace ringtrain
