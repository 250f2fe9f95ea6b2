// Checkpoints and resume with the real binary: a run killed with SIGKILL at several steps (1 and 2
// processes) and resumed with --resume auto ends bitwise equal to the run never interrupted; a kill inside
// a checkpoint write leaves the previous checkpoint usable; SIGUSR1 checkpoints and exits with the requeue
// code; a run stopped on 2 processes continues on 1 and the reverse; another architecture's checkpoint is
// refused naming the parameter; evaluate and predict rebuild the model from a checkpoint alone; a full disk
// ends a run with an error and leaves its checkpoints to resume from; a second run on a directory in use is
// refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include "core/checkpoint/checkpoint.hpp"
#include "core/checkpoint/hdf5_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "tests/data/idx_test_files.hpp"
#include "tests/integration/cli_fixtures.hpp"
#include "tests/scoped_environment.hpp"

namespace ringtrain::integration {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;
using testing::HasSubstr;

constexpr int kExitStoppedBySignal = 75;
constexpr std::int64_t kStepsPerEpoch = 20;  // 1280 samples, global batch 64
constexpr std::int64_t kEpochs = 2;

// Every dataset a checkpoint holds, by name.
std::map<std::string, std::vector<float>> contents(const fs::path& checkpoint) {
  const Hdf5File file = Hdf5File::open_for_reading(checkpoint);
  std::map<std::string, std::vector<float>> all;
  for (const std::string group : {"parameters", "state", "optimizer"}) {
    for (const auto& name : file.datasets_under(group)) {
      if (name != "optimizer/steps") all[name] = file.read_floats(name).values;
    }
  }
  return all;
}

// The largest |a - b| / max |b| over the datasets.
double worst_relative_difference(const std::map<std::string, std::vector<float>>& a,
                                 const std::map<std::string, std::vector<float>>& b) {
  double worst = 0;
  for (const auto& [name, values] : b) {
    const auto& other = a.at(name);
    double difference = 0, scale = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      difference = std::max(difference, std::abs(static_cast<double>(other[i]) - values[i]));
      scale = std::max(scale, std::abs(static_cast<double>(values[i])));
    }
    worst = std::max(worst, difference / std::max(scale, 1e-30));
  }
  return worst;
}

class ResumeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare_mpirun_environment();
    data_ = dir_.path() / "mnist";
    write_fake_mnist(data_, kStepsPerEpoch * 64, 150);
  }

  // train arguments for experiment 9 on the fake data into `run_dir`, checkpointing every 2 steps.
  std::vector<std::string> train_arguments(const fs::path& run_dir,
                                           const std::vector<std::string>& extra = {}) {
    std::vector<std::string> arguments{"train",
                                       "--config",
                                       experiment("09_batch_norm.ini"),
                                       "--data",
                                       data_.string(),
                                       "--epochs",
                                       std::to_string(kEpochs),
                                       "--batch-size",
                                       "64",
                                       "--threads",
                                       "1",
                                       "--run-dir",
                                       run_dir.string(),
                                       "--checkpoint-every",
                                       "2",
                                       "--keep",
                                       "3"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return arguments;
  }

  CommandResult train(int processes, const fs::path& run_dir, const std::vector<std::string>& extra = {},
                      const std::function<void(pid_t)>& started = {}) {
    const auto arguments = train_arguments(run_dir, extra);
    if (processes == 1) return run_command(with_binary(arguments), std::chrono::seconds(300), started);
    return run_mpirun(processes, arguments, std::chrono::seconds(300), started);
  }

  static std::vector<std::string> with_binary(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), ringtrain_binary());
    return arguments;
  }

  // The final checkpoint of a finished run.
  static fs::path final_checkpoint(const fs::path& run_dir) {
    return checkpoint_path(run_dir, kEpochs * kStepsPerEpoch);
  }

  // Runs to the end uninterrupted, once per test, and returns its final checkpoint.
  fs::path uninterrupted(int processes) {
    const fs::path run_dir = dir_.path() / ("whole-" + std::to_string(processes));
    const CommandResult result = train(processes, run_dir);
    EXPECT_TRUE(result.exited && result.exit_code == 0) << result.describe();
    return final_checkpoint(run_dir);
  }

  // Starts a run and SIGKILLs every one of its processes once a checkpoint of step >= `after` exists.
  CommandResult train_and_kill(int processes, const fs::path& run_dir, std::int64_t after) {
    std::atomic<bool> done = false, killed = false;
    std::thread killer([&] {
      while (!done) {
        const auto paths = list_checkpoints(run_dir);
        if (!paths.empty() && paths.back() >= checkpoint_path(run_dir, after)) {
          for (const pid_t pid : find_ringtrain_processes(run_dir.string()))
            killed = ::kill(pid, SIGKILL) == 0 || killed;
          if (killed) return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    CommandResult result = train(processes, run_dir);
    done = true;
    killer.join();
    EXPECT_TRUE(killed) << "the run ended before it could be killed after step " << after << "; "
                        << result.describe();
    EXPECT_FALSE(result.exited && result.exit_code == 0) << result.describe();
    return result;
  }

  // Trains on 1 process with --pause-in-checkpoint-write `step`; once that write is paused (its temporary
  // file complete, not yet renamed), calls `act` with the process's pid on another thread. Returns the run's
  // result and what `act` returned (false when the pause never came).
  std::pair<CommandResult, bool> train_paused_in_write(const fs::path& run_dir, std::int64_t step,
                                                       const std::function<bool(pid_t)>& act) {
    std::string partial = checkpoint_path(run_dir, step).filename().string();  // hidden, then the pid
    partial.insert(0, 1, '.');
    partial.append(".partial-");
    std::atomic<pid_t> child = 0;
    std::atomic<bool> acted = false, done = false;
    std::thread actor([&] {
      while (!done && !acted) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(run_dir, error)) {
          if (child != 0 && entry.path().filename().string().starts_with(partial)) {
            acted = act(child);
            break;
          }
        }
      }
    });
    CommandResult result = train(1, run_dir, {"--pause-in-checkpoint-write", std::to_string(step)},
                                 [&](pid_t pid) { child = pid; });
    done = true;
    actor.join();
    return {std::move(result), acted.load()};
  }

  TemporaryDirectory dir_;
  fs::path data_;
};

// Five different steps, drawn anew each run (the trace names them).
std::vector<std::int64_t> random_steps() {
  std::vector<std::int64_t> steps(kEpochs * kStepsPerEpoch - 8);  // time left to kill it before the end
  std::iota(steps.begin(), steps.end(), 1);
  std::shuffle(steps.begin(), steps.end(), std::mt19937(std::random_device{}()));
  steps.resize(5);
  return steps;
}

TEST_F(ResumeCli, KilledAtFiveRandomStepsAndResumedEndsBitwiseEqualOnOneProcess) {
  const auto expected = contents(uninterrupted(1));
  for (const std::int64_t after : random_steps()) {
    SCOPED_TRACE("killed after the checkpoint of step " + std::to_string(after));
    const fs::path run_dir = dir_.path() / ("killed-" + std::to_string(after));
    train_and_kill(1, run_dir, after);
    const CommandResult resumed = train(1, run_dir, {"--resume", "auto"});
    ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
    EXPECT_THAT(resumed.out, HasSubstr("resume: from "));
    EXPECT_TRUE(contents(final_checkpoint(run_dir)) == expected) << "not bitwise equal";
    // metrics.h5 continued: one row per epoch and per 10 steps, none twice.
    const Hdf5File metrics = Hdf5File::open_for_reading(run_dir / "metrics.h5");
    EXPECT_EQ(metrics.read_doubles("epochs/epoch").values, (std::vector<double>{0, 1}));
    EXPECT_EQ(metrics.read_doubles("steps/global_step").values, (std::vector<double>{10, 20, 30, 40}));
  }
}

TEST_F(ResumeCli, ADamagedMetricsFileIsSetAsideAndTheRunGoesOn) {
  const fs::path run_dir = dir_.path() / "damaged-metrics";
  train_and_kill(1, run_dir, 24);
  const fs::path metrics_path = run_dir / "metrics.h5";
  fs::resize_file(metrics_path, fs::file_size(metrics_path) / 2);
  const CommandResult resumed = train(1, run_dir, {"--resume", "auto"});
  ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  EXPECT_THAT(resumed.err, HasSubstr("warning: " + metrics_path.string()));
  EXPECT_THAT(resumed.err, HasSubstr("it is kept as " + metrics_path.string() + ".damaged-"));
  int set_aside = 0;
  for (const auto& entry : fs::directory_iterator(run_dir))
    set_aside += entry.path().filename().string().starts_with("metrics.h5.damaged-") ? 1 : 0;
  EXPECT_EQ(set_aside, 1);
  // The new file holds what came after the resume: the last epoch's row and its steps.
  const Hdf5File metrics = Hdf5File::open_for_reading(metrics_path);
  EXPECT_EQ(metrics.read_doubles("epochs/epoch").values, (std::vector<double>{1}));
  EXPECT_EQ(metrics.read_doubles("steps/global_step").values.back(), 40);
}

TEST_F(ResumeCli, KilledAndResumedEndsBitwiseEqualOnTwoProcesses) {
  const auto expected = contents(uninterrupted(2));
  for (const std::int64_t after : {6, 27}) {
    SCOPED_TRACE("killed after the checkpoint of step " + std::to_string(after));
    const fs::path run_dir = dir_.path() / ("killed2-" + std::to_string(after));
    train_and_kill(2, run_dir, after);
    const CommandResult resumed = train(2, run_dir, {"--resume", "auto"});
    ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
    EXPECT_TRUE(contents(final_checkpoint(run_dir)) == expected) << "not bitwise equal";
  }
}

TEST_F(ResumeCli, AKillInsideACheckpointWriteLeavesThePreviousOneToResumeFrom) {
  const auto expected = contents(uninterrupted(1));
  const fs::path run_dir = dir_.path() / "killed-in-write";
  const auto [stopped, killed] = train_paused_in_write(run_dir, 12, [](pid_t pid) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return ::kill(pid, SIGKILL) == 0;
  });
  ASSERT_TRUE(killed) << stopped.describe();
  EXPECT_THAT(stopped.err, HasSubstr("checkpoint write paused"));
  const auto paths = list_checkpoints(run_dir);
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths.back(), checkpoint_path(run_dir, 10)) << "the interrupted write must not appear";
  const CommandResult resumed = train(1, run_dir, {"--resume", "auto"});
  ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("resume: from " + checkpoint_path(run_dir, 10).string()));
  EXPECT_TRUE(contents(final_checkpoint(run_dir)) == expected) << "not bitwise equal";
  for (const auto& entry : fs::directory_iterator(run_dir))
    EXPECT_THAT(entry.path().filename().string(), testing::Not(HasSubstr(".partial-"))) << "left behind";
}

TEST_F(ResumeCli, ASecondRunOnADirectoryInUseIsRefusedAndChangesNothing) {
  const fs::path run_dir = dir_.path() / "in-use";
  CommandResult second;
  std::vector<fs::path> before, after;
  // The first run holds its run directory while it waits inside the write of step 6's checkpoint.
  const auto [first, acted] = train_paused_in_write(run_dir, 6, [&](pid_t pid) {
    before = list_checkpoints(run_dir);
    second = train(1, run_dir, {"--resume", "auto", "--lock-wait", "1"});
    after = list_checkpoints(run_dir);
    return ::kill(pid, SIGKILL) == 0;
  });
  ASSERT_TRUE(acted) << first.describe();
  ASSERT_TRUE(second.exited && second.exit_code == 1) << second.describe();
  EXPECT_THAT(second.err, HasSubstr(run_dir.string() + " is in use by another training run (pid="));
  EXPECT_THAT(second.err, HasSubstr("waiting up to 1 s for it to end"));
  EXPECT_EQ(after, before);
  EXPECT_EQ(before.back(), checkpoint_path(run_dir, 4));
}

