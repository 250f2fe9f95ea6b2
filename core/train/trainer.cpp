// The training loop, one step and evaluation.
#include "core/train/trainer.hpp"

#include <chrono>
#include <cmath>

#include "core/data/sampler.hpp"
#include "core/ops/softmax_cross_entropy.hpp"

namespace ringtrain {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

Trainer::Trainer(Sequential& model, Optimizer& optimizer, const TrainConfig& config)
    : model_(model), optimizer_(optimizer), config_(config) {}

StepResult Trainer::train_step(const data::Batch& batch, float learning_rate, std::uint64_t step) {
  StepContext context;
  context.mode = Mode::train;
  context.seed = config_.seed;
  context.step = step;
  const Tensor logits = model_.forward_logits(batch.images, context);
  if (!dlogits_.defined() || dlogits_.shape() != logits.shape()) {
    dlogits_ = Tensor::empty(logits.shape(), DType::f32, logits.device());
  }
  const std::int64_t count = batch.labels.numel();
  const ops::LossSums sums =
      ops::softmax_cross_entropy(logits, batch.labels, 1.0f / static_cast<float>(count), dlogits_);
  model_.backward(dlogits_, context);
  optimizer_.step(model_.parameters(), learning_rate);
  return {sums.loss_sum, sums.correct, count};
}

Evaluation Trainer::evaluate(const data::Dataset& dataset) {
  const data::SequentialBatches batches(dataset.count(), config_.batch_size);
  StepContext context;
  context.mode = Mode::inference;
  Tensor images, labels, no_gradient;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t step = 0; step < batches.steps(); ++step) {
    dataset.gather_batch(batches.batch(step), images, labels);
    const ops::LossSums sums =
        ops::softmax_cross_entropy(model_.forward_logits(images, context), labels, 1.0f, no_gradient);
    loss_sum += sums.loss_sum;
    correct += sums.correct;
  }
  const auto count = static_cast<double>(dataset.count());
  return {loss_sum / count, static_cast<double>(correct) / count, dataset.count()};
}

std::vector<EpochMetrics> Trainer::fit(const data::Dataset& train, const data::Dataset& validation) {
  const data::EpochSampler sampler(train.count(), config_.batch_size, config_.seed, data::Remainder::drop);
  const std::int64_t steps = sampler.steps_per_epoch();
  RT_CHECK(steps > 0, "batch-size " << config_.batch_size << " is larger than the " << train.count()
                                    << " training samples");
  std::vector<EpochMetrics> history;
  data::BatchPrefetcher prefetcher(train, sampler, 0, 0);
  for (int epoch = 0; epoch < config_.epochs; ++epoch) {
    const double learning_rate = config_.schedule.at_epoch(epoch);
    for (auto* observer : observers_)
      observer->on_epoch_begin(epoch, config_.epochs, learning_rate);
    const auto start = Clock::now();
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    for (std::int64_t step = 0; step < steps; ++step) {
      const data::Batch& batch = prefetcher.next();
      RT_CHECK(batch.epoch == epoch && batch.step == step, "prefetcher out of step: got epoch "
                                                               << batch.epoch << " step " << batch.step
                                                               << ", expected " << epoch << " step " << step);
      const std::uint64_t global_step = static_cast<std::uint64_t>(epoch * steps + step);
      const StepResult result = train_step(batch, static_cast<float>(learning_rate), global_step);
      RT_CHECK(std::isfinite(result.loss_sum),
               "the loss became " << (std::isnan(result.loss_sum) ? "NaN" : "infinite") << " at epoch "
                                  << epoch + 1 << " step " << step + 1
                                  << ": training stopped; lower the learning rate (lr) and try again");
      loss_sum += result.loss_sum;
      correct += result.correct;
      seen += result.count;
      StepMetrics metrics;
      metrics.epoch = epoch;
      metrics.step = step;
      metrics.steps = steps;
      metrics.loss = loss_sum / static_cast<double>(seen);
      metrics.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
      metrics.elapsed_seconds = seconds_since(start);
      metrics.images_per_second = static_cast<double>(seen) / std::max(metrics.elapsed_seconds, 1e-9);
      for (auto* observer : observers_)
        observer->on_step_end(metrics);
    }
    const double train_seconds = seconds_since(start);
    const Evaluation evaluation = evaluate(validation);
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.loss = loss_sum / static_cast<double>(seen);
    metrics.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    metrics.val_loss = evaluation.loss;
    metrics.val_accuracy = evaluation.accuracy;
    metrics.learning_rate = learning_rate;
    metrics.seconds = seconds_since(start);
    metrics.images_per_second = static_cast<double>(seen) / train_seconds;
    for (auto* observer : observers_)
      observer->on_epoch_end(metrics);
    history.push_back(metrics);
  }
  return history;
}

}  // namespace ringtrain
