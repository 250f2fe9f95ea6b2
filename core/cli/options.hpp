// The CLI's one option table (the only source of --help) and its reading into a TrainConfig: flags first,
// then the config file (an INI file with the same option names) fills what the flags left unset.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "core/train/train_config.hpp"

namespace ringtrain::cli {

namespace po = boost::program_options;

// Options of the model and training run, valid both as flags and in a config file.
po::options_description run_options();
// Options only some commands take (bench's --steps, --warmup).
po::options_description bench_options();

// Reads flags and, when --config names one, the config file. Unknown options are errors naming their source.
po::variables_map parse(const std::vector<std::string>& arguments, const po::options_description& flags);
// Builds the run's configuration from the parsed options, validated.
TrainConfig train_config(const po::variables_map& options);

}  // namespace ringtrain::cli
