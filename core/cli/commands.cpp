// train, summary and bench: each parses its options, opens a session and runs.
#include "core/cli/commands.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "core/checkpoint/checkpointer.hpp"
#include "core/checkpoint/metrics_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/checkpoint/run_directory_lock.hpp"
#include "core/cli/run_files.hpp"
#include "core/cli/session.hpp"
#include "core/comm/agreement.hpp"
#include "core/comm/timed_communicator.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/data/prefetcher.hpp"
#include "core/data/sampler.hpp"
#include "core/model/layer_timing.hpp"
#include "core/model/summary.hpp"
#include "core/report/report_observer.hpp"
#include "core/train/csv_logger.hpp"
#include "core/train/progress.hpp"
#include "core/train/stop_request.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain::cli {

namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// "2 process(es) of 4 thread(s)" or "2 process(es), each on its GPU (rank 0: GPU 0 (NVIDIA H200))".
std::string placement(const TrainConfig& config, const Communicator& communicator) {
  const std::string processes = std::to_string(communicator.size()) + " process(es)";
  if (config.device == Device::cpu) return processes + " of " + std::to_string(config.threads) + " thread(s)";
  return processes + ", each on its GPU (rank 0: " + cuda::current_device_name() + ")";
}

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
              << format(" forward_ms=%.4f", forward_ms)
              << (timing.has_backward ? format(" backward_ms=%.4f", backward_ms) : " backward_ms=-")
              << format(" share_of_step=%.1f%%", 100.0 * (forward_ms + backward_ms) / step_ms);
    if (timing.forward_operations > 0)
      std::cout << " operations=" << timing.forward_operations << '+' << timing.backward_operations;
    std::cout << "\n";
  }
  std::cout << format("bench layers_ms=%.4f", layers_ms) << format(" step_ms=%.4f", step_ms)
            << format(" rest_of_step_ms=%.4f", step_ms - layers_ms) << std::endl;
}

// Train's own flags and the failure injection would do nothing on another command's command
// line, so they are refused there. In a config file they are the run's settings, shared by every command.
void refuse_flags_of(const po::options_description& group, const ParsedOptions& parsed, const char* command) {
  for (const auto& option : group.options()) {
    const std::string& flag = option->long_name();
    RT_CHECK(!parsed.from_command_line.count(flag),
             "--" << flag << " is train's: " << command << " does not use it, leave it out");
  }
}

// The help of a command that builds a model but does not train it: the options it takes, and a word on the
// config keys it reads and ignores.
void print_model_command_help(const char* usage, const po::options_description& options) {
  print_help(usage, options, true);
  std::cout
      << "A config file may also hold train's keys (run-dir, csv, keep, ...; see ringtrain train --help):\n"
         "summary and bench read them and ignore them.\n";
}

bool wants_help(const std::vector<std::string>& arguments) {
  for (const auto& argument : arguments) {
    if (argument == "--help" || argument == "-h") return true;
  }
  return false;
}

}  // namespace

int summary_command(const std::vector<std::string>& arguments, Replica& replica) {
  if (wants_help(arguments)) {
    print_model_command_help("ringtrain summary --config FILE [options]", model_and_training_options());
    return 0;
  }
  const Session session = agree_on(replica.communicator, [&] {
    const ParsedOptions parsed = parse(arguments, run_options());
    refuse_flags_of(train_output_options(), parsed, "summary");
    refuse_flags_of(failure_injection_options(), parsed, "summary");
    Session opened = open_session(parsed, replica.processes_on_node, ModelUse::describe);
    replica.watch_collectives(opened.config);
    return opened;
  });
  std::cout << model_summary(*session.model, session.config.name);
  return 0;
}

namespace {

// Rank 0 takes the run directory's lock before anything there is read (the checkpoint to resume from is
// chosen after it): a second run waits for the first here, up to --lock-wait, and fails naming it if it does
// not end. The other ranks wait for rank 0 in a barrier whose timeout allows that wait.
std::unique_ptr<RunDirectoryLock> hold_run_directory(const RunFiles& files, const TrainConfig& config,
                                                     Replica& replica) {
  if (files.run_dir.empty()) return nullptr;
  const std::chrono::milliseconds wait(std::llround(files.lock_wait_seconds * 1000));
  if (replica.watched != nullptr) {
    replica.watched->set_timeout(wait + config.collective_timeout());
  }
  std::unique_ptr<RunDirectoryLock> lock;
  if (replica.communicator.rank() == 0) {
    create_run_directory(files.run_dir);
    lock = std::make_unique<RunDirectoryLock>(files.run_dir, wait);
  }
  replica.communicator.barrier();
  return lock;
}

}  // namespace

