// The CLI's subcommands; each takes the arguments after its name and returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace ringtrain::cli {

int train_command(const std::vector<std::string>& arguments);
int summary_command(const std::vector<std::string>& arguments);
int bench_command(const std::vector<std::string>& arguments);

}  // namespace ringtrain::cli
