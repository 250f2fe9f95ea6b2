// write_file_atomically: the file is replaced whole, or left as it was with an error naming it and the
// reason.
#include "core/atomic_write.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <iterator>

#include "core/check.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using data::testing::TemporaryDirectory;
using ::testing::HasSubstr;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names_in(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  return names;
}

// While alive, this process may not grow a file past `bytes` (writes past it fail with EFBIG, as on a full
// disk, instead of raising SIGXFSZ).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved_;
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST(AtomicWrite, WritesAndReplacesTheWholeFile) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "page.html";
  write_file_atomically(path, "first");
  EXPECT_EQ(read_all(path), "first");
  const std::string longer(100000, 'x');
  write_file_atomically(path, longer);
  EXPECT_EQ(read_all(path), longer);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"page.html"});
}

TEST(AtomicWrite, AWriteThatFailsLeavesThePreviousFileAndNoTemporary) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "curves.png";
  write_file_atomically(path, "previous");
  try {
    const FileSizeLimit limit(16 * 1024);
    write_file_atomically(path, std::string(64 * 1024, 'x'));
    FAIL() << "a write past the file size limit succeeded";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot write " + path.string() +
                                        " (File too large); the previous one "
                                        "is unchanged"));
  }
  EXPECT_EQ(read_all(path), "previous");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"curves.png"});
}

TEST(AtomicWrite, AMissingDirectoryIsAnErrorNamingTheFile) {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "absent" / "report.html";
  try {
    write_file_atomically(path, "page");
    FAIL() << "wrote into a directory that does not exist";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot write " + path.string() +
                                        " (No such file or directory); nothing was written"));
  }
}

}  // namespace
}  // namespace ringtrain
