// train: options, model and data agreed on by every rank, the run directory held, a resume position chosen,
// then fit with its observers (progress, CSV, checkpoints, metrics.h5, report) until done or stopped.
#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "core/checkpoint/checkpointer.hpp"
#include "core/checkpoint/metrics_file.hpp"
#include "core/checkpoint/run_directory.hpp"
#include "core/checkpoint/run_directory_lock.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/help.hpp"
#include "core/cli/run_files.hpp"
#include "core/cli/session.hpp"
#include "core/comm/agreement.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/model/summary.hpp"
#include "core/report/report_observer.hpp"
#include "core/text_format.hpp"
#include "core/train/csv_logger.hpp"
#include "core/train/progress.hpp"
#include "core/train/stop_request.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain::cli {

namespace {

// "2 process(es) of 4 thread(s)" or "2 process(es), each on its GPU (rank 0: GPU 0 (NVIDIA H200))".
std::string placement(const TrainConfig& config, const Communicator& communicator) {
  const std::string processes = std::to_string(communicator.size()) + " process(es)";
  if (config.device == Device::cpu) return processes + " of " + std::to_string(config.threads) + " thread(s)";
  return processes + ", each on its GPU (rank 0: " + cuda::current_device_name() + ")";
}

struct HeldRunDirectory {
  std::unique_ptr<RunDirectoryLock> lock;  // rank 0's
  std::string stopped_while_waiting;       // why it was not taken: a stop signal came first (every rank)
};

// Rank 0 takes the run directory's lock before anything there is read (the checkpoint to resume from is
// chosen after it): a second run waits for the first here, up to --lock-wait, and fails naming it if it does
// not end (agreed: reported once, no rank aborted). The other ranks wait for rank 0 in collectives whose
// timeout allows that wait.
HeldRunDirectory hold_run_directory(const RunFiles& files, const TrainConfig& config, Replica& replica) {
  if (files.run_dir.empty()) return {};
  const std::chrono::milliseconds wait(std::llround(files.lock_wait_seconds * 1000));
  if (replica.watched != nullptr) {
    replica.watched->set_timeout(wait + config.collective_timeout());
  }
  HeldRunDirectory held;
  agree_on(replica.communicator, [&] {
    if (replica.communicator.rank() != 0) return 0;
    create_run_directory(files.run_dir);
    try {
      held.lock = std::make_unique<RunDirectoryLock>(files.run_dir, wait);
    } catch (const StoppedWhileWaiting& stopped) {
      held.stopped_while_waiting = stopped.what();
    }
    return 0;
  });
  const bool stopped = on_any_rank(replica.communicator, !held.stopped_while_waiting.empty());
  if (stopped && held.stopped_while_waiting.empty()) held.stopped_while_waiting = "stopped";
  return held;
}

// "lr 0.001 * 0.6^epoch" ("lr 0.001" without decay), and the linear scaling by the process count where it
// applies.
std::string describe_learning_rate(const TrainConfig& config, int ranks) {
  std::ostringstream text;
  text << "lr " << config.schedule.initial;
  if (config.schedule.decay != 1) text << " * " << config.schedule.decay << "^epoch";
  if (config.lr_scaling == LearningRateScaling::linear) {
    text << " x " << ranks << " (--lr-scaling linear";
    if (config.warmup_epochs > 0) text << ", reached after " << config.warmup_epochs << " warm-up epoch(s)";
    text << ")";
  }
  return text.str();
}

}  // namespace

