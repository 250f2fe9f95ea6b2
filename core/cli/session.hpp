// Session: what every command that runs a model sets up from its options: threads, the built model and
// its optimizer, and the data.
#pragma once

#include <memory>

#include "core/cli/options.hpp"
#include "core/data/mnist.hpp"
#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"

namespace ringtrain::cli {

struct Session {
  TrainConfig config;
  std::unique_ptr<Sequential> model;
  std::unique_ptr<Optimizer> optimizer;
};

// Applies --threads (default: this node's cores shared among its processes) and builds the model (initialized
// from the seed) and its optimizer.
Session open_session(const ParsedOptions& options, int processes_on_node);

// The model (and its run's configuration) a checkpoint holds, with the checkpoint's parameters and state; its
// optimizer is fresh. threads 0: the node's cores divided among its processes.
Session open_checkpoint_session(const std::string& path, int threads, int processes_on_node);

// Images of rows x cols pixels from `source` (given by the option `images_option`) must give the model its
// values per sample; an error says otherwise, naming both.
void require_images_fit(const Sequential& model, std::int64_t rows, std::int64_t cols,
                        const std::string& source, const std::string& images_option);

// One split of MNIST from `dir`, its images checked to fit the model and its labels the model's output.
data::Dataset load_data_for(const Sequential& model, const std::filesystem::path& dir, data::Split split);

// Prints the help of a command: its usage line and its option groups (and --config, for the commands that
// take a config file).
void print_help(const std::string& usage, const po::options_description& options, bool takes_config = false);

}  // namespace ringtrain::cli