TEST_F(ResumeCli, AStopWhileWaitingForTheDirectoryEndsAsAStopAndWritesNothing) {
  for (const int processes : {1, 2}) {
    SCOPED_TRACE(std::to_string(processes) + " process(es)");
    const fs::path run_dir = dir_.path() / ("stopped-waiting-" + std::to_string(processes));
    CommandResult second;
    std::vector<fs::path> before, after;
    const auto [first, acted] = train_paused_in_write(run_dir, 6, [&](pid_t pid) {
      before = list_checkpoints(run_dir);
      std::thread stopper;
      // SIGUSR1, which mpirun passes on to every rank, as Slurm's warning signal before a job's end.
      second = train(processes, run_dir, {"--resume", "auto", "--lock-wait", "60"}, [&](pid_t waiter) {
        stopper = std::thread([waiter] {
          std::this_thread::sleep_for(std::chrono::milliseconds(2500));
          ::kill(waiter, SIGUSR1);
        });
      });
      stopper.join();
      after = list_checkpoints(run_dir);
      return ::kill(pid, SIGKILL) == 0;
    });
    ASSERT_TRUE(acted) << first.describe();
    EXPECT_TRUE(second.exited && second.exit_code == kExitStoppedBySignal) << second.describe();
    EXPECT_THAT(second.out, HasSubstr("stopped by a signal while waiting for " + run_dir.string()));
    EXPECT_THAT(second.err, testing::Not(HasSubstr("MPI_ABORT"))) << second.describe();
    EXPECT_EQ(after, before);
  }
}

// train arguments for a run that goes on until it is signalled.
std::vector<std::string> endless(std::vector<std::string> arguments) {
  const auto epochs = std::find(arguments.begin(), arguments.end(), "--epochs");
  *(epochs + 1) = "1000";
  return arguments;
}

