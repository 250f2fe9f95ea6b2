// Session: what every command that runs a model sets up from its options: threads, the built model and
// its optimizer, and the data.
#pragma once

#include <memory>

#include "core/cli/options.hpp"
#include "core/comm/communicator.hpp"
#include "core/data/mnist.hpp"
#include "core/model/sequential.hpp"
#include "core/optim/optimizer.hpp"
#include "core/thread_budget.hpp"

namespace ringtrain::cli {

// A process's share of its node: the cores it shares with the node's other processes of the run, and the GPU
// it takes where it runs on CUDA (its local rank's: NCCL needs a GPU per process). A run on the CPU never
// touches a GPU.
struct NodeShare {
  NodeCores cores;
  int gpu = 0;
};

struct Session {
  TrainConfig config;
  std::unique_ptr<Sequential> model;
  std::unique_ptr<Optimizer> optimizer;  // null for a model opened to be described
};

// What a command does with its model: describe it (its layers, shapes and counts, no parameter memory), or
// run it (parameters initialized from the seed, and an optimizer).
enum class ModelUse { describe, run };

// Applies --threads (default: this process's share of the node's cores), takes this process's GPU where
// the model runs on CUDA, and builds the model for `use`.
Session open_session(const ParsedOptions& options, const NodeShare& node, ModelUse use = ModelUse::run);

// Ends every rank, rank 0 naming the ranks that differ, unless every rank was started with the same options
// (agreed_options_text): mpirun's form for several programs, or a config file that differs between nodes,
// could start them with different ones. A collective.
void require_same_configuration(Communicator& communicator, const ParsedOptions& parsed);

// The model (and its run's configuration) a checkpoint holds, with the checkpoint's parameters and state; its
// optimizer is fresh. threads 0: this process's share of the node's cores.
Session open_checkpoint_session(const std::string& path, int threads, const NodeShare& node);

// Images of rows x cols pixels from `source` (given by the option `images_option`) must give the model its
// values per sample; an error says otherwise, naming both.
void require_images_fit(const Sequential& model, std::int64_t rows, std::int64_t cols,
                        const std::string& source, const std::string& images_option);

// One split of MNIST from `dir`, its images checked to fit the model and its labels the model's output.
data::Dataset load_data_for(const Sequential& model, const std::filesystem::path& dir, data::Split split);

}  // namespace ringtrain::cli
