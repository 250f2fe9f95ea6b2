// The CLI's one option table (the only source of --help) and its reading into a TrainConfig: flags first,
// then the config file (an INI file with the same option names) fills what the flags left unset.
#pragma once

#include <boost/program_options.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/train/train_config.hpp"

namespace ringtrain::cli {

namespace po = boost::program_options;

// Options of the model and its training, which every command that builds a model takes.
po::options_description model_and_training_options();
// Train's own: its progress line and what it writes (run directory, checkpoints, metrics, report).
po::options_description train_output_options();
// Options that make a rank fail or pause on purpose, for ringtrain's own tests.
po::options_description failure_injection_options();
// All three above: the keys a config file may hold, whichever command reads it.
po::options_description run_options();
// Options only some commands take (bench's --steps, --warmup).
po::options_description bench_options();

struct ParsedOptions {
  po::variables_map values;
  std::set<std::string> from_command_line;
  std::string config_path;  // empty without --config

  // "command line", the config file's path, or "default": where an option's value came from.
  std::string source_of(const std::string& option) const;
};

// --config FILE, which every command's parse() takes.
po::options_description config_option();

// Reads flags and, when --config names one, the config file. Unknown options are errors naming their source.
// `positional`, when given, is the option a word without a flag sets (evaluate's FILE for --checkpoint FILE);
// any other such word is an error.
ParsedOptions parse(const std::vector<std::string>& arguments, const po::options_description& flags,
                    const std::string& positional = "");
// Reads config text (as a checkpoint stores it) as if it were a config file named `source`.
ParsedOptions parse_config_text(const std::string& text, const std::string& source);
// The options that define the model and its training, as config-file text (one "key = value" per line).
std::string config_text(const ParsedOptions& options);
// What every rank of a run must be started with alike, as text: every option's value but those that may
// differ between nodes (paths, threads, verbosity), and whether there is a run directory and a resume,
// which decide the collectives the ranks enter.
std::string agreed_options_text(const ParsedOptions& options);
// Config text's values by key, as written (a key given on several lines, such as layer: joined by "; ").
std::map<std::string, std::string> config_entries(const std::string& config_text);
// Refuses train's own options and the failure injection given on the command line of `command` (which would
// do nothing with them), naming the flag; in a config file they are the run's settings, shared by every
// command.
void refuse_train_only_flags(const ParsedOptions& parsed, const char* command);
// Builds the run's configuration from the parsed options, validated.
TrainConfig train_config(const ParsedOptions& options);

}  // namespace ringtrain::cli
