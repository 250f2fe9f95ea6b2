// Tests of the stop request that SIGTERM and SIGUSR1 make: the first signal asks for a stop, one delivered
// again soon after is the same request, one 2 s or more later ends the process at once.
#include "core/train/stop_request.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/ops/dense.hpp"
#include "tests/reference/support.hpp"

namespace ringtrain {
namespace {

class StopRequest : public testing::Test {
 protected:
  void SetUp() override {
    install_stop_signal_handlers();
    clear_stop_request();
  }
  void TearDown() override { clear_stop_request(); }
};

TEST_F(StopRequest, TheFirstSignalAsksForAStop) {
  EXPECT_FALSE(stop_requested());
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  EXPECT_TRUE(stop_requested());
  clear_stop_request();
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(stop_requested());
}

TEST_F(StopRequest, ASignalDeliveredAgainSoonAfterIsTheSameRequest) {
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(std::raise(SIGUSR1), 0);
  EXPECT_TRUE(stop_requested());  // and this process is still here
}

TEST_F(StopRequest, SignalsArrivingTogetherOnSeveralThreadsAreOneRequest) {
  // Each round, threads signal themselves at the same moment: whichever handler runs first records the
  // request, and none of the others may take it for a second signal.
  constexpr int kThreads = 2;
  for (int round = 0; round < 100; ++round) {
    clear_stop_request();
    std::atomic<int> waiting = kThreads;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        --waiting;
        while (waiting.load() > 0) {
        }
        pthread_kill(pthread_self(), SIGUSR1);
      });
    }
    for (auto& thread : threads)
      thread.join();
    ASSERT_TRUE(stop_requested()) << "round " << round;
  }
}

TEST_F(StopRequest, AnotherSignalTwoSecondsLaterEndsTheProcessAtOnce) {
  EXPECT_EXIT(
      {
        install_stop_signal_handlers(true);
        std::raise(SIGUSR1);
        std::this_thread::sleep_for(std::chrono::milliseconds(2100));
        std::raise(SIGUSR1);
        std::exit(0);  // not reached
      },
      testing::ExitedWithCode(128 + SIGUSR1),
      "SIGUSR1 received: checkpointing and stopping at the next step boundary\n"
      "ringtrain: SIGUSR1 received again: exiting at once, without a checkpoint");
}

TEST_F(StopRequest, CtrlCAsksForAStopAndASecondOneEndsTheProcessAtOnce) {
  EXPECT_EXIT(
      {
        install_stop_signal_handlers(true);
        std::raise(SIGINT);
        if (!stop_requested()) std::exit(1);
        std::raise(SIGINT);  // at once: no 2 s wait as for a launcher's signals
        std::exit(0);        // not reached
      },
      testing::ExitedWithCode(128 + SIGINT),
      "ringtrain: interrupted \\(Ctrl-C\\): checkpointing and stopping at the next step boundary; Ctrl-C "
      "again "
      "exits at once\n"
      "ringtrain: interrupted \\(Ctrl-C\\) again: exiting at once, without a checkpoint");
}

TEST_F(StopRequest, ACtrlCIgnoredByTheParentStaysIgnored) {
  EXPECT_EXIT(
      {
        std::signal(SIGINT, SIG_IGN);  // as a shell that is not interactive starts a background job
        clear_stop_request();
        install_stop_signal_handlers(true);
        std::raise(SIGINT);
        std::exit(stop_requested() ? 1 : 3);
      },
      testing::ExitedWithCode(3), "");
}

TEST_F(StopRequest, TheAnnouncementSaysWhetherACheckpointIsWritten) {
  install_stop_signal_handlers(true);
  for (const bool writes_checkpoint : {false, true}) {
    clear_stop_request();
    announce_checkpoint_on_stop(writes_checkpoint);
    testing::internal::CaptureStderr();
    ASSERT_EQ(std::raise(SIGTERM), 0);
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_EQ(said,
              writes_checkpoint
                  ? "ringtrain: SIGTERM received: checkpointing and stopping at the next step boundary\n"
                  : "ringtrain: SIGTERM received: stopping at the next step boundary (no --run-dir: no "
                    "checkpoint)\n");
  }
  install_stop_signal_handlers(false);
}

TEST_F(StopRequest, ARequestMadeInCodeIsAFirstRequest) {
  request_stop();
  EXPECT_TRUE(stop_requested());
  ASSERT_EQ(std::raise(SIGUSR1), 0);  // soon after: the same request
  EXPECT_TRUE(stop_requested());
}

// oneDNN's generated f32 GEMM kernels point the stack pointer at a heap workspace while they run: a signal
// handled on their thread writes its frame there, over the workspace and the heap around it. Runs GEMMs
// under a storm of stop signals, with the signals taken on a thread of their own; exits 0 when no result
// changed by a bit (a corrupted heap aborts the process instead, when a damaged block is freed).
[[noreturn]] void gemms_under_a_storm_of_stop_signals() {
  install_stop_signal_handlers();
  take_stop_signals_on_a_thread_of_their_own();
  const Tensor x = reference::random_tensor({64, 1568}, 1);
  const Tensor w = reference::random_tensor({1568, 200}, 2);
  const Tensor bias = reference::random_tensor({200}, 3);
  Tensor expected = Tensor::empty({64, 200});
  Tensor y = Tensor::empty({64, 200});
  ops::dense_forward(x, w, bias, expected);
  std::atomic<bool> storming = true;
  std::thread storm([&] {
    // SIGUSR1 every 100 us for 0.5 s: within the 2 s in which a repeated signal is the same request.
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (std::chrono::steady_clock::now() < end) {
      ::kill(::getpid(), SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    storming = false;
  });
  int products = 0, changed = 0;
  for (; storming; ++products) {
    std::vector<Tensor> scratch;  // blocks allocated and freed around the workspace
    for (int i = 0; i < 4; ++i)
      scratch.push_back(Tensor::empty({1 + 97 * i}));
    ops::dense_forward(x, w, bias, y);
    changed += std::memcmp(y.data<float>(), expected.data<float>(), sizeof(float) * 64 * 200) != 0;
  }
  storm.join();
  std::fprintf(stderr, "%d products, %d changed, stop requested: %d\n", products, changed,
               static_cast<int>(stop_requested()));
  std::exit(changed == 0 && products > 10 && stop_requested() ? 0 : 1);
}

TEST(StopSignalsDuringComputation, ChangeNoResultAndLeaveTheHeapWhole) {
  EXPECT_EXIT(gemms_under_a_storm_of_stop_signals(), testing::ExitedWithCode(0),
              " 0 changed, stop requested: 1");
}

}  // namespace
}  // namespace ringtrain
