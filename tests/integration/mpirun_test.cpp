// ringtrain under mpirun, as a user starts it: the run on 2 processes prints once and ends like the run on 1;
// processes bound to one core are warned that they share it;
// a rank that fails (the test-only --fail-at-step flag) or is killed with SIGKILL ends the whole job within
// 60 seconds, non-zero, with output that names the rank; a rank that stops without a word ends it after the
// collective timeout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "tests/data/idx_test_files.hpp"
#include "tests/integration/cli_fixtures.hpp"

namespace ringtrain::integration {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;
using Clock = std::chrono::steady_clock;

// How many times `text` holds `part`.
std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

// A run that succeeded and printed `warning` once (rank 0 alone, on standard error), or none at all.
void expect_warned_once(const CommandResult& result, const std::string& warning) {
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_EQ(occurrences(result.err, "ringtrain: warning: " + warning), 1u) << result.describe();
}
void expect_no_warning(const CommandResult& result) {
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_EQ(result.output().find("warning"), std::string::npos) << result.describe();
}

class MpiRun : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare_mpirun_environment();
    write_fake_mnist(dir_.path(), 2560, 250);
  }

  std::vector<std::string> train_arguments(const std::vector<std::string>& extra) const {
    std::vector<std::string> arguments{"train",  "--config",           experiment("01_dense_softmax.ini"),
                                       "--data", dir_.path().string(), "--threads",
                                       "1"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return arguments;
  }

  TemporaryDirectory dir_;
};

TEST_F(MpiRun, TwoProcessesPrintOnceAndEndLikeOne) {
  const CommandResult one = run_mpirun(1, train_arguments({"--epochs", "2"}));
  const CommandResult two = run_mpirun(2, train_arguments({"--epochs", "2"}));
  ASSERT_TRUE(one.exited && one.exit_code == 0) << one.describe();
  ASSERT_TRUE(two.exited && two.exit_code == 0) << two.describe();
  const auto final_one = parse_final_line(last_line(one.out));
  const auto final_two = parse_final_line(last_line(two.out));
  ASSERT_TRUE(final_one && final_two) << one.describe() << two.describe();
  EXPECT_NEAR(final_two->val_accuracy, final_one->val_accuracy, 0.0041)
      << "one correct answer of 250 is 0.004";
  int final_lines = 0;
  for (const auto& line : split_lines(two.out))
    final_lines += line.starts_with("final ");
  EXPECT_EQ(final_lines, 1) << "only rank 0 prints; " << two.describe();
  EXPECT_NE(two.out.find("over 2 process(es)"), std::string::npos) << two.describe();
  // One thread in each of two processes fits two cores, whether mpirun binds each process to a core or not.
  if (std::thread::hardware_concurrency() >= 2) {
    EXPECT_EQ(two.output().find("warning"), std::string::npos) << two.describe();
  }
}

// The CPUs this process may run on.
std::vector<int> allowed_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  return cpus;
}

// Bound to one core each looks like fitting one thread each, until one sees that the core is the same.
TEST_F(MpiRun, ProcessesBoundToOneSharedCoreAreWarnedOnce) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const std::vector<std::string> summary{"summary", "--config", experiment("01_dense_softmax.ini"),
                                         "--threads", "1"};
  expect_warned_once(
      run_mpirun_with_options({"--cpu-set", std::to_string(cpus.front()), "--bind-to", "core"}, 2, summary),
      "2 threads (1 in each of 2 process(es)) on the 1 core that the node's processes may run on");
  if (cpus.size() < 2) return;
  expect_no_warning(run_mpirun_with_options({"--bind-to", "core"}, 2, summary));
}

// Rank 0 may run on two cores and rank 1 on one of them: rank 0 warns of rank 1's cores, which it learns
// from the masks the node's ranks gather; each one's default stays within its own.
TEST_F(MpiRun, AProcessBoundToFewerCoresThanRankZeroIsWarnedOf) {
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs this process may use";
  const std::string first = std::to_string(cpus[0]), second = std::to_string(cpus[1]);
  const fs::path rankfile = dir_.path() / "rankfile";
  std::ofstream(rankfile) << "rank 0=localhost slots=" << first << "," << second << "\n"
                          << "rank 1=localhost slots=" << first << "\n";
  const std::vector<std::string> summary{"summary", "--config", experiment("01_dense_softmax.ini")};
  const std::vector<std::string> uneven{"--rankfile", rankfile.string()};
  std::vector<std::string> two_threads = summary;
  two_threads.insert(two_threads.end(), {"--threads", "2"});
  expect_warned_once(
      run_mpirun_with_options(uneven, 2, two_threads),
      "2 threads in each process, and one of the node's processes may run on only 1 of the node's ");
  expect_no_warning(run_mpirun_with_options(uneven, 2, summary));
}

