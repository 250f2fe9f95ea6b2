// What a user who may not read or write the run directory's files meets: a clear error naming the file and
// the reason, and nothing renamed, set aside or overwritten. Root may read and write any file, so these tests
// skip as root; CTest runs them as user nobody there (as_another_user.sh).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "core/check.hpp"
#include "core/checkpoint/checkpointer.hpp"
#include "core/checkpoint/metrics_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/comm/communicator.hpp"
#include "tests/checkpoint/checkpoint_fixtures.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;
using ::testing::HasSubstr;

constexpr auto kReadOnly = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;

class Permissions : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() == 0) GTEST_SKIP() << "root may read and write any file: CTest runs these as user nobody";
  }

  std::vector<std::string> names_in(const fs::path& directory) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  TemporaryDirectory dir_;
};

TEST_F(Permissions, AMetricsFileThisUserMayNotWriteIsAnErrorAndStaysWhereItIs) {
  const fs::path path = dir_.path() / "metrics.h5";
  { MetricsFile metrics(path, 1, TrainingPosition{}); }
  fs::permissions(path, kReadOnly);
  try {
    MetricsFile metrics(path, 1, TrainingPosition{});
    FAIL() << "a read-only metrics.h5 was opened for writing";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(),
                HasSubstr(path.string() + " cannot be opened for reading and writing (Permission "
                                          "denied)"));
  }
  EXPECT_EQ(names_in(dir_.path()), std::vector<std::string>{"metrics.h5"});
}

TEST_F(Permissions, ACheckpointThisUserMayNotReadStopsResumeAutoInsteadOfBeingPassedOver) {
  // An older checkpoint that reads back, and a newer one this user may not read.
  auto built = checkpoint_testing::build(checkpoint_testing::kEveryStatefulLayer, 1);
  CheckpointInfo info = checkpoint_testing::example_info();
  info.position.global_step = 2;
  write_checkpoint(checkpoint_path(dir_.path(), 2), *built.model, *built.optimizer, info);
  info.position.global_step = 4;
  write_checkpoint(checkpoint_path(dir_.path(), 4), *built.model, *built.optimizer, info);
  const fs::path newest = checkpoint_path(dir_.path(), 4);
  fs::permissions(newest, fs::perms::none);
  std::ostringstream report;
  try {
    newest_usable_checkpoint(dir_.path(), "resume", report);
    FAIL() << "resume auto passed over a checkpoint it may not read: " << report.str();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(newest.string() + " cannot be read (Permission denied)"));
  }
  EXPECT_EQ(names_in(dir_.path()),
            (std::vector<std::string>{"checkpoint-000000002.h5", "checkpoint-000000004.h5"}));
}

TEST_F(Permissions, ARunDirectoryThatCannotBeMadeIsAnErrorNamingIt) {
  const fs::path closed = dir_.path() / "closed";
  fs::create_directory(closed);
  fs::permissions(closed, kReadOnly | fs::perms::owner_exec);
  struct Reopen {  // so that the temporary directory can be removed, whatever the test's outcome
    fs::path path;
    ~Reopen() { fs::permissions(path, fs::perms::owner_all); }
  } reopen{closed};
  auto built = checkpoint_testing::build(checkpoint_testing::kEveryStatefulLayer, 1);
  auto single = make_single_process_communicator();
  CheckpointSettings settings;
  settings.run_dir = closed / "run";
  try {
    Checkpointer checkpointer(settings, *built.model, *built.optimizer, "adam", *single);
    FAIL() << "a run directory was made under a folder this user may not write";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot create the run directory " + settings.run_dir.string() +
                                        " (Permission denied)"));
  }
}

}  // namespace
}  // namespace ringtrain
