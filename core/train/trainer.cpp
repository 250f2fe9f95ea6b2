// The training loop, one step and evaluation; the GPU's data path and recorded steps are in trainer_gpu.cpp.
#include "core/train/trainer.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <new>
#include <sstream>
#include <string>

#include "core/comm/agreement.hpp"
#include "core/comm/replicas.hpp"
#include "core/cuda/kernels.hpp"
#include "core/data/sampler.hpp"
#include "core/ops/softmax_cross_entropy.hpp"
#include "core/train/stop_request.hpp"
#include "core/train/trainer_gpu.hpp"

namespace ringtrain {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "step 5", or "in steps 5-100" for steps read together (from 0 in, from 1 out).
std::string steps_text(std::int64_t first, std::int64_t last) {
  std::ostringstream text;
  if (first == last) {
    text << "step " << first + 1;
  } else {
    text << "in steps " << first + 1 << '-' << last + 1;
  }
  return text.str();
}

// Runs `work`, the steps from `first` to `last` of `epoch`; an error in it is rethrown naming them.
template <typename Work>
void naming_the_step(int epoch, std::int64_t first, std::int64_t last, Work&& work) {
  const auto at = [&] { return "at epoch " + std::to_string(epoch + 1) + ' ' + steps_text(first, last); };
  try {
    work();
  } catch (const Error& error) {
    throw Error(std::string(error.what()) + " (" + at() + ')');
  } catch (const std::bad_alloc&) {
    throw Error("out of memory " + at() + ": " + kOutOfMemoryAdvice);
  } catch (const std::exception& error) {
    throw Error(std::string("internal error: ") + error.what() + " (" + at() + ')');
  }
}

// " (non-finite on rank 1)", or "" for one process.
std::string non_finite_ranks_text(const std::vector<int>& ranks) {
  return ranks.empty() ? "" : " (non-finite on " + describe_ranks(ranks) + ")";
}

// ", such as 96 or 128" for 100 among 32 processes: the multiples of `ranks` just below and above `value`
// (only the one above when none is below).
std::string nearest_multiples(std::int64_t value, int ranks) {
  const std::int64_t below = value / ranks * ranks;
  std::ostringstream text;
  text << ", such as ";
  if (below > 0) text << below << " or ";
  text << below + ranks;
  return text.str();
}

// ", such as 2 or 4" for 128 on 3 processes: the process counts just below and above `ranks` that divide
// `batch`, the one above only when it is at most twice `ranks`.
std::string nearest_divisors(std::int64_t batch, int ranks) {
  std::int64_t below = ranks - 1, above = ranks + 1;
  const std::int64_t above_limit = std::min<std::int64_t>(batch, 2 * std::int64_t{ranks});
  while (below > 1 && batch % below != 0)
    --below;
  while (above <= above_limit && batch % above != 0)
    ++above;
  std::ostringstream text;
  text << ", such as " << below;
  if (above <= above_limit) text << " or " << above;
  return text.str();
}

}  // namespace

void require_batch_divides(const TrainConfig& config, int ranks, Resuming resuming) {
  if (config.batch_size % ranks == 0) return;
  std::ostringstream message;
  message << config.source_of("batch-size") << ": batch-size=" << config.batch_size
          << " is the global batch and must divide among the " << ranks << " processes: use a multiple of "
          << ranks << nearest_multiples(config.batch_size, ranks);
  if (resuming == Resuming::maybe) {
    message << "; or, to resume a run trained at batch-size " << config.batch_size
            << " (a resumed run keeps its global batch), start a number of processes that divides it"
            << nearest_divisors(config.batch_size, ranks);
  }
  throw Error(message.str());
}

Trainer::~Trainer() = default;

Trainer::Trainer(Sequential& model, Optimizer& optimizer, const TrainConfig& config,
                 Communicator* communicator)
    : model_(model), optimizer_(optimizer), config_(config), communicator_(communicator) {
  cuda::set_deterministic_convolutions(config_.deterministic);
  if (communicator_ == nullptr) {
    own_communicator_ = make_single_process_communicator();
    communicator_ = own_communicator_.get();
  }
  require_batch_divides(config_, communicator_->size());
  RT_CHECK(config_.gpu_read_every >= 1,
           "gpu_read_every=" << config_.gpu_read_every << " (steps between reads of the loss on the GPU, "
                             << "--log-every with a run directory) must be at least 1");
  buckets_ =
      std::make_unique<GradientBuckets>(*communicator_, model_.parameters().gradients(),
                                        config_.bucket_kib * 1024 / static_cast<std::int64_t>(sizeof(float)));
  totals_ = Tensor::zeros({3}, DType::f64, model_.device());
  evaluation_totals_ = Tensor::zeros({3}, DType::f64, model_.device());
}