// The run's header gives the learning rate it trains with: scaled by the processes under --lr-scaling
// linear, and the epoch line shows the scaled rate.
TEST_F(MpiRun, TheHeaderShowsTheLinearlyScaledLearningRate) {
  const CommandResult scaled = run_mpirun(2, train_arguments({"--epochs", "1", "--lr-scaling", "linear"}));
  ASSERT_TRUE(scaled.exited && scaled.exit_code == 0) << scaled.describe();
  EXPECT_NE(scaled.out.find(", lr 0.01 x 2 (--lr-scaling linear), seed 42"), std::string::npos)
      << scaled.describe();
  EXPECT_NE(scaled.out.find("Epoch 1/1 - learning rate 0.02"), std::string::npos) << scaled.describe();
}

TEST_F(MpiRun, BenchSplitsTheStepIntoComputeAndExposedCommunication) {
  const CommandResult result =
      run_mpirun(2, {"bench", "--config", experiment("01_dense_softmax.ini"), "--data", dir_.path().string(),
                     "--threads", "1", "--steps", "20", "--warmup", "2"});
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  const auto rates = find_bench_line(result.out);
  ASSERT_TRUE(rates.has_value()) << result.describe();
  double compute = -1, exposed = -1, share = -1;
  ASSERT_EQ(std::sscanf(last_line(result.out).c_str(),
                        "bench compute_ms_per_step=%lf exposed_communication_ms_per_step=%lf "
                        "exposed_communication_share=%lf%%",
                        &compute, &exposed, &share),
            3)
      << result.describe();
  EXPECT_GT(compute, 0.0);
  EXPECT_GE(exposed, 0.0);
  EXPECT_NEAR(compute + exposed, rates->ms_per_step, 0.01) << result.describe();
  EXPECT_NE(result.out.find("processes=2"), std::string::npos) << result.describe();
}

