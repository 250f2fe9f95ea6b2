// bench: training steps timed after a warm-up (img/s, the step's arithmetic and rate, the time communication
// was not hidden), and with --per-layer each layer's forward and backward timed alone.
#include <array>
#include <chrono>
#include <iostream>

#include "core/cli/commands.hpp"
#include "core/cli/help.hpp"
#include "core/cli/session.hpp"
#include "core/comm/agreement.hpp"
#include "core/comm/timed_communicator.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/data/prefetcher.hpp"
#include "core/data/sampler.hpp"
#include "core/model/layer_timing.hpp"
#include "core/text_format.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain::cli {

namespace {

// Waits for the GPU's queued work, so that a clock read afterwards includes it.
void finish_queued_work(const TrainConfig& config) {
  if (config.device == Device::cuda) cuda::synchronize();
}

// Each layer's forward and backward timed alone on this rank's first batch, and what of the step they leave
// (loss, gradient sums, optimizer, gathering the batch, launches between layers).
void print_layer_times(Sequential& model, const data::Dataset& train, const data::Shard& shard,
                       const TrainConfig& config, int repeats, double step_ms) {
  const std::int64_t rows = config.batch_size / shard.count;
  std::vector<std::int64_t> indices(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    indices[static_cast<std::size_t>(i)] = shard.index * rows + i;
  Tensor images, labels;
  train.gather_batch(indices, images, labels);
  StepContext context;
  context.seed = config.seed;
  context.first_sample = static_cast<std::uint64_t>(shard.index * rows);
  const auto timings = time_layers(model, images.to(model.device()), labels.to(model.device()), context,
                                   repeats, config.device == Device::cuda && config.cuda_graph);
  double layers_ms = 0;
  for (const auto& timing : timings) {
    const double forward_ms = 1000.0 * timing.forward_seconds, backward_ms = 1000.0 * timing.backward_seconds;
    layers_ms += forward_ms + backward_ms;
    std::cout << "bench layer=" << timing.name << " type=" << timing.type
              << format_number(" forward_ms=%.4f", forward_ms)
              << (timing.has_backward ? format_number(" backward_ms=%.4f", backward_ms) : " backward_ms=-")
              << format_number(" share_of_step=%.1f%%", 100.0 * (forward_ms + backward_ms) / step_ms);
    if (timing.forward_operations > 0)
      std::cout << " operations=" << timing.forward_operations << '+' << timing.backward_operations;
    std::cout << "\n";
  }
  std::cout << format_number("bench layers_ms=%.4f", layers_ms) << format_number(" step_ms=%.4f", step_ms)
            << format_number(" rest_of_step_ms=%.4f", step_ms - layers_ms) << std::endl;
  // The step and the layers are timed apart: a machine busy at one of those times can make the layers' sum
  // the larger, which says nothing about the rest of the step.
  if (layers_ms > step_ms) {
    std::clog << "ringtrain: warning: the layers timed alone took longer than the whole steps timed before "
                 "them (other work on this machine meanwhile?): run the bench again on a quiet machine"
              << std::endl;
  }
}

}  // namespace

int bench_command(const std::vector<std::string>& arguments, Replica& replica) {
  auto options = run_options();
  options.add(bench_options());
  if (wants_help(arguments)) {
    po::options_description shown;
    shown.add(model_and_training_options()).add(bench_options());
    print_model_command_help("ringtrain bench --config FILE --steps N [options]", shown);
    return 0;
  }
  struct Setup {
    ParsedOptions parsed;
    Session session;
    data::Dataset train;
    int steps, warmup;
  };
  Setup setup = agree_on(replica.communicator, [&] {
    ParsedOptions parsed = parse(arguments, options);
    refuse_train_only_flags(parsed, "bench");
    Session session = open_session(parsed, replica.node);
    replica.watch_collectives(session.config);
    const int steps = parsed.values["steps"].as<int>(), warmup = parsed.values["warmup"].as<int>();
    RT_CHECK(steps > 0, parsed.source_of("steps") << ": steps=" << steps << " must be at least 1");
    RT_CHECK(warmup >= 0, parsed.source_of("warmup") << ": warmup=" << warmup << " must be 0 or more");
    require_batch_divides(session.config, replica.communicator.size());
    data::Dataset train = load_data_for(*session.model, session.config.data_dir, data::Split::train);
    return Setup{std::move(parsed), std::move(session), std::move(train), steps, warmup};
  });
  const ParsedOptions& parsed = setup.parsed;
  require_same_configuration(replica.communicator, parsed);
  Session& session = setup.session;
  const data::Dataset& train = setup.train;
  const int steps = setup.steps, warmup = setup.warmup;
  const TrainConfig& config = session.config;
  const data::EpochSampler sampler(train.count(), config.batch_size, config.seed, data::Remainder::drop);
  // Time blocked in communication is the part of it that compute did not hide.
  TimedCommunicator communicator(replica.for_device(config));
  Trainer trainer(*session.model, *session.optimizer, config, &communicator);
  const auto lr = static_cast<float>(config.schedule.initial);
  // The CPU runs fit's steps on batches a thread prepares; the GPU runs them as fit does there, gathered on
  // the GPU and replayed as a graph, read once at the end of the warm-up and of the timed steps.
  std::unique_ptr<data::BatchPrefetcher> prefetcher;
  if (config.device == Device::cpu)
    prefetcher = std::make_unique<data::BatchPrefetcher>(train, sampler, 0, 0, trainer.shard());
  std::uint64_t step = 0;
  const auto run = [&](int count) {
    if (config.device == Device::cuda) {
      trainer.train_steps_on_gpu(train, static_cast<std::int64_t>(step), count, lr);
      step += static_cast<std::uint64_t>(count);
      return;
    }
    for (int i = 0; i < count; ++i, ++step)
      trainer.train_step(prefetcher->next(), lr, step);
  };
  run(warmup);
  finish_queued_work(config);
  communicator.barrier();
  communicator.reset();
  const auto start = std::chrono::steady_clock::now();
  run(steps);
  finish_queued_work(config);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double images = static_cast<double>(steps) * static_cast<double>(config.batch_size);
  // Blocked time, averaged over the ranks.
  std::array<double, 1> blocked{communicator.blocked_seconds()};
  replica.communicator.sum(blocked);
  const double exposed = blocked[0] / replica.communicator.size();
  std::cout << "bench config=" << (parsed.config_path.empty() ? "-" : parsed.config_path)
            << " device=" << to_string(config.device) << " global_batch=" << config.batch_size
            << " processes=" << replica.communicator.size() << " threads=" << config.threads
            << " steps=" << steps << format_number(" seconds=%.3f", seconds);
  if (config.device == Device::cuda) std::cout << " step_graph_nodes=" << trainer.step_graph_nodes();
  std::cout << "\n";
  std::cout << format_number("bench img_per_s=%.1f", images / seconds)
            << format_number(" ms_per_step=%.3f", 1000.0 * seconds / steps) << std::endl;
  // The arithmetic of a step (convolutions and dense layers; 2 operations per multiply-add), and the rate it
  // ran at: how far a step is from the hardware's floating-point peak.
  const double flops = 2.0 * static_cast<double>(session.model->training_multiply_adds()) * images;
  std::cout << format_number("bench gflop_per_step=%.4g", flops / 1e9 / steps)
            << format_number(" gflop_per_s=%.4g", flops / 1e9 / seconds) << std::endl;
  if (config.device == Device::cuda && replica.communicator.size() > 1) {
    // The host queues the collectives on NCCL's stream and never blocks on them: its clock cannot split them.
    std::cout << "bench exposed_communication=unmeasured on the GPU (collectives run on their own stream)"
              << std::endl;
  } else {
    std::cout << format_number("bench compute_ms_per_step=%.3f", 1000.0 * (seconds - exposed) / steps)
              << format_number(" exposed_communication_ms_per_step=%.3f", 1000.0 * exposed / steps)
              << format_number(" exposed_communication_share=%.1f%%", 100.0 * exposed / seconds) << std::endl;
  }
  if (parsed.values["per-layer"].as<bool>())
    print_layer_times(*session.model, train, trainer.shard(), config, steps, 1000.0 * seconds / steps);
  return 0;
}

}  // namespace ringtrain::cli
