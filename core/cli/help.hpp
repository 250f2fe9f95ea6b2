// The commands' help: the usage line and the option groups a command takes.
#pragma once

#include <string>
#include <vector>

#include "core/cli/options.hpp"

namespace ringtrain::cli {

// Whether the arguments ask for the help (--help or -h).
bool wants_help(const std::vector<std::string>& arguments);

// Prints the help of a command: its usage line and its option groups (and --config, for the commands that
// take a config file).
void print_help(const std::string& usage, const po::options_description& options, bool takes_config = false);

// The help of a command that builds a model but does not train it (summary, bench): the options it takes, and
// a word on the config keys it reads and ignores.
void print_model_command_help(const char* usage, const po::options_description& options);

}  // namespace ringtrain::cli