int train_command(const std::vector<std::string>& arguments, Replica& replica) {
  const auto options = run_options();
  if (wants_help(arguments)) {
    print_help("ringtrain train --config FILE [options]", options, true);
    return 0;
  }
  // From here on a signal asks for a checkpoint and a stop at the next step boundary.
  install_stop_signal_handlers(replica.communicator.rank() == 0);
  take_stop_signals_on_a_thread_of_their_own();
  // What every rank reads alone is agreed on before the collectives that follow it, so that an error in the
  // options, the model or the data is printed once, not by every rank: the options and the model first, the
  // data once the run directory is held (a second run on it waits for the lock before loading anything).
  struct Setup {
    ParsedOptions parsed;
    Session session;
    RunFiles files;
    ProgressStyle progress_style;
  };
  Setup setup = agree_on(replica.communicator, [&] {
    ParsedOptions parsed = parse(arguments, options);
    Session session = open_session(parsed, replica.processes_on_node);
    replica.watch_collectives(session.config);  // the agreement, as every collective, waits this long
    require_batch_divides(session.config, replica.communicator.size());
    RunFiles files = run_files(parsed);
    announce_checkpoint_on_stop(!files.run_dir.empty());
    const ProgressStyle style =
        progress_style(parsed.values["verbose"].as<std::string>(), parsed.source_of("verbose"));
    return Setup{std::move(parsed), std::move(session), std::move(files), style};
  });
  const ParsedOptions& parsed = setup.parsed;
  Session& session = setup.session;
  const RunFiles& files = setup.files;
  // On the GPU the loss sums are read (and metrics.h5 gets its rows) every --log-every steps with a run
  // directory, every 100 without.
  if (!files.run_dir.empty()) session.config.gpu_read_every = files.log_every;
  const TrainConfig& config = session.config;
  const std::unique_ptr<RunDirectoryLock> lock = hold_run_directory(files, config, replica);
  Communicator& communicator = replica.for_device(config);
  struct Datasets {
    data::Dataset train, validation;
  };
  const Datasets datasets = agree_on(replica.communicator, [&] {
    return Datasets{load_data_for(*session.model, config.data_dir, data::Split::train),
                    load_data_for(*session.model, config.data_dir, data::Split::test)};
  });
  const data::Dataset& train = datasets.train;
  const data::Dataset& validation = datasets.validation;
  std::cout << model_summary(*session.model, config.name);
  const StartingPoint starting = resume_position(files, session, communicator, std::cout);
  const TrainingPosition& start = starting.position;
  std::cout << "Training on " << train.count() << " samples, validating on " << validation.count()
            << " samples; global batch " << config.batch_size << " over " << placement(config, communicator)
            << ", " << session.optimizer->describe() << ", lr " << config.schedule.initial << " * "
            << config.schedule.decay << "^epoch, seed " << config.seed << "\n";

  Trainer trainer(*session.model, *session.optimizer, config, &communicator);
  ProgressPrinter progress(std::cout, setup.progress_style);
  trainer.add_observer(progress);
  std::unique_ptr<CsvLogger> csv;
  if (!config.csv_path.empty() && communicator.rank() == 0) {
    csv = std::make_unique<CsvLogger>(config.csv_path, starting.resuming, start.epoch);
    trainer.add_observer(*csv);
  }
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<MetricsFile> metrics;
  std::unique_ptr<ReportObserver> report;
  if (!files.run_dir.empty()) {
    // Rank 0 checks the run directory (a fresh run refuses another run's files): agreed, reported once.
    checkpointer = agree_on(replica.communicator, [&] {
      return std::make_unique<Checkpointer>(
          CheckpointSettings{files.run_dir, files.checkpoint_every, files.keep, files.keep_best,
                             config_text(parsed), files.pause_in_checkpoint_write, starting.resuming,
                             start.global_step, starting.val_accuracy},
          *session.model, *session.optimizer, config.optimizer.name, communicator);
    });
    trainer.set_boundary_handler(*checkpointer);
    if (communicator.rank() == 0) {
      metrics = std::make_unique<MetricsFile>(metrics_path(files.run_dir), files.log_every, start);
      trainer.add_observer(*metrics);
      checkpointer->before_each_write([&metrics] {
        if (metrics != nullptr) metrics->flush();
      });
      if (files.report) {
        report = std::make_unique<ReportObserver>(
            files.run_dir, *metrics, *session.model,
            ReportContent{config.name, config_text(parsed), model_summary(*session.model, config.name)},
            validation);
        trainer.add_observer(*report);
      }
    }
  }
  const auto history = trainer.fit(train, validation, start);
  if (trainer.stopped()) {
    // Every file closed and the message out before any rank leaves: a launcher may end the other ranks as
    // soon as the first exits with this code (srun --kill-on-bad-exit).
    report.reset();
    metrics.reset();
    csv.reset();
    progress.end_line();
    std::cout << "stopped by a signal; "
              << (checkpointer ? "checkpoint " + checkpointer->last_written().string()
                               : "no --run-dir, no checkpoint")
              << "; exit code " << kExitStoppedBySignal
              << (checkpointer ? " (resume with --resume auto)" : "") << std::endl;
    communicator.barrier();
    return kExitStoppedBySignal;
  }
  double seconds = 0;
  for (const auto& epoch : history)
    seconds += epoch.seconds;
  const Evaluation final_evaluation =
      history.empty() ? trainer.evaluate(validation)
                      : Evaluation{history.back().val_loss, history.back().val_accuracy, 0};
  std::cout << format("final val_accuracy=%.4f", final_evaluation.accuracy)
            << format(" val_loss=%.4f", final_evaluation.loss) << " epochs=" << history.size()
            << format(" seconds=%.1f", seconds) << std::endl;
  return 0;
}

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
    refuse_flags_of(train_output_options(), parsed, "bench");
    refuse_flags_of(failure_injection_options(), parsed, "bench");
    Session session = open_session(parsed, replica.processes_on_node);
    replica.watch_collectives(session.config);
    const int steps = parsed.values["steps"].as<int>(), warmup = parsed.values["warmup"].as<int>();
    RT_CHECK(steps > 0 && warmup >= 0,
             "bench: --steps " << steps << " must be positive and --warmup " << warmup << " not negative");
    require_batch_divides(session.config, replica.communicator.size());
    data::Dataset train = load_data_for(*session.model, session.config.data_dir, data::Split::train);
    return Setup{std::move(parsed), std::move(session), std::move(train), steps, warmup};
  });
  const ParsedOptions& parsed = setup.parsed;
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
            << " steps=" << steps << format(" seconds=%.3f", seconds);
  if (config.device == Device::cuda) std::cout << " step_graph_nodes=" << trainer.step_graph_nodes();
  std::cout << "\n";
  std::cout << format("bench img_per_s=%.1f", images / seconds)
            << format(" ms_per_step=%.3f", 1000.0 * seconds / steps) << std::endl;
  // The arithmetic of a step (convolutions and dense layers; 2 operations per multiply-add), and the rate it
  // ran at: how far a step is from the hardware's floating-point peak.
  const double flops = 2.0 * static_cast<double>(session.model->training_multiply_adds()) * images;
  std::cout << format("bench gflop_per_step=%.4g", flops / 1e9 / steps)
            << format(" gflop_per_s=%.4g", flops / 1e9 / seconds) << std::endl;
  if (config.device == Device::cuda && replica.communicator.size() > 1) {
    // The host queues the collectives on NCCL's stream and never blocks on them: its clock cannot split them.
    std::cout << "bench exposed_communication=unmeasured on the GPU (collectives run on their own stream)"
              << std::endl;
  } else {
    std::cout << format("bench compute_ms_per_step=%.3f", 1000.0 * (seconds - exposed) / steps)
              << format(" exposed_communication_ms_per_step=%.3f", 1000.0 * exposed / steps)
              << format(" exposed_communication_share=%.1f%%", 100.0 * exposed / seconds) << std::endl;
  }
  if (parsed.values["per-layer"].as<bool>())
    print_layer_times(*session.model, train, trainer.shard(), config, steps, 1000.0 * seconds / steps);
  return 0;
}

}  // namespace ringtrain::cli
