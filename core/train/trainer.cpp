// The training loop, one step and evaluation.
#include "core/train/trainer.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "core/comm/replicas.hpp"
#include "core/data/sampler.hpp"
#include "core/ops/softmax_cross_entropy.hpp"
#include "core/train/stop_request.hpp"

namespace ringtrain {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

Trainer::Trainer(Sequential& model, Optimizer& optimizer, const TrainConfig& config,
                 Communicator* communicator)
    : model_(model), optimizer_(optimizer), config_(config), communicator_(communicator) {
  if (communicator_ == nullptr) {
    own_communicator_ = make_single_process_communicator();
    communicator_ = own_communicator_.get();
  }
  const int ranks = communicator_->size();
  RT_CHECK(config_.batch_size % ranks == 0,
           config_.source_of("batch-size")
               << ": batch-size=" << config_.batch_size << " is the global batch and must "
               << "divide among the " << ranks << " processes: use a multiple of " << ranks << ", such as "
               << std::max<std::int64_t>(config_.batch_size / ranks, 1) * ranks << " or "
               << (config_.batch_size / ranks + 1) * ranks);
  buckets_ =
      std::make_unique<GradientBuckets>(*communicator_, model_.parameters().gradients(),
                                        config_.bucket_kib * 1024 / static_cast<std::int64_t>(sizeof(float)));
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
  if (!buffer.defined() || buffer.shape() != host.shape() || buffer.dtype() != host.dtype())
    buffer = Tensor::empty(host.shape(), host.dtype(), model_.device());
  buffer.copy_from(host);
  return buffer;
}

StepResult Trainer::train_step(const data::Batch& batch, float rate, std::uint64_t step) {
  const data::Shard part = shard();
  RT_CHECK(config_.fail_at_step < 0 || static_cast<std::int64_t>(step) != config_.fail_at_step ||
               part.index != config_.fail_rank,
           "failure injected for testing at step " << step + 1 << " on rank " << part.index);
  StepContext context;
  context.mode = Mode::train;
  context.seed = config_.seed;
  context.step = step;
  context.first_sample = static_cast<std::uint64_t>(part.index * config_.batch_size / part.count);
  if (config_.bn_sync == BatchNormSync::global && part.count > 1) context.batch_statistics = communicator_;
  const Tensor& labels = on_model_device(batch.labels, labels_on_device_);
  const Tensor logits = model_.forward_logits(on_model_device(batch.images, images_on_device_), context);
  if (!dlogits_.defined() || dlogits_.shape() != logits.shape()) {
    dlogits_ = Tensor::empty(logits.shape(), DType::f32, logits.device());
  }
  // The loss is the mean over the global batch: each rank's share of the gradient is scaled by 1 / global
  // batch, and the sum over ranks is the gradient of one process training the whole batch.
  const ops::LossSums sums =
      ops::softmax_cross_entropy(logits, labels, 1.0f / static_cast<float>(config_.batch_size), dlogits_);
  model_.backward(dlogits_, context, [this](std::int64_t offset) { buckets_->ready_from(offset); });
  buckets_->finish();
  // Every rank sees the same sums, so every rank takes the same decision on a non-finite loss or a request
  // to stop.
  std::array<double, 4> totals{sums.loss_sum, static_cast<double>(sums.correct),
                               static_cast<double>(batch.labels.numel()), stop_requested() ? 1.0 : 0.0};
  communicator_->sum(totals);
  optimizer_.step(model_.parameters(), rate);
  return {totals[0], static_cast<std::int64_t>(totals[1]), static_cast<std::int64_t>(totals[2]),
          totals[3] > 0};
}

Evaluation Trainer::evaluate(const data::Dataset& dataset) {
  // Each rank evaluates one contiguous part of the dataset, no padding and no repeats, and the sums are
  // exact.
  std::vector<std::int64_t> all(static_cast<std::size_t>(dataset.count()));
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<std::int64_t>(i);
  const auto mine = data::shard_of(all, shard());
  const std::int64_t batch_size = std::max<std::int64_t>(config_.batch_size / shard().count, 1);
  StepContext context;
  context.mode = Mode::inference;
  Tensor images, labels, no_gradient;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::size_t begin = 0; begin < mine.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t rows = std::min(mine.size() - begin, static_cast<std::size_t>(batch_size));
    dataset.gather_batch(mine.subspan(begin, rows), images, labels);
    const Tensor logits = model_.forward_logits(on_model_device(images, images_on_device_), context);
    const ops::LossSums sums =
        ops::softmax_cross_entropy(logits, on_model_device(labels, labels_on_device_), 1.0f, no_gradient);
    loss_sum += sums.loss_sum;
    correct += sums.correct;
  }
  std::array<double, 2> totals{loss_sum, static_cast<double>(correct)};
  communicator_->sum(totals);
  const auto count = static_cast<double>(dataset.count());
  return {totals[0] / count, totals[1] / count, dataset.count()};
}

