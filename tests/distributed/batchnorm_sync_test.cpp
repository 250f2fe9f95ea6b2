// Tests of synchronised batch normalisation under mpirun: a batch split over the ranks gives the outputs and
// (after the gradient sum) the parameter gradients of the whole batch on one process.
#include <gtest/gtest.h>

#include <random>

#include "core/model/model_spec.hpp"
#include "tests/distributed/world_communicator.hpp"

namespace ringtrain {
namespace {

using testing_support::world_communicator;

TEST(SynchronisedBatchNorm, ASplitBatchMatchesTheWholeBatch) {
  Communicator& communicator = world_communicator();
  const int ranks = communicator.size();
  ModelSpec spec;
  spec.input_shape = {6, 6, 2};
  spec.layers = {"conv2d filters=4 kernel_size=3 use_bias=false",
                 "batch_normalization center=true scale=false", "activation relu", "flatten",
                 "dense units=3"};
  spec.source = "batchnorm_sync_test";
  const std::int64_t rows_per_rank = 4, rows = rows_per_rank * ranks;
  std::mt19937 generator(5);
  std::normal_distribution<float> normal(0.5f, 1.0f);
  std::vector<float> inputs(static_cast<std::size_t>(rows * 72)),
      upstream(static_cast<std::size_t>(rows * 3));
  for (auto& value : inputs)
    value = normal(generator);
  for (auto& value : upstream)
    value = normal(generator);

  auto run = [&](std::int64_t first_row, std::int64_t count, Communicator* statistics) {
    auto model = make_model(spec);
    model->build(3, Device::cpu);
    for (const auto& parameter : model->parameters().parameters()) {
      if (parameter->name.ends_with("/beta")) {
        for (std::int64_t c = 0; c < parameter->value.numel(); ++c)
          parameter->value.data<float>()[c] = 0.1f * static_cast<float>(c) - 0.15f;
      }
    }
    StepContext context;
    context.mode = Mode::train;
    context.batch_statistics = statistics;
    const Tensor x = Tensor::from_vector(
        {count, 6, 6, 2},
        std::vector<float>(inputs.begin() + first_row * 72, inputs.begin() + (first_row + count) * 72));
    const Tensor y = model->forward_logits(x, context);
    const Tensor dy = Tensor::from_vector(
        {count, 3},
        std::vector<float>(upstream.begin() + first_row * 3, upstream.begin() + (first_row + count) * 3));
    model->backward(dy, context);
    std::vector<float> outputs(y.data<float>(), y.data<float>() + y.numel());
    Tensor gradients = model->parameters().gradients();
    std::vector<float> grads(gradients.data<float>(), gradients.data<float>() + gradients.numel());
    return std::pair{outputs, grads};
  };
  const auto [whole_outputs, whole_gradients] = run(0, rows, nullptr);
  auto [part_outputs, part_gradients] =
      run(communicator.rank() * rows_per_rank, rows_per_rank, &communicator);
  Tensor summed = Tensor::from_vector({static_cast<std::int64_t>(part_gradients.size())}, part_gradients);
  communicator.sum(summed);
  for (std::int64_t i = 0; i < rows_per_rank * 3; ++i)
    EXPECT_NEAR(part_outputs[i], whole_outputs[communicator.rank() * rows_per_rank * 3 + i], 1e-5)
        << "output " << i;
  for (std::int64_t i = 0; i < summed.numel(); ++i)
    EXPECT_NEAR(summed.data<float>()[i], whole_gradients[i], 1e-4) << "gradient " << i;
}

}  // namespace
}  // namespace ringtrain