double Trainer::learning_rate(int epoch, std::int64_t step, std::int64_t steps_per_epoch) const {
  const double base = config_.schedule.at_epoch(epoch);
  if (config_.lr_scaling == LearningRateScaling::none) return base;
  const double ranks = communicator_->size();
  const double progress = epoch + static_cast<double>(step) / static_cast<double>(steps_per_epoch);
  if (progress >= config_.warmup_epochs) return base * ranks;
  return base * (1.0 + (ranks - 1.0) * progress / config_.warmup_epochs);
}

const Tensor& Trainer::on_model_device(const Tensor& host, Tensor& buffer) const {
  if (host.device() == model_.device()) return host;
  ensure_tensor(buffer, host.shape(), model_.device(), host.dtype()).copy_from(host);
  return buffer;
}

std::int64_t Trainer::class_count() const {
  return model_.output_shape(model_.layers().size() - 1).numel();
}

StepContext Trainer::train_context(std::uint64_t step) const {
  const data::Shard part = shard();
  StepContext context;
  context.mode = Mode::train;
  context.seed = config_.seed;
  context.step = step;
  context.first_sample = static_cast<std::uint64_t>(part.index * config_.batch_size / part.count);
  if (config_.bn_sync == BatchNormSync::global && part.count > 1) context.batch_statistics = communicator_;
  return context;
}

void Trainer::inject_failure(std::uint64_t step) const {
  RT_CHECK(config_.fail_at_step < 0 || static_cast<std::int64_t>(step) != config_.fail_at_step ||
               shard().index != config_.fail_rank,
           "failure injected for testing at global step " << step + 1 << " on rank " << shard().index);
}

void Trainer::queue_step(const Tensor& images, const Tensor& labels, const StepContext& context,
                         float update_rate, const float* update_rate_on_device) {
  const Tensor logits = model_.forward_logits(images, context);
  ensure_tensor(dlogits_, logits.shape(), logits.device());
  // The loss is the mean over the global batch: each rank's share of the gradient is scaled by 1 / global
  // batch, and the sum over ranks is the gradient of one process training the whole batch.
  ops::accumulate_softmax_cross_entropy(logits, labels, 1.0f / static_cast<float>(config_.batch_size),
                                        dlogits_, totals_);
  model_.backward(dlogits_, context, [this](std::int64_t offset) { buckets_->ready_from(offset); });
  buckets_->finish();
  optimizer_.queue_update(model_.parameters(), update_rate, update_rate_on_device);
}

std::array<double, 3> Trainer::copy_sums_to_host(const Tensor& totals) {
  std::array<double, 3> sums{};
  device_copy(sums.data(), Device::cpu, totals.data<double>(), totals.device(), totals.bytes());
  return sums;
}

void Trainer::require_known_labels(double unknown, const char* whose) const {
  RT_CHECK(unknown == 0, unknown << " label(s) of " << whose << " outside the model's " << class_count()
                                 << " classes: give the last layer as many units as the data has classes");
}

StepResult Trainer::read_totals() {
  const std::array<double, 3> sums = copy_sums_to_host(totals_);
  totals_.fill_zero();
  // Every rank sees the same sums, so every rank takes the same decision on a bad label, a non-finite loss
  // or a request to stop.
  std::array<double, 5> totals{sums[0], sums[1], static_cast<double>(rows_since_read_),
                               stop_requested() ? 1.0 : 0.0, sums[2]};
  rows_since_read_ = 0;
  communicator_->sum(totals);
  require_known_labels(totals[4], "the training data");
  StepResult result{totals[0],
                    static_cast<std::int64_t>(totals[1]),
                    static_cast<std::int64_t>(totals[2]),
                    totals[3] > 0,
                    {}};
  // Every rank takes this branch: the ranks whose own loss was not finite are named.
  if (!std::isfinite(totals[0]) && communicator_->size() > 1) {
    const std::vector<std::uint64_t> non_finite = communicator_->all_gather(std::isfinite(sums[0]) ? 0 : 1);
    for (std::size_t rank = 0; rank < non_finite.size(); ++rank)
      if (non_finite[rank] != 0) result.non_finite_ranks.push_back(static_cast<int>(rank));
  }
  return result;
}

void Trainer::queue_host_step(const data::Batch& batch, float rate, std::uint64_t step) {
  inject_failure(step);
  const Tensor& labels = on_model_device(batch.labels, batch_labels_);
  queue_step(on_model_device(batch.images, batch_images_), labels, train_context(step),
             optimizer_.update_rate(rate), nullptr);
  optimizer_.count_update();
  rows_since_read_ += batch.labels.numel();
}

StepResult Trainer::train_step(const data::Batch& batch, float rate, std::uint64_t step) {
  queue_host_step(batch, rate, step);
  return read_totals();
}

