// RunDirectoryLock: one holder at a time, named in the error a second one gets; free again once released;
// never taken through a symbolic link.
#include "core/checkpoint/run_directory_lock.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "core/check.hpp"
#include "core/train/stop_request.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain {
namespace {

using data::testing::TemporaryDirectory;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(RunDirectoryLock, TheLockFileNamesItsHolder) {
  TemporaryDirectory dir;
  const RunDirectoryLock lock(dir.path());
  EXPECT_THAT(first_line(RunDirectoryLock::lock_path(dir.path())),
              StartsWith("pid=" + std::to_string(::getpid()) + " host="));
}

TEST(RunDirectoryLock, ALockFileThatIsASymbolicLinkIsRefusedAndItsTargetLeftAlone) {
  TemporaryDirectory dir;
  const std::filesystem::path target = dir.path() / "precious.txt";
  std::ofstream(target) << "keep me\n";
  std::filesystem::create_symlink(target, RunDirectoryLock::lock_path(dir.path()));
  try {
    const RunDirectoryLock lock(dir.path());
    FAIL() << "the lock was taken through a symbolic link";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("symbolic link"));
  }
  EXPECT_EQ(first_line(target), "keep me");
}

TEST(RunDirectoryLock, ASecondHolderIsRefusedNamingTheFirstUntilItLetsGo) {
  TemporaryDirectory dir;
  {
    const RunDirectoryLock first(dir.path());
    try {
      const RunDirectoryLock second(dir.path());
      FAIL() << "two holders of one run directory's lock";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr(dir.path().string() + " is in use by another training run (pid=" +
                                          std::to_string(::getpid()) + " host="));
      EXPECT_THAT(error.what(), HasSubstr("give this run another --run-dir"));
    }
  }
  EXPECT_NO_THROW(RunDirectoryLock again(dir.path()));
}

TEST(RunDirectoryLock, AWaitingHolderGetsTheLockWhenTheFirstLetsGo) {
  TemporaryDirectory dir;
  auto first = std::make_unique<RunDirectoryLock>(dir.path());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    first.reset();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NO_THROW(RunDirectoryLock second(dir.path(), std::chrono::seconds(30)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400)) << "it did not wait";
  releaser.join();
}

TEST(RunDirectoryLock, AWaitThatRunsOutIsRefused) {
  TemporaryDirectory dir;
  const RunDirectoryLock first(dir.path());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(RunDirectoryLock second(dir.path(), std::chrono::milliseconds(600)), Error);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
}

TEST(RunDirectoryLock, AStopAskedForWhileWaitingEndsTheWait) {
  // Ctrl-C or SIGTERM while a run waits for its directory: it has not begun, so it ends there.
  TemporaryDirectory dir;
  const RunDirectoryLock first(dir.path());
  clear_stop_request();
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  try {
    RunDirectoryLock second(dir.path(), std::chrono::seconds(30));
    ADD_FAILURE() << "the wait went on to take the lock";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("stopped by a signal while waiting for " + dir.path().string()));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "the wait went on";
  stopper.join();
  clear_stop_request();
}

}  // namespace
}  // namespace ringtrain
