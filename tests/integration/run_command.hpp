// Runs a program (no shell) and captures its stdout, its stderr and how it ended, for the integration tests.
#pragma once

#include <sys/types.h>

#include <functional>

#include <chrono>
#include <string>
#include <vector>

namespace ringtrain::integration {

struct CommandResult {
  bool exited = false;     // ended through exit(); false when killed by a signal or not started
  int exit_code = -1;      // exit status when `exited`
  int signal = 0;          // the signal that ended it, when it did not exit
  bool timed_out = false;  // killed (SIGKILL) after the timeout
  std::string out;         // its stdout
  std::string err;         // its stderr
  std::string output() const { return out + err; }
  // One line describing how it ended, followed by its output, for failure messages.
  std::string describe() const;
};

// Runs argv[0] (a path) with `argv`, stdin from /dev/null, stdout and stderr captured separately.
// The child is killed with SIGKILL after `timeout`. `started`, when given, gets the child's pid.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::seconds timeout = std::chrono::seconds(600),
                          const std::function<void(pid_t)>& started = {});

// Lines of `text`, without their '\n' (a trailing '\r' is removed as well).
std::vector<std::string> split_lines(const std::string& text);
// The last non-empty line of `text`, or "".
std::string last_line(const std::string& text);

}  // namespace ringtrain::integration