std::int64_t Trainer::steps_per_epoch(const data::Dataset& train) const {
  const std::int64_t steps = train.count() / config_.batch_size;  // the last partial batch is dropped
  RT_CHECK(steps > 0, "batch-size " << config_.batch_size << " is larger than the " << train.count()
                                    << " training samples: use a batch of at most " << train.count());
  return steps;
}

bool Trainer::reads_after(std::int64_t step, std::int64_t steps, std::int64_t steps_taken) const {
  return model_.device() == Device::cpu || step + 1 == steps || steps_taken % config_.gpu_read_every == 0 ||
         (boundary_handler_ != nullptr && boundary_handler_->wants_boundary_after(steps_taken));
}

Evaluation Trainer::evaluate(const data::Dataset& dataset) {
  // Each rank evaluates one contiguous part of the dataset, no padding and no repeats, and the sums are
  // exact. Batches are the training step's, the last one smaller, in the step's buffers: after the first
  // evaluation nothing is allocated, and a step recorded on the GPU stays valid.
  const std::vector<std::int64_t> all = data::in_order(dataset.count());
  const auto mine = data::shard_of(all, shard());
  const std::int64_t batch_size = std::max<std::int64_t>(config_.batch_size / shard().count, 1);
  const data::DeviceDataset* on_gpu = model_.device() == Device::cuda ? &evaluated_on_gpu(dataset) : nullptr;
  StepContext context;
  context.mode = Mode::inference;
  Tensor no_gradient;
  evaluation_totals_.fill_zero();
  for (std::size_t begin = 0; begin < mine.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t rows = std::min(mine.size() - begin, static_cast<std::size_t>(batch_size));
    if (on_gpu != nullptr) {
      on_gpu->gather(mine.front() + static_cast<std::int64_t>(begin), nullptr,
                     static_cast<std::int64_t>(rows), batch_images_, batch_labels_);
    } else {
      dataset.gather_batch(mine.subspan(begin, rows), batch_images_, batch_labels_);
    }
    const Tensor logits = model_.forward_logits(batch_images_, context);
    ops::accumulate_softmax_cross_entropy(logits, batch_labels_, 1.0f, no_gradient, evaluation_totals_);
  }
  std::array<double, 3> summed = copy_sums_to_host(evaluation_totals_);
  communicator_->sum(summed);
  require_known_labels(summed[2], "the evaluated data");
  const auto count = static_cast<double>(dataset.count());
  return {summed[0] / count, summed[1] / count, dataset.count()};
}

void Trainer::agree_on_state() {
  if (config_.bn_sync == BatchNormSync::local && communicator_->size() > 1)
    average_state(model_.state(), *communicator_);
}

bool Trainer::stop_requested_on_any_rank() {
  return on_any_rank(*communicator_, stop_requested());
}

