// The commands' help text, from the option table the parser uses.
#include "core/cli/help.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace ringtrain::cli {

bool wants_help(const std::vector<std::string>& arguments) {
  for (const auto& argument : arguments) {
    if (argument == "--help" || argument == "-h") return true;
  }
  return false;
}

void print_help(const std::string& usage, const po::options_description& options, bool takes_config) {
  // A table of groups prints its own empty caption first: one blank line after the usage either way.
  std::ostringstream table;
  table << options;
  const std::string text = table.str();
  std::cout << "usage: " << usage << "\n\n"
            << text.substr(std::min(text.find_first_not_of('\n'), text.size())) << "\n";
  if (takes_config) std::cout << config_option() << "\n";
}

void print_model_command_help(const char* usage, const po::options_description& options) {
  print_help(usage, options, true);
  std::cout
      << "A config file may also hold train's keys (run-dir, csv, keep, ...; see ringtrain train --help):\n"
         "summary and bench read them and ignore them.\n";
}

}  // namespace ringtrain::cli