TEST_F(MpiRun, ABatchThatDoesNotDivideIsAClearError) {
  const CommandResult result = run_mpirun(3, train_arguments({"--batch-size", "128"}));
  EXPECT_FALSE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_NE(result.err.find("batch-size=128"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("multiple of 3, such as 126 or 129"), std::string::npos) << result.describe();
  // Every rank meets it before the first collective: agreed, printed once by rank 0, no rank aborted.
  EXPECT_NE(result.err.find("rank 0: command line: batch-size=128"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("(also failed on ranks 1, 2)"), std::string::npos) << result.describe();
  EXPECT_EQ(occurrences(result.err, "batch-size=128"), 1u) << result.describe();
  EXPECT_EQ(result.output().find("MPI_ABORT"), std::string::npos) << result.describe();
  EXPECT_EQ(result.err.find("to resume"), std::string::npos) << result.describe();
  // A resumed run keeps its batch: the error also gives the process counts that divide it.
  const CommandResult resumed =
      run_mpirun(3, train_arguments({"--batch-size", "128", "--run-dir", (dir_.path() / "run").string(),
                                     "--resume", "auto"}));
  EXPECT_FALSE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  EXPECT_NE(
      resumed.err.find("such as 126 or 129; or, to resume a run trained at batch-size 128 (a resumed run "
                       "keeps its global batch), start a number of processes that divides it, such as 2 "
                       "or 4"),
      std::string::npos)
      << resumed.describe();
}

TEST_F(MpiRun, AnUnknownCommandIsPrintedOnceWithExitCode2) {
  const CommandResult result = run_mpirun(3, {"trian", "--config", experiment("01_dense_softmax.ini")});
  ASSERT_TRUE(result.exited) << result.describe();
  EXPECT_EQ(result.exit_code, 2) << result.describe();
  EXPECT_NE(result.err.find("rank 0: unknown command 'trian'"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("(also failed on ranks 1, 2)"), std::string::npos) << result.describe();
  EXPECT_EQ(occurrences(result.output(), "unknown command"), 1u) << result.describe();
  EXPECT_EQ(occurrences(result.out, "usage: ringtrain COMMAND"), 1u) << result.describe();
  EXPECT_EQ(result.output().find("MPI_ABORT"), std::string::npos) << result.describe();
}

TEST_F(MpiRun, RunDirectoryAndResumeErrorsArePrintedOnceWithoutAnAbort) {
  const std::string run_dir = (dir_.path() / "run").string();
  const CommandResult first = run_mpirun(2, train_arguments({"--epochs", "1", "--run-dir", run_dir}));
  ASSERT_TRUE(first.exited && first.exit_code == 0) << first.describe();
  // A fresh run in a directory with checkpoints: rank 0 alone checks it.
  const CommandResult fresh = run_mpirun(2, train_arguments({"--epochs", "1", "--run-dir", run_dir}));
  EXPECT_FALSE(fresh.exited && fresh.exit_code == 0) << fresh.describe();
  EXPECT_EQ(occurrences(fresh.err, "already holds the checkpoints of a run"), 1u) << fresh.describe();
  EXPECT_EQ(fresh.output().find("MPI_ABORT"), std::string::npos) << fresh.describe();
  // Another model's checkpoint: every rank reads it and finds it so.
  std::vector<std::string> other =
      train_arguments({"--epochs", "1", "--run-dir", run_dir, "--resume", "auto"});
  std::replace(other.begin(), other.end(), experiment("01_dense_softmax.ini"),
               experiment("03_relu_adam.ini"));
  const CommandResult resumed = run_mpirun(2, other);
  EXPECT_FALSE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  EXPECT_EQ(occurrences(resumed.err, "was written for another model"), 1u) << resumed.describe();
  EXPECT_NE(resumed.err.find("(also failed on rank 1)"), std::string::npos) << resumed.describe();
  EXPECT_EQ(resumed.output().find("MPI_ABORT"), std::string::npos) << resumed.describe();
}

// A diverging loss is seen by every rank in the same reduced sums: rank 0 alone says so, and no rank aborts.
TEST_F(MpiRun, ADivergingLossIsReportedOnceWithoutAnAbort) {
  std::vector<std::string> arguments = train_arguments({"--epochs", "1", "--lr", "1e30"});
  std::replace(arguments.begin(), arguments.end(), experiment("01_dense_softmax.ini"),
               experiment("03_relu_adam.ini"));
  const CommandResult diverged = run_mpirun(2, arguments);
  EXPECT_TRUE(diverged.exited && diverged.exit_code == 1) << diverged.describe();
  EXPECT_EQ(occurrences(diverged.err, "the loss became"), 1u) << diverged.describe();
  EXPECT_NE(diverged.err.find("rank 0: the loss became NaN at epoch 1 step "), std::string::npos)
      << diverged.describe();
  EXPECT_EQ(diverged.output().find("MPI_ABORT"), std::string::npos) << diverged.describe();
  EXPECT_EQ(diverged.output().find("SIGTERM"), std::string::npos) << diverged.describe();
}

// Ranks started with different training options (mpirun's form for several programs) would train apart in
// silence: they are refused before training, once, naming the rank; a different --threads is not a
// different run.
TEST_F(MpiRun, RanksStartedWithAnotherConfigurationAreRefused) {
  const std::string refusal = "rank 1 started with other options than rank 0";
  const CommandResult refused = run_mpirun_per_rank(
      {train_arguments({"--epochs", "1"}), train_arguments({"--epochs", "1", "--lr", "0.5"})},
      std::chrono::seconds(120));
  EXPECT_TRUE(refused.exited && refused.exit_code == 1) << refused.describe();
  EXPECT_EQ(occurrences(refused.err, refusal), 1u) << refused.describe();
  EXPECT_EQ(refused.output().find("Epoch 1/1"), std::string::npos) << refused.describe();
  EXPECT_EQ(refused.output().find("MPI_ABORT"), std::string::npos) << refused.describe();
  // A run directory on one rank only would have the ranks enter different collectives.
  const CommandResult one_run_dir =
      run_mpirun_per_rank({train_arguments({"--epochs", "1", "--run-dir", (dir_.path() / "run").string()}),
                           train_arguments({"--epochs", "1"})},
                          std::chrono::seconds(120));
  EXPECT_TRUE(one_run_dir.exited && one_run_dir.exit_code == 1) << one_run_dir.describe();
  EXPECT_EQ(occurrences(one_run_dir.err, refusal), 1u) << one_run_dir.describe();
  std::vector<std::string> two_threads = train_arguments({"--epochs", "1"});
  two_threads[6] = "2";  // the value after --threads
  const CommandResult threads =
      run_mpirun_per_rank({train_arguments({"--epochs", "1"}), two_threads}, std::chrono::seconds(120));
  EXPECT_TRUE(threads.exited && threads.exit_code == 0) << threads.describe();
}

TEST_F(MpiRun, AFailingRankEndsEveryRankNamingItself) {
  const auto start = Clock::now();
  const CommandResult result =
      run_mpirun(2, train_arguments({"--epochs", "1000", "--fail-at-step", "7", "--fail-rank", "1"}),
                 std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_FALSE(result.timed_out) << result.describe();
  EXPECT_FALSE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_LT(seconds, 60.0);
  EXPECT_NE(result.err.find("rank 1: failure injected for testing at global step 8 on rank 1 (at epoch "),
            std::string::npos)
      << result.describe();
}

TEST_F(MpiRun, ARankKilledWithSigkillEndsTheJob) {
  std::atomic<bool> killed = false;
  Clock::time_point kill_time;
  std::thread killer([&] {
    // Rank 1 of this test's job (its --data directory is this test's own), once it is training.
    for (int attempt = 0; attempt < 600 && !killed; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const pid_t pid = find_rank_process(1, dir_.path().string());
      if (pid == 0) continue;
      std::this_thread::sleep_for(std::chrono::seconds(2));
      kill_time = Clock::now();
      killed = ::kill(pid, SIGKILL) == 0;
    }
  });
  const CommandResult result =
      run_mpirun(2, train_arguments({"--epochs", "100000"}), std::chrono::seconds(180));
  const auto end = Clock::now();
  killer.join();
  ASSERT_TRUE(killed) << "rank 1 was never found; " << result.describe();
  EXPECT_FALSE(result.timed_out) << result.describe();
  EXPECT_FALSE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_LT(std::chrono::duration<double>(end - kill_time).count(), 60.0);
  EXPECT_NE(result.output().find("rank 1"), std::string::npos) << result.describe();
}

TEST_F(MpiRun, AStoppedRankEndsTheJobAfterTheCollectiveTimeout) {
  for (const int stopped_rank : {1, 0}) {
    SCOPED_TRACE("rank " + std::to_string(stopped_rank) + " stopped");
    const int waiting_rank = 1 - stopped_rank;
    // The rank stops (SIGSTOP) without a word; the other waits in its next collective until the timeout.
    std::atomic<pid_t> stopped = 0;
    Clock::time_point stop_time;
    std::thread stopper([&] {
      for (int attempt = 0; attempt < 600 && stopped == 0; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const pid_t pid = find_rank_process(stopped_rank, dir_.path().string());
        if (pid == 0) continue;
        std::this_thread::sleep_for(std::chrono::seconds(2));
        stop_time = Clock::now();
        if (::kill(pid, SIGSTOP) == 0) stopped = pid;
      }
    });
    const CommandResult result = run_mpirun(
        2, train_arguments({"--epochs", "100000", "--collective-timeout", "3"}), std::chrono::seconds(180));
    const auto end = Clock::now();
    stopper.join();
    if (stopped != 0) ::kill(stopped, SIGKILL);  // in case the launcher left it
    ASSERT_NE(stopped.load(), 0) << "the rank was never found; " << result.describe();
    EXPECT_FALSE(result.timed_out) << result.describe();
    EXPECT_FALSE(result.exited && result.exit_code == 0) << result.describe();
    const double seconds = std::chrono::duration<double>(end - stop_time).count();
    EXPECT_GE(seconds, 3.0) << result.describe();
    EXPECT_LT(seconds, 30.0) << result.describe();
    const std::string waited = "rank " + std::to_string(waiting_rank) + ": ";
    EXPECT_NE(result.err.find(waited), std::string::npos) << result.describe();
    EXPECT_NE(result.err.find("for the other ranks (--collective-timeout 3 s)"), std::string::npos)
        << result.describe();
    // The stopped rank, if mpirun lets it run again before ending it, says that it did not run.
    const auto own = result.err.find("rank " + std::to_string(stopped_rank) + ": ");
    if (own != std::string::npos) {
      EXPECT_NE(result.err.find("but this rank did not run for", own), std::string::npos)
          << result.describe();
    }
  }
}

TEST_F(MpiRun, ARankStuckInItsSetupEndsTheJobAfterTheUsersCollectiveTimeout) {
  // Rank 1 reads its config from a FIFO that nobody writes; rank 0 waits for it in the setup's agreement,
  // which keeps the job's own --collective-timeout (3 s, not the 300 s default).
  const fs::path fifo = dir_.path() / "config.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::vector<std::string> stuck = train_arguments({"--collective-timeout", "3"});
  std::replace(stuck.begin(), stuck.end(), experiment("01_dense_softmax.ini"), fifo.string());
  const auto start = Clock::now();
  const CommandResult result =
      run_mpirun_per_rank({train_arguments({"--collective-timeout", "3"}), stuck}, std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // A rank the launcher left blocked on the FIFO gets a writer, and an empty config ends it.
  const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (writer >= 0) ::close(writer);
  EXPECT_LT(writer, 0) << "a rank outlived its job";
  EXPECT_FALSE(result.exited && result.exit_code == 0) << result.describe();
  EXPECT_LT(seconds, 35.0) << result.describe();
  EXPECT_NE(result.err.find("rank 0: "), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("(--collective-timeout 3 s)"), std::string::npos) << result.describe();
}

}  // namespace
}  // namespace ringtrain::integration
