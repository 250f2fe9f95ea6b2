// Session set-up shared by train, summary and bench.
#include "core/cli/session.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>
#include <vector>

#include "core/checkpoint/checkpoint.hpp"
#include "core/cli/commands.hpp"
#include "core/comm/agreement.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/fnv1a.hpp"
#include "core/model/output_check.hpp"

namespace ringtrain::cli {

namespace {

// --device: cpu; cuda (an error where this build or this node cannot give every process of the node a GPU
// of its own, as NCCL needs); or auto: cuda where it can, else cpu.
Device choose_device(const TrainConfig& config, int processes_on_node) {
  if (config.device_request == "cpu") return Device::cpu;
  const int gpus = cuda::device_count();
  const bool enough = gpus > 0 && gpus >= processes_on_node;
  if (config.device_request == "auto") return enough ? Device::cuda : Device::cpu;
  const std::string where = config.source_of("device") + ": device=cuda";
  RT_CHECK(cuda::built(), where << ": this ringtrain was built without CUDA; rebuild it with nvcc installed "
                                << "(-DRINGTRAIN_CUDA=ON) or use --device cpu");
  RT_CHECK(gpus > 0, where << ": no usable GPU (" << cuda::describe() << "); use --device cpu or auto");
  RT_CHECK(enough, where << ": " << processes_on_node << " processes on this node share " << gpus
                         << " GPU(s), and each needs a GPU of its own: start at most " << gpus
                         << " per node, or use --device cpu");
  return Device::cuda;
}

// The device, threads (0: this process's share of the node's cores), the model laid out for `use` (built
// from the seed, with its optimizer, to run it).
Session build_session(TrainConfig config, const NodeShare& node, ModelUse use) {
  Session session;
  session.config = std::move(config);
  session.config.device = choose_device(session.config, node.cores.processes);
  if (session.config.device == Device::cuda) cuda::set_device(node.gpu);
  // On std::clog, which rank 0 alone writes: one warning for the node's processes.
  std::clog << oversubscription_warning(session.config.threads, node.cores) << std::flush;
  if (session.config.threads == 0) session.config.threads = default_threads(node.cores);
  omp_set_num_threads(session.config.threads);
  session.model = make_model(session.config.model);
  try {
    if (use == ModelUse::describe)
      session.model->lay_out(session.config.device);
    else
      session.model->build(session.config.seed, session.config.device);
  } catch (const Error& error) {
    RT_FAIL(session.config.model.source << ": " << error.what());
  }
  std::clog << probability_output_warning(*session.model) << std::flush;  // by the summary's layer names
  if (use == ModelUse::describe) return session;
  session.optimizer =
      make_optimizer(session.config.optimizer, session.model->parameters(), session.config.device);
  return session;
}

}  // namespace

void Replica::watch_collectives(const TrainConfig& config) {
  if (watched != nullptr) watched->set_timeout(config.collective_timeout());
}

Communicator& Replica::for_device(const TrainConfig& config) {
  const std::chrono::milliseconds timeout = config.collective_timeout();
  watch_collectives(config);
  if (config.device == Device::cpu || communicator.size() == 1) return communicator;
  if (gpu_communicator == nullptr) {
    RT_CHECK(make_gpu_communicator != nullptr, "this process has no communicator for CUDA tensors");
    gpu_communicator = make_gpu_communicator(timeout);
  }
  return *gpu_communicator;
}

Session open_session(const ParsedOptions& options, const NodeShare& node, ModelUse use) {
  TrainConfig config = train_config(options);
  // The user's own options only: a checkpoint's stored configuration from before this rule still opens.
  RT_CHECK(
      config.warmup_epochs == 0 || config.lr_scaling == LearningRateScaling::linear,
      options.source_of("warmup-epochs")
          << ": warmup-epochs=" << config.warmup_epochs
          << " ramps the learning rate up to lr x N under lr-scaling linear, and lr-scaling is none: add "
          << "--lr-scaling linear, or leave warmup-epochs out");
  RT_CHECK(config.optimizer.momentum == 0 || config.optimizer.name == "sgd",
           options.source_of("momentum")
               << ": momentum=" << config.optimizer.momentum << " is SGD's, and the optimizer is "
               << config.optimizer.name
               << " (Adam keeps its own moving averages): leave momentum out, or use "
               << "--optimizer sgd");
  return build_session(std::move(config), node, use);
}

void require_same_configuration(Communicator& communicator, const ParsedOptions& parsed) {
  const std::string text = agreed_options_text(parsed);
  const std::vector<int> differing =
      ranks_differing_from_rank_0(communicator, fnv1a(text.data(), text.size()));
  if (differing.empty()) return;
  std::ostringstream message;
  message << describe_ranks(differing) << " started with other options than rank 0 (its flags or its config "
          << "file differ): start every rank with the same ones";
  fail_on_every_rank(communicator, std::make_exception_ptr(Error(message.str())));
}

Session open_checkpoint_session(const std::string& path, int threads, const NodeShare& node) {
  TrainConfig config =
      train_config(parse_config_text(checkpoint_run(path).config_text, path + " (its stored configuration)"));
  check_threads(threads, "command line");
  config.threads = threads;
  Session session = build_session(std::move(config), node, ModelUse::run);
  // Every dataset it loads is read back with its checksum verified.
  restore_checkpoint(path, *session.model, nullptr);
  return session;
}

void require_images_fit(const Sequential& model, std::int64_t rows, std::int64_t cols,
                        const std::string& source, const std::string& images_option) {
  const Shape& input = model.input_shape();
  RT_CHECK(rows * cols == input.numel(), source << ": images of " << rows << "x" << cols
                                                << " pixels, but the model takes " << to_string(input) << " ("
                                                << input.numel() << " values): check " << images_option
                                                << ", and the "
                                                << "input-shape of the model's configuration");
  // The same number of values in another layout (1,28,28 channels first, or 14,14,4) would reorder every
  // image's pixels in silence.
  const std::vector<Shape> layouts{{rows * cols}, {rows, cols}, {rows, cols, 1}};
  RT_CHECK(std::find(layouts.begin(), layouts.end(), input) != layouts.end(),
           source << ": images of " << rows << "x" << cols << " pixels and one channel, but the model's "
                  << "input-shape is " << to_string(input) << ": the same " << input.numel()
                  << " values laid out otherwise would reorder every image's pixels; give input-shape "
                  << rows << "," << cols << ",1 (height, width, channels, as Keras), " << rows << "," << cols
                  << " or " << rows * cols);
}

// The model's output must be one score per class for every label of `dataset`.
void require_classes_fit(const Sequential& model, const data::Dataset& dataset, const std::string& source) {
  const Shape& output = model.output_shape(model.layers().size() - 1);
  const auto& labels = dataset.labels();
  const int classes = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  const std::string fix = output.rank() == 1
                              ? "end the model with a dense layer of "
                              : "flatten the model's output, and end it with a dense layer of ";
  RT_CHECK(output.rank() == 1 && output[0] >= classes,
           source << " has labels 0.." << classes - 1 << ", but the model's output is "
                  << to_string_with_none_batch(output) << ": " << fix << classes
                  << " units (one score per class)");
}

data::Dataset load_data_for(const Sequential& model, const std::filesystem::path& dir, data::Split split) {
  data::Dataset dataset = data::load_mnist(dir, split);
  const std::string source = "the MNIST " + data::to_string(split) + " set in " + dir.string();
  require_images_fit(model, dataset.rows(), dataset.cols(), source, "--data");
  require_classes_fit(model, dataset, source);
  return dataset;
}

}  // namespace ringtrain::cli