TEST_F(ResumeCli, ARunWaitingForItsDirectoryResumesFromWhereTheHolderStopped) {
  const fs::path run_dir = dir_.path() / "waited-for";
  std::atomic<pid_t> holder_pid = 0, waiter_pid = 0;
  CommandResult holder, waiter;
  std::thread holding([&] {
    holder = run_command(with_binary(endless(train_arguments(run_dir))), std::chrono::seconds(300),
                         [&](pid_t pid) { holder_pid = pid; });
  });
  for (int i = 0; i < 3000 && list_checkpoints(run_dir).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::thread waiting([&] {
    waiter = run_command(
        with_binary(endless(train_arguments(run_dir, {"--resume", "auto", "--lock-wait", "120"}))),
        std::chrono::seconds(300), [&](pid_t pid) { waiter_pid = pid; });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the waiter is waiting for the lock
  if (holder_pid != 0) ::kill(holder_pid, SIGUSR1);
  holding.join();
  const auto written = list_checkpoints(run_dir);
  const fs::path holders_last = written.empty() ? fs::path() : written.back();
  // The waiter trains on from there; stopped once it has written a checkpoint of its own.
  const auto waiter_wrote = [&] {
    const auto paths = list_checkpoints(run_dir);
    return !paths.empty() && paths.back() != holders_last;
  };
  for (int i = 0; i < 3000 && !waiter_wrote(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (waiter_pid != 0) ::kill(waiter_pid, SIGUSR1);
  waiting.join();
  ASSERT_FALSE(written.empty()) << holder.describe();
  ASSERT_TRUE(holder.exited && holder.exit_code == kExitStoppedBySignal) << holder.describe();
  ASSERT_TRUE(waiter.exited && waiter.exit_code == kExitStoppedBySignal) << waiter.describe();
  EXPECT_THAT(waiter.err, HasSubstr("is in use by another training run"));
  EXPECT_THAT(waiter.out, HasSubstr("resume: from " + holders_last.string()));
  for (const auto& entry : fs::directory_iterator(run_dir))
    EXPECT_THAT(entry.path().filename().string(), testing::Not(HasSubstr(".superseded-"))) << "set aside";
}

TEST_F(ResumeCli, OtherRanksWaitForRankZerosLockPastTheirCollectiveTimeout) {
  const fs::path run_dir = dir_.path() / "waited-for-by-two";
  std::atomic<pid_t> holder_pid = 0;
  CommandResult holder;
  std::thread holding([&] {
    holder = run_command(with_binary(endless(train_arguments(run_dir))), std::chrono::seconds(300),
                         [&](pid_t pid) { holder_pid = pid; });
  });
  for (int i = 0; i < 3000 && list_checkpoints(run_dir).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Rank 0 waits 4 s for the lock; rank 1 waits for rank 0 with a collective timeout of 1 s.
  const CommandResult refused =
      train(2, run_dir, {"--resume", "auto", "--lock-wait", "4", "--collective-timeout", "1"});
  if (holder_pid != 0) ::kill(holder_pid, SIGUSR1);
  holding.join();
  EXPECT_FALSE(refused.exited && refused.exit_code == 0) << refused.describe();
  EXPECT_THAT(refused.err, HasSubstr("rank 0: " + run_dir.string() + " is in use by another training run"));
  EXPECT_THAT(refused.err, testing::Not(HasSubstr("has waited"))) << refused.describe();
  EXPECT_THAT(refused.err, testing::Not(HasSubstr("MPI_ABORT"))) << refused.describe();
  EXPECT_TRUE(refused.exited && refused.exit_code == 1) << refused.describe();
}

TEST_F(ResumeCli, AFullDiskEndsTheRunWithAnErrorAndLeavesItsCheckpointsToResumeFrom) {
  const auto expected = contents(uninterrupted(1));
  const fs::path run_dir = dir_.path() / "full-disk";
  train_and_kill(1, run_dir, 10);
  const fs::path newest = list_checkpoints(run_dir).back();
  // Files may not grow past 1 MiB (a checkpoint is about 4 MiB): writes fail as on a full disk, with EFBIG.
  std::vector<std::string> limited{"/bin/bash", "-c", "trap '' XFSZ; ulimit -f 1024; exec \"$0\" \"$@\"",
                                   ringtrain_binary()};
  for (const auto& argument : train_arguments(run_dir, {"--resume", "auto"}))
    limited.push_back(argument);
  const CommandResult full = run_command(limited, std::chrono::seconds(300));
  ASSERT_TRUE(full.exited && full.exit_code == 1) << full.describe();
  const std::int64_t failed_step = std::stoll(newest.stem().string().substr(11)) + 2;
  EXPECT_THAT(full.err, HasSubstr("writing the checkpoint " + checkpoint_path(run_dir, failed_step).string() +
                                  " failed; the files already in its directory are unchanged"));
  EXPECT_THAT(full.err, HasSubstr("(File too large)"));
  EXPECT_EQ(list_checkpoints(run_dir).back(), newest);
  for (const auto& entry : fs::directory_iterator(run_dir))
    EXPECT_THAT(entry.path().filename().string(), testing::Not(HasSubstr(".partial-"))) << "left behind";
  const CommandResult resumed = train(1, run_dir, {"--resume", "auto"});
  ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("resume: from " + newest.string()));
  EXPECT_TRUE(contents(final_checkpoint(run_dir)) == expected) << "not bitwise equal";
}

TEST_F(ResumeCli, Sigusr1CheckpointsAndExitsWithTheRequeueCodeOnOneAndTwoProcesses) {
  for (const int processes : {1, 2}) {
    SCOPED_TRACE(std::to_string(processes) + " process(es)");
    const auto expected = contents(uninterrupted(processes));
    const fs::path run_dir = dir_.path() / ("signalled-" + std::to_string(processes));
    std::atomic<bool> signalled = false;
    pid_t launcher = 0;
    std::thread signaller([&] {
      for (int attempt = 0; attempt < 3000 && !signalled; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        const auto paths = list_checkpoints(run_dir);
        // mpirun forwards SIGUSR1 to its ranks.
        if (!paths.empty() && paths.back() >= checkpoint_path(run_dir, 8) && launcher != 0)
          signalled = ::kill(launcher, SIGUSR1) == 0;
      }
    });
    const CommandResult stopped = train(processes, run_dir, {}, [&](pid_t pid) { launcher = pid; });
    signaller.join();
    ASSERT_TRUE(signalled) << stopped.describe();
    EXPECT_TRUE(stopped.exited && stopped.exit_code == kExitStoppedBySignal) << stopped.describe();
    EXPECT_THAT(stopped.out, HasSubstr("stopped by a signal; checkpoint "));
    // Said once, by rank 0, as the signal arrives.
    const std::string announced = "ringtrain: SIGUSR1 received: checkpointing and stopping at the next step";
    EXPECT_THAT(stopped.err, HasSubstr(announced));
    EXPECT_EQ(stopped.err.find(announced), stopped.err.rfind(announced)) << stopped.describe();
    const CommandResult resumed = train(processes, run_dir, {"--resume", "auto"});
    ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
    EXPECT_TRUE(contents(final_checkpoint(run_dir)) == expected) << "not bitwise equal";
  }
}

TEST_F(ResumeCli, AStormOfStopSignalsStopsTheRunOnceWithAReadableCheckpoint) {
  // The heap is the unit test's (StopSignalsDuringComputation): here the whole run under a storm stops once,
  // says so once, and leaves a checkpoint. Small blocks come from the heap, so that a damaged one is more
  // likely to be found when it is freed.
  const ScopedEnvironment small_blocks_on_the_heap("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=4194304");
  const fs::path run_dir = dir_.path() / "storm";
  std::atomic<pid_t> pid = 0;
  std::atomic<int> sent = 0;
  std::thread storm([&] {
    // Once training is under way (its second step's checkpoint written): SIGUSR1 every 200 us for 0.5 s, all
    // within the 2 s in which a repeated signal is the same request.
    for (int attempt = 0; attempt < 6000 && (pid == 0 || list_checkpoints(run_dir).empty()); ++attempt)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (int i = 0; i < 2500 && pid != 0 && ::kill(pid, SIGUSR1) == 0; ++i) {
      ++sent;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  const CommandResult stopped = train(1, run_dir, {}, [&](pid_t started) { pid = started; });
  pid = 0;
  storm.join();
  ASSERT_GT(sent, 0) << stopped.describe();
  EXPECT_TRUE(stopped.exited && stopped.exit_code == kExitStoppedBySignal)
      << sent << " signals sent; " << stopped.describe();
  EXPECT_THAT(stopped.out, HasSubstr("stopped by a signal; checkpoint "));
  // Announced once: the repeats within 2 s are the same request, and say nothing.
  const std::string announced = "ringtrain: SIGUSR1 received";
  EXPECT_THAT(stopped.err, HasSubstr(announced + ": checkpointing and stopping at the next step boundary\n"));
  EXPECT_EQ(stopped.err.find(announced), stopped.err.rfind(announced)) << stopped.describe();
  const auto checkpoints = list_checkpoints(run_dir);
  ASSERT_FALSE(checkpoints.empty());
  EXPECT_FALSE(contents(checkpoints.back()).empty());
}

TEST_F(ResumeCli, ASecondSignalEndsTheRunAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  // The run sleeps inside the write of step 6's checkpoint; a second signal there must not wait for it.
  const auto [result, signalled] = train_paused_in_write(dir_.path() / "twice", 6, [](pid_t pid) {
    ::kill(pid, SIGUSR1);
    // Sooner than 2 s a second signal is taken for the same request delivered twice.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    return ::kill(pid, SIGUSR1) == 0;
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(signalled) << result.describe();
  EXPECT_TRUE(result.exited && result.exit_code == 128 + SIGUSR1) << result.describe();
  EXPECT_LT(seconds, 50.0) << "it waited for the paused write";
}

// A signal during the start-up (MPI's, the options, the data) is a stop request like any other: it does not
// end the process, and the run stops at its first boundary with a checkpoint. Under mpirun too (SIGUSR1 to
// mpirun reaches every rank).
TEST_F(ResumeCli, ASignalDuringStartUpStopsTheRunWithACheckpoint) {
  for (const int processes : {1, 2}) {
    SCOPED_TRACE(std::to_string(processes) + " process(es)");
    const fs::path run_dir = dir_.path() / ("early-" + std::to_string(processes));
    std::thread signaller;
    const CommandResult result = train(processes, run_dir, {}, [&](pid_t pid) {
      signaller = std::thread([pid] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ::kill(pid, SIGUSR1);
      });
    });
    signaller.join();
    EXPECT_TRUE(result.exited && result.exit_code == kExitStoppedBySignal) << result.describe();
    EXPECT_FALSE(list_checkpoints(run_dir).empty()) << result.describe();
  }
}

TEST_F(ResumeCli, ARunContinuesOnAnotherNumberOfProcesses) {
  for (const auto& [first, second] : {std::pair{2, 1}, std::pair{1, 2}}) {
    SCOPED_TRACE(std::to_string(first) + " process(es), then " + std::to_string(second));
    const auto expected = contents(uninterrupted(first));
    const fs::path run_dir = dir_.path() / ("moved-" + std::to_string(first));
    train_and_kill(first, run_dir, 13);
    const CommandResult resumed = train(second, run_dir, {"--resume", "auto"});
    ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
    EXPECT_THAT(resumed.out, HasSubstr("written by " + std::to_string(first) + " process(es), now " +
                                       std::to_string(second)));
    const double difference = worst_relative_difference(contents(final_checkpoint(run_dir)), expected);
    std::cout << "[ measured ] " << first << " then " << second
              << " processes vs uninterrupted: worst relative difference " << difference << "\n";
    // Sums in another order differ in rounding, which Adam can amplify (see tests/distributed); measured
    // up to 1.3e-4 here.
    EXPECT_LE(difference, 2e-3);
  }
}

// The lines of a text file.
std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST_F(ResumeCli, AResumedRunKeepsTheCsvRowsOfTheEpochsBeforeIt) {
  const fs::path run_dir = dir_.path() / "csv-run";
  const fs::path csv = dir_.path() / "history.csv";
  // Experiment 9 for `epochs` epochs, the CSV file given, resumed from the run directory when there is one.
  const auto run = [&](int epochs, const fs::path& csv_path) {
    std::vector<std::string> arguments = train_arguments(run_dir, {"--csv", csv_path.string()});
    arguments[6] = std::to_string(epochs);  // the value after --epochs
    if (fs::exists(run_dir)) arguments.insert(arguments.end(), {"--resume", "auto"});
    return run_command(with_binary(arguments));
  };
  const CommandResult first = run(1, csv);
  ASSERT_TRUE(first.exited && first.exit_code == 0) << first.describe();
  const std::vector<std::string> after_first = lines_of(csv);
  ASSERT_EQ(after_first.size(), 2u);
  // A fresh run refused by the run directory leaves the CSV file as it was.
  const CommandResult fresh = run_command(with_binary(train_arguments(run_dir, {"--csv", csv.string()})));
  EXPECT_TRUE(fresh.exited && fresh.exit_code == 1) << fresh.describe();
  EXPECT_THAT(fresh.err, HasSubstr("already holds the checkpoints"));
  EXPECT_EQ(lines_of(csv), after_first);
  const CommandResult resumed = run(2, csv);
  ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  const std::vector<std::string> after_resume = lines_of(csv);
  ASSERT_EQ(after_resume.size(), 3u);
  EXPECT_EQ(after_resume[0], after_first[0]);
  EXPECT_EQ(after_resume[1], after_first[1]);
  EXPECT_THAT(after_resume[2], testing::StartsWith("1,"));

  // Another run's CSV file (here: the epoch before the resumed one with another validation accuracy) is
  // refused and left as it was.
  std::vector<std::string> other_rows = after_resume;
  std::string& epoch_1 = other_rows[2];  // epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds
  std::size_t val_accuracy_at = 0;
  for (int comma = 0; comma < 4; ++comma)
    val_accuracy_at = epoch_1.find(',', val_accuracy_at) + 1;
  epoch_1.replace(val_accuracy_at, epoch_1.find(',', val_accuracy_at) - val_accuracy_at, "0.123");
  const fs::path other = dir_.path() / "other.csv";
  {
    std::ofstream out(other);
    for (const std::string& row : other_rows)
      out << row << '\n';
  }
  const CommandResult another_runs = run(3, other);
  EXPECT_TRUE(another_runs.exited && another_runs.exit_code == 1) << another_runs.describe();
  EXPECT_THAT(another_runs.err,
              HasSubstr(other.string() + " is another run's: its row of epoch 2 (1 in its "
                                         "epoch column) has val_accuracy 0.123 where the checkpoint resumed "
                                         "from has"));
  EXPECT_EQ(lines_of(other), other_rows);
  // On two processes rank 0 alone reads it: the refusal is agreed, printed once, and no rank aborts.
  const CommandResult on_two = train(2, run_dir, {"--csv", other.string(), "--resume", "auto"});
  EXPECT_TRUE(on_two.exited && on_two.exit_code == 1) << on_two.describe();
  EXPECT_EQ(on_two.err.find("is another run's"), on_two.err.rfind("is another run's")) << on_two.describe();
  EXPECT_THAT(on_two.err, HasSubstr("rank 0: the CSV file " + other.string() + " is another run's"));
  EXPECT_THAT(on_two.output(), testing::Not(HasSubstr("MPI_ABORT")));
  EXPECT_EQ(lines_of(other), other_rows);

  // A file ringtrain did not write is left alone by a resumed run.
  const fs::path foreign = dir_.path() / "notes.csv";
  std::ofstream(foreign) << "my,own,notes\n";
  const CommandResult refused = run(3, foreign);
  EXPECT_TRUE(refused.exited && refused.exit_code == 1) << refused.describe();
  EXPECT_THAT(refused.err, HasSubstr(foreign.string()));
  EXPECT_EQ(lines_of(foreign), std::vector<std::string>{"my,own,notes"});

  // A symbolic link to the run's CSV file stays a link, and the file it points at gets the rows.
  const fs::path link = dir_.path() / "latest.csv";
  fs::create_symlink(csv, link);
  const CommandResult through_link = run(3, link);
  ASSERT_TRUE(through_link.exited && through_link.exit_code == 0) << through_link.describe();
  EXPECT_TRUE(fs::is_symlink(link));
  const std::vector<std::string> after_link = lines_of(csv);
  ASSERT_EQ(after_link.size(), 4u);
  EXPECT_EQ(after_link[2], after_resume[2]);
  EXPECT_THAT(after_link[3], testing::StartsWith("2,"));
}

TEST_F(ResumeCli, ResumingAFinishedRunSaysThereIsNothingLeftToTrain) {
  const fs::path run_dir = dir_.path() / "finished";
  ASSERT_EQ(train(1, run_dir).exit_code, 0);
  const CommandResult again = train(1, run_dir, {"--resume", "auto"});
  ASSERT_TRUE(again.exited && again.exit_code == 0) << again.describe();
  EXPECT_THAT(again.out, HasSubstr("(after " + std::to_string(kEpochs * kStepsPerEpoch) +
                                   " steps; written by 1 "
                                   "process(es), now 1)"));
  EXPECT_THAT(again.out, HasSubstr("resume: the run has trained " + std::to_string(kEpochs) +
                                   " epoch(s), and --epochs is " + std::to_string(kEpochs) +
                                   ": nothing is left to train"));
  EXPECT_THAT(again.out, testing::Not(HasSubstr("continuing at epoch")));
  EXPECT_THAT(again.out, testing::Not(HasSubstr("Training on")));
  const auto final_line = parse_final_line(last_line(again.out));
  ASSERT_TRUE(final_line.has_value()) << again.describe();
  EXPECT_EQ(final_line->epochs, kEpochs) << "the run's epochs";
  // Fewer epochs than it has trained: the count is the run's, not the flag's.
  std::vector<std::string> fewer = train_arguments(run_dir, {"--resume", "auto"});
  fewer[6] = "1";  // the value after --epochs
  const CommandResult shorter = run_command(with_binary(fewer));
  ASSERT_TRUE(shorter.exited && shorter.exit_code == 0) << shorter.describe();
  EXPECT_THAT(shorter.out, HasSubstr("resume: the run has trained " + std::to_string(kEpochs) +
                                     " epoch(s), and --epochs is 1: nothing is left to train"));
}

TEST_F(ResumeCli, OptionsChangedOnResumeAreNamedWithTheRunsValues) {
  const fs::path run_dir = dir_.path() / "changed";
  train_and_kill(1, run_dir, 4);
  const CommandResult resumed = train(1, run_dir, {"--resume", "auto", "--lr", "0.005", "--log-every", "2"});
  ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("resume: lr = 0.005 from here on (the run used 0.01)"));
  EXPECT_THAT(resumed.out, HasSubstr("resume: log-every = 2 from here on (the run used 10)"));
  EXPECT_THAT(resumed.out, testing::Not(HasSubstr("resume: epochs")));
  const auto final_line = parse_final_line(last_line(resumed.out));
  ASSERT_TRUE(final_line.has_value()) << resumed.describe();
  EXPECT_EQ(final_line->epochs, kEpochs) << "the run's epochs, the ones before the stop included";
}

// A checkpoint of another seed, global batch or optimizer is refused, and the error says what to resume with.
TEST_F(ResumeCli, AnotherSeedBatchOrOptimizerIsRefusedNamingTheRunsValue) {
  const fs::path checkpoint = uninterrupted(1);
  const auto resumed_with = [&](const std::vector<std::string>& changes, const std::string& batch) {
    std::vector<std::string> arguments =
        train_arguments(dir_.path() / "other", {"--resume", checkpoint.string()});
    arguments[8] = batch;  // the value after --batch-size
    arguments.insert(arguments.end(), changes.begin(), changes.end());
    return run_command(with_binary(arguments));
  };
  const struct {
    std::vector<std::string> changes;
    std::string batch, advice;
  } cases[] = {{{"--seed", "7"}, "64", "resume with --seed 42"},
               {{}, "32", "which is not global batch 32: resume with --batch-size 64"},
               {{"--optimizer", "sgd"}, "64", "resume with --optimizer adam"}};
  for (const auto& [changes, batch, advice] : cases) {
    const CommandResult refused = resumed_with(changes, batch);
    EXPECT_TRUE(refused.exited && refused.exit_code == 1) << refused.describe();
    EXPECT_THAT(refused.err, HasSubstr(checkpoint.string())) << advice;
    EXPECT_THAT(refused.err, HasSubstr(advice)) << refused.describe();
  }
}

TEST_F(ResumeCli, GatherListsEachRunWithTheOptionsThatDifferAndItsAccuracies) {
  // Two runs that differ in lr and in their configured epochs: both are columns beside the epochs done.
  std::vector<std::string> short_run = train_arguments(dir_.path() / "runs" / "a", {"--lr", "0.02"});
  short_run[6] = "1";  // the value after --epochs
  ASSERT_EQ(run_command(with_binary(short_run)).exit_code, 0);
  ASSERT_EQ(train(1, dir_.path() / "runs" / "b").exit_code, 0);
  const CommandResult gathered = run_command({ringtrain_binary(), "gather", (dir_.path() / "runs").string()});
  ASSERT_EQ(gathered.exit_code, 0) << gathered.describe();
  const auto lines = split_lines(gathered.out);
  ASSERT_EQ(lines.size(), 3u) << gathered.describe();
  EXPECT_EQ(lines[0], "run\tepochs\tlr\tepochs_done\tval_accuracy\tbest_val_accuracy");
  EXPECT_THAT(gathered.out, testing::ContainsRegex("\na\t1\t0\\.02\t1\t[01]\\.[0-9]{4}\t"));
  EXPECT_THAT(gathered.out, testing::ContainsRegex("\nb\t" + std::to_string(kEpochs) + "\t0\\.01\t" +
                                                   std::to_string(kEpochs) + "\t"));
}

// As --resume auto does, report and gather pass over a newest checkpoint that does not read back whole.
// Resumed from an older checkpoint, a run sets aside the newer ones (renamed, not deleted) and says so.
TEST_F(ResumeCli, ResumingFromAnOlderCheckpointNamesTheNewerOnesItSetsAside) {
  const fs::path run_dir = dir_.path() / "older";
  ASSERT_EQ(train(1, run_dir).exit_code, 0);
  const auto written = list_checkpoints(run_dir);
  ASSERT_EQ(written.size(), 3u);  // --keep 3
  const CommandResult resumed = train(1, run_dir, {"--resume", written.front().string()});
  ASSERT_TRUE(resumed.exited && resumed.exit_code == 0) << resumed.describe();
  for (const fs::path& newer : {written[1], written[2]}) {
    EXPECT_THAT(resumed.out, HasSubstr("resume: set aside " + newer.string() + ".superseded-"));
  }
  EXPECT_THAT(resumed.out, testing::Not(HasSubstr("set aside " + written.front().string())));
}

// Batch-norm statistics taken over other batches than the run's are announced: another --bn-sync, or
// per-rank statistics on another number of processes.
TEST_F(ResumeCli, AResumeThatChangesTheBatchNormStatisticsSaysSo) {
  const fs::path run_dir = dir_.path() / "local";
  std::vector<std::string> first = train_arguments(run_dir, {"--bn-sync", "local"});
  first[6] = "1";  // the value after --epochs
  ASSERT_EQ(run_command(with_binary(first)).exit_code, 0);
  const fs::path after_one_epoch = checkpoint_path(run_dir, kStepsPerEpoch);
  const CommandResult global = train(1, dir_.path() / "global", {"--resume", after_one_epoch.string()});
  ASSERT_TRUE(global.exited && global.exit_code == 0) << global.describe();
  EXPECT_THAT(global.out, HasSubstr("resume: --bn-sync global: batch-norm statistics are now over the global "
                                    "batch (the run used --bn-sync local)"));
  const CommandResult two = train(2, run_dir, {"--bn-sync", "local", "--resume", "auto"});
  ASSERT_TRUE(two.exited && two.exit_code == 0) << two.describe();
  EXPECT_THAT(two.out, HasSubstr("resume: --bn-sync local: batch-norm statistics are now over each rank's 32 "
                                 "samples (they were over 64 on 1 process(es))"));
  EXPECT_THAT(two.out, testing::Not(HasSubstr("the run used")));
}

TEST_F(ResumeCli, ReportAndGatherPassOverADamagedNewestCheckpoint) {
  const fs::path runs = dir_.path() / "runs";
  const fs::path run_dir = runs / "damaged";
  ASSERT_EQ(train(1, run_dir).exit_code, 0);
  ASSERT_EQ(train(2, runs / "other", {"--lr", "0.02"}).exit_code, 0);
  const fs::path newest = final_checkpoint(run_dir);
  fs::resize_file(newest, fs::file_size(newest) / 2);

  const CommandResult report = run_command(
      {ringtrain_binary(), "report", run_dir.string(), "--data", data_.string(), "--threads", "1"});
  ASSERT_TRUE(report.exited && report.exit_code == 0) << report.describe();
  EXPECT_THAT(report.out, HasSubstr("report: skipping " + newest.string() + ": "));
  const std::vector<fs::path> left = list_checkpoints(run_dir);
  ASSERT_GE(left.size(), 2u);
  EXPECT_THAT(report.out,
              HasSubstr("misclassified by " + left[left.size() - 2].filename().string() + " (after"))
      << "the model drawn is the one before the damaged checkpoint";
  EXPECT_TRUE(fs::exists(run_dir / "report.html"));
  EXPECT_THAT(read_text(run_dir / "report.html"), HasSubstr("<p>Trained on 1 process(es).</p>"));
  // Its options still come from a checkpoint: the lr and processes columns have both runs' values.
  const CommandResult gathered = run_command({ringtrain_binary(), "gather", runs.string()});
  ASSERT_EQ(gathered.exit_code, 0) << gathered.describe();
  EXPECT_THAT(gathered.out, HasSubstr("run\tlr\tprocesses\t"));
  EXPECT_THAT(gathered.err, HasSubstr("ringtrain: warning: gather passes over " + newest.string() + ": "));
  EXPECT_THAT(gathered.out, testing::ContainsRegex("\ndamaged\t0\\.01\t1\t"));
  EXPECT_THAT(gathered.out, testing::ContainsRegex("\nother\t0\\.02\t2\t"));

  // A directory whose only metrics.h5 cannot be read is warned of, and the error says it was skipped.
  const fs::path broken = dir_.path() / "broken";
  fs::create_directories(broken);
  std::ofstream(metrics_path(broken)) << "not HDF5";
  const CommandResult nothing = run_command({ringtrain_binary(), "gather", broken.string()});
  EXPECT_TRUE(nothing.exited && nothing.exit_code == 1) << nothing.describe();
  EXPECT_THAT(nothing.err, HasSubstr("ringtrain: warning: gather skips " + broken.string()));
  EXPECT_THAT(nothing.err, HasSubstr("that could be read (1 skipped, see the warnings above)"));

  for (const fs::path& checkpoint : list_checkpoints(run_dir))
    fs::remove(checkpoint);
  const CommandResult none = run_command(
      {ringtrain_binary(), "report", run_dir.string(), "--data", data_.string(), "--threads", "1"});
  EXPECT_TRUE(none.exited && none.exit_code == 1) << none.describe();
  EXPECT_THAT(none.err, HasSubstr(run_dir.string() + " holds no checkpoint and no best.h5"));
}

TEST_F(ResumeCli, GatherNamesTheSweepPointsThatHaveNoMetrics) {
  const fs::path sweep = dir_.path() / "sweep";
  ASSERT_EQ(train(1, sweep / "point-0", {"--lr", "0.01"}).exit_code, 0);
  std::ofstream(sweep / "sweep.txt") << "--lr 0.01\n--lr 0.02\n";
  const CommandResult gathered = run_command({ringtrain_binary(), "gather", sweep.string()});
  ASSERT_EQ(gathered.exit_code, 0) << gathered.describe();
  EXPECT_THAT(gathered.out, HasSubstr("\npoint-0\t"));
  EXPECT_THAT(gathered.err, HasSubstr("gather finds no metrics.h5 for " + (sweep / "point-1").string() +
                                      " (--lr 0.02): it failed or has not trained yet"));
  EXPECT_THAT(gathered.err, testing::Not(HasSubstr("point-0 (")));
}

TEST_F(ResumeCli, AnotherArchitecturesCheckpointIsRefusedNamingTheLayerBeforeAnythingElse) {
  const fs::path run_dir = dir_.path() / "experiment7";
  std::vector<std::string> arguments = train_arguments(run_dir);
  arguments[2] = experiment("07_convolutional.ini");
  const CommandResult seven = run_command(with_binary(arguments));
  ASSERT_TRUE(seven.exited && seven.exit_code == 0) << seven.describe();
  const fs::path checkpoint = final_checkpoint(run_dir);
  // Another optimizer and seed as well: the model is what the error names.
  const CommandResult nine =
      train(1, dir_.path() / "nine", {"--resume", checkpoint.string(), "--optimizer", "sgd", "--seed", "7"});
  EXPECT_TRUE(nine.exited && nine.exit_code == 1) << nine.describe();
  EXPECT_THAT(nine.err, HasSubstr(checkpoint.string() + " was written for another model: its layer 2 is "));
  EXPECT_THAT(nine.err, HasSubstr("use_bias=true), this run's is Conv2D("));
  EXPECT_THAT(nine.err, testing::Not(HasSubstr("optimizer adam")));
}

TEST_F(ResumeCli, AModelWithTheSameShapesButAnotherLayerIsRefusedNamingTheLayer) {
  const fs::path checkpoint = uninterrupted(1);
  std::ifstream original(experiment("09_batch_norm.ini"));
  std::string text((std::istreambuf_iterator<char>(original)), std::istreambuf_iterator<char>());
  const std::string rate = "layer = dropout 0.3";
  ASSERT_NE(text.find(rate), std::string::npos);
  text.replace(text.find(rate), rate.size(), "layer = dropout 0.5");
  const fs::path changed = dir_.path() / "dropout_half.ini";
  std::ofstream(changed) << text;
  std::vector<std::string> arguments =
      train_arguments(dir_.path() / "changed", {"--resume", checkpoint.string()});
  arguments[2] = changed.string();
  const CommandResult resumed = run_command(with_binary(arguments));
  EXPECT_TRUE(resumed.exited && resumed.exit_code == 1) << resumed.describe();
  EXPECT_THAT(resumed.err, HasSubstr(checkpoint.string() + " was written for another model: its layer 15"));
  EXPECT_THAT(resumed.err, HasSubstr("rate=0.3"));
  EXPECT_THAT(resumed.err, HasSubstr("rate=0.5"));
}

TEST_F(ResumeCli, EvaluateAndPredictRebuildTheModelFromTheCheckpointAlone) {
  const fs::path final_path = uninterrupted(1);
  const CommandResult evaluated = run_command(
      {ringtrain_binary(), "evaluate", "--checkpoint", final_path.string(), "--data", data_.string()});
  ASSERT_TRUE(evaluated.exited && evaluated.exit_code == 0) << evaluated.describe();
  EXPECT_THAT(evaluated.out,
              testing::MatchesRegex("evaluate accuracy=[01]\\.[0-9]{4} loss=[0-9.]+ samples=150\n"));
  const CommandResult predicted =
      run_command({ringtrain_binary(), "predict", "--checkpoint", final_path.string(), "--images",
                   (data_ / "t10k-images-idx3-ubyte").string()});
  ASSERT_TRUE(predicted.exited && predicted.exit_code == 0) << predicted.describe();
  const auto lines = split_lines(predicted.out);
  ASSERT_EQ(lines.size(), 151u) << predicted.describe();
  EXPECT_EQ(lines[0], "index class probability");
  EXPECT_THAT(lines[150], testing::MatchesRegex("149 [0-9] [01]\\.[0-9]{4}"));
  // A missing --images file is the user's path to check, not MNIST to fetch again.
  const std::string missing = (data_ / "my-digits.idx").string();
  const CommandResult unread =
      run_command({ringtrain_binary(), "predict", "--checkpoint", final_path.string(), "--images", missing});
  EXPECT_TRUE(unread.exited && unread.exit_code == 1) << unread.describe();
  EXPECT_THAT(unread.err,
              testing::HasSubstr("'" + missing + "' does not exist: check the path given to --images"));
  EXPECT_THAT(unread.err, testing::Not(testing::HasSubstr("fetch-mnist")));
}

}  // namespace
}  // namespace ringtrain::integration