std::vector<EpochMetrics> Trainer::fit(const data::Dataset& train, const data::Dataset& validation,
                                       const TrainingPosition& start) {
  const data::EpochSampler sampler(train.count(), config_.batch_size, config_.seed, data::Remainder::drop);
  const std::int64_t steps = sampler.steps_per_epoch();
  RT_CHECK(steps > 0, "batch-size " << config_.batch_size << " is larger than the " << train.count()
                                    << " training samples");
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
  check_replicas_agree(model_.parameters(), *communicator_, "at the start");
  data::BatchPrefetcher prefetcher(train, sampler, start.epoch, start.step, shard());
  TrainingPosition position = start;
  position.seed = config_.seed;
  for (int epoch = static_cast<int>(start.epoch); epoch < config_.epochs; ++epoch) {
    const double epoch_learning_rate = learning_rate(epoch, 0, steps);
    for (auto* observer : observers_)
      observer->on_epoch_begin(epoch, config_.epochs, epoch_learning_rate);
    const auto begin = Clock::now();
    const std::int64_t first_step = epoch == start.epoch ? start.step : 0;
    bool stop = false;
    for (std::int64_t step = first_step; step < steps && !stop; ++step) {
      const data::Batch& batch = prefetcher.next();
      RT_CHECK(batch.epoch == epoch && batch.step == step, "prefetcher out of step: got epoch "
                                                               << batch.epoch << " step " << batch.step
                                                               << ", expected " << epoch << " step " << step);
      const std::uint64_t global_step = static_cast<std::uint64_t>(epoch * steps + step);
      const auto rate = static_cast<float>(learning_rate(epoch, step, steps));
      const StepResult result = train_step(batch, rate, global_step);
      RT_CHECK(std::isfinite(result.loss_sum),
               "the loss became " << (std::isnan(result.loss_sum) ? "NaN" : "infinite") << " at epoch "
                                  << epoch + 1 << " step " << step + 1
                                  << ": training stopped; lower the learning rate (lr) and try again");
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
      if (step + 1 < steps && boundary_handler_ != nullptr)
        boundary_handler_->at_boundary({position, nullptr, stop});
    }
    if (stop && position.step < steps) {
      stopped_ = true;
      return history;
    }
    const double train_seconds = seconds_since(begin);
    const Evaluation evaluation = evaluate(validation);
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.loss = position.loss_sum / static_cast<double>(position.seen);
    metrics.accuracy = static_cast<double>(position.correct) / static_cast<double>(position.seen);
    metrics.val_loss = evaluation.loss;
    metrics.val_accuracy = evaluation.accuracy;
    metrics.learning_rate = epoch_learning_rate;
    metrics.seconds = seconds_since(begin);
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
    if (boundary_handler_ != nullptr) boundary_handler_->at_boundary({position, &history.back(), stop});
    if (stop && epoch + 1 < config_.epochs) {
      stopped_ = true;
      return history;
    }
  }
  return history;
}

}  // namespace ringtrain