int train_command(const std::vector<std::string>& arguments, Replica& replica) {
  const auto options = run_options();
  if (wants_help(arguments)) {
    print_help("ringtrain train --config FILE [options]", options, true);
    return 0;
  }
  // A signal asks for a checkpoint and a stop at the next step boundary (taken from the process's start, in
  // main); rank 0 says so when one arrives.
  install_stop_signal_handlers(replica.communicator.rank() == 0);
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
    Session session = open_session(parsed, replica.node);
    replica.watch_collectives(session.config);  // the agreement, as every collective, waits this long
    const TrainConfig& config = session.config;
    RT_CHECK(
        config.fail_at_step < 0 || (config.fail_rank >= 0 && config.fail_rank < replica.communicator.size()),
        "--fail-rank " << config.fail_rank << " is no rank of this run's " << replica.communicator.size()
                       << " process(es): --fail-at-step would fail nowhere");
    RunFiles files = run_files(parsed);
    require_batch_divides(config, replica.communicator.size(),
                          files.resume.empty() ? Resuming::no : Resuming::maybe);
    announce_checkpoint_on_stop(!files.run_dir.empty());
    const ProgressStyle style =
        progress_style(parsed.values["verbose"].as<std::string>(), parsed.source_of("verbose"));
    return Setup{std::move(parsed), std::move(session), std::move(files), style};
  });
  const ParsedOptions& parsed = setup.parsed;
  require_same_configuration(replica.communicator, parsed);
  Session& session = setup.session;
  const RunFiles& files = setup.files;
  // On the GPU the loss sums are read (and metrics.h5 gets its rows) every --log-every steps with a run
  // directory, every 100 without.
  if (!files.run_dir.empty()) session.config.gpu_read_every = files.log_every;
  const TrainConfig& config = session.config;
  const HeldRunDirectory held = hold_run_directory(files, config, replica);
  if (!held.stopped_while_waiting.empty()) {
    // Nothing was begun: a launcher may start the job again, as after any stop.
    std::cout << held.stopped_while_waiting << "; exit code " << kExitStoppedBySignal << std::endl;
    return kExitStoppedBySignal;
  }
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
  const StartingPoint starting =
      resume_position(files, session, config_text(parsed), communicator, std::cout);
  const TrainingPosition& start = starting.position;
  if (start.epoch < config.epochs) {  // else the resume said that nothing is left to train
    std::cout << "Training on " << train.count() << " samples, validating on " << validation.count()
              << " samples; global batch " << config.batch_size << " over " << placement(config, communicator)
              << ", " << session.optimizer->describe() << ", "
              << describe_learning_rate(config, communicator.size()) << ", seed " << config.seed << "\n";
  }

  Trainer trainer(*session.model, *session.optimizer, config, &communicator);
  ProgressPrinter progress(std::cout, setup.progress_style);
  trainer.add_observer(progress);
  // Rank 0 checks the CSV file before the run directory is touched, and starts it after the run directory's
  // checks: a refused run leaves both as they were. Agreed, reported once.
  const bool writes_csv = !config.csv_path.empty() && communicator.rank() == 0;
  const std::vector<std::string> csv_rows = agree_on(replica.communicator, [&] {
    std::optional<CsvResumePoint> resumed;
    if (starting.resuming) resumed = CsvResumePoint{start.epoch, starting.val_accuracy};
    return writes_csv ? csv_rows_kept(config.csv_path, resumed) : std::vector<std::string>{};
  });
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
            ReportContent{config.name, config_text(parsed), model_summary(*session.model, config.name),
                          communicator.size()},
            validation);
        trainer.add_observer(*report);
      }
    }
  }
  std::unique_ptr<CsvLogger> csv = agree_on(replica.communicator, [&]() -> std::unique_ptr<CsvLogger> {
    if (!writes_csv) return nullptr;
    return std::make_unique<CsvLogger>(config.csv_path, csv_rows);
  });
  if (csv) trainer.add_observer(*csv);
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
  // The run's epochs (a resumed run's included), and the seconds this command trained and validated.
  double seconds = 0;
  for (const auto& epoch : history)
    seconds += epoch.seconds;
  const Evaluation final_evaluation =
      history.empty() ? trainer.evaluate(validation)
                      : Evaluation{history.back().val_loss, history.back().val_accuracy, 0};
  std::cout << format_number("final val_accuracy=%.4f", final_evaluation.accuracy)
            << format_number(" val_loss=%.4f", final_evaluation.loss)
            << " epochs=" << start.epoch + history.size() << format_number(" seconds=%.1f", seconds)
            << std::endl;
  return 0;
}

}  // namespace ringtrain::cli