std::vector<EpochMetrics> Trainer::fit(const data::Dataset& train, const data::Dataset& validation,
                                       const TrainingPosition& start) {
  const data::EpochSampler sampler(train.count(), config_.batch_size, config_.seed, data::Remainder::drop);
  const std::int64_t steps = steps_per_epoch(train);
  RT_CHECK(start.step >= 0 && start.step < steps && start.epoch >= 0,
           "cannot start at epoch " << start.epoch + 1 << " step " << start.step + 1 << ": an epoch has "
                                    << steps << " steps");
  RT_CHECK(start.global_step == start.epoch * steps + start.step,
           "the starting position (epoch "
               << start.epoch + 1 << ", step " << start.step + 1 << ", global step " << start.global_step
               << ") does not fit epochs of " << steps
               << " steps: the checkpoint was written for another training set size");
  std::vector<EpochMetrics> history;
  stopped_ = false;
  broadcast_parameters(model_.parameters(), *communicator_);
  check_replicas_agree(model_.parameters(), model_.state(), *communicator_, "at the start");
  const bool on_gpu = model_.device() == Device::cuda;
  // On the CPU a thread prepares the next batches; on the GPU a kernel gathers them from its copy. The
  // validation set is uploaded before the first step, so that no evaluation allocates.
  std::unique_ptr<data::BatchPrefetcher> prefetcher;
  if (on_gpu) {
    evaluated_on_gpu(validation);
  } else {
    prefetcher = std::make_unique<data::BatchPrefetcher>(train, sampler, start.epoch, start.step, shard());
  }
  totals_.fill_zero();
  rows_since_read_ = 0;
  TrainingPosition position = start;
  position.seed = config_.seed;
  for (int epoch = static_cast<int>(start.epoch); epoch < config_.epochs; ++epoch) {
    const double epoch_learning_rate = learning_rate(epoch, 0, steps);
    for (auto* observer : observers_)
      observer->on_epoch_begin(epoch, config_.epochs, epoch_learning_rate);
    const auto begin = Clock::now();
    const std::int64_t first_step = epoch == start.epoch ? start.step : 0;
    if (on_gpu) prepare_gpu_epoch(train, epoch);
    bool stop = false;
    std::int64_t first_unread = first_step;  // the first step whose sums were not read yet
    for (std::int64_t step = first_step; step < steps && !stop; ++step) {
      const std::uint64_t global_step = static_cast<std::uint64_t>(epoch * steps + step);
      const auto rate = static_cast<float>(learning_rate(epoch, step, steps));
      naming_the_step(epoch, step, step, [&] {
        if (on_gpu) {
          queue_gpu_step(step, global_step, rate);
          return;
        }
        const data::Batch& batch = prefetcher->next();
        RT_CHECK(batch.epoch == epoch && batch.step == step,
                 "prefetcher out of step: got epoch " << batch.epoch << " step " << batch.step
                                                      << ", expected " << epoch << " step " << step);
        queue_host_step(batch, rate, global_step);
      });
      if (!reads_after(step, steps, static_cast<std::int64_t>(global_step) + 1)) continue;
      StepResult result;
      naming_the_step(epoch, first_unread, step, [&] { result = read_totals(); });
      if (!std::isfinite(result.loss_sum)) {
        // Every rank read the same sums: each stops here, and rank 0 alone says why.
        std::ostringstream message;
        message << "the loss became " << (std::isnan(result.loss_sum) ? "NaN" : "infinite") << " at epoch "
                << epoch + 1 << ' ' << steps_text(first_unread, step)
                << non_finite_ranks_text(result.non_finite_ranks)
                << ": training stopped; lower the learning rate (lr) and try again";
        fail_on_every_rank(*communicator_, std::make_exception_ptr(Error(message.str())));
      }
      first_unread = step + 1;
      position.loss_sum += result.loss_sum;
      position.correct += result.correct;
      position.seen += result.count;
      position.epoch = epoch;
      position.step = step + 1;
      position.global_step = static_cast<std::int64_t>(global_step) + 1;
      position.samples_seen = position.global_step * config_.batch_size;
      StepMetrics metrics;
      metrics.epoch = epoch;
      metrics.step = step;
      metrics.steps = steps;
      metrics.first_step = first_step;
      metrics.global_step = position.global_step;
      metrics.learning_rate = rate;
      metrics.loss = position.loss_sum / static_cast<double>(position.seen);
      metrics.accuracy = static_cast<double>(position.correct) / static_cast<double>(position.seen);
      metrics.elapsed_seconds = seconds_since(begin);
      const auto trained_here = static_cast<double>((step + 1 - first_step) * config_.batch_size);
      metrics.images_per_second = trained_here / std::max(metrics.elapsed_seconds, 1e-9);
      for (auto* observer : observers_)
        observer->on_step_end(metrics);
      stop = result.stop_requested;
      // The last step's boundary is the epoch's end, after validation.
      if (step + 1 < steps && boundary_handler_ != nullptr &&
          (stop || boundary_handler_->wants_boundary_after(position.global_step))) {
        agree_on_state();
        boundary_handler_->at_boundary({position, nullptr, stop});
      }
    }
    if (stop && position.step < steps) {
      stopped_ = true;
      return history;
    }
    const double train_seconds = seconds_since(begin);
    agree_on_state();
    const Evaluation evaluation = evaluate(validation);
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.loss = position.loss_sum / static_cast<double>(position.seen);
    metrics.accuracy = static_cast<double>(position.correct) / static_cast<double>(position.seen);
    metrics.val_loss = evaluation.loss;
    metrics.val_accuracy = evaluation.accuracy;
    metrics.learning_rate = epoch_learning_rate;
    metrics.seconds = seconds_since(begin);
    metrics.steps_run = steps - first_step;
    metrics.images_per_second =
        static_cast<double>((steps - first_step) * config_.batch_size) / train_seconds;
    for (auto* observer : observers_)
      observer->on_epoch_end(metrics);
    history.push_back(metrics);
    position.epoch = epoch + 1;
    position.step = 0;
    position.loss_sum = 0;
    position.correct = 0;
    position.seen = 0;
    // A stop asked for after the last step's sums were read (during validation) is taken at this boundary,
    // not one step into the next epoch.
    if (!stop && epoch + 1 < config_.epochs) stop = stop_requested_on_any_rank();
    if (boundary_handler_ != nullptr) boundary_handler_->at_boundary({position, &history.back(), stop});
    if (stop && epoch + 1 < config_.epochs) {
      stopped_ = true;
      return history;
    }
  }
  return history;
}

}  // namespace ringtrain
