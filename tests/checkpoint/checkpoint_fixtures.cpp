// The checkpoint tests' shared model, values and example checkpoint.
#include "tests/checkpoint/checkpoint_fixtures.hpp"

#include <cmath>
#include <random>

#include "core/model/model_spec.hpp"

namespace ringtrain::checkpoint_testing {

const std::vector<std::string> kEveryStatefulLayer{
    "reshape 28,28,1",
    "conv2d filters=4 kernel_size=3 padding=same",
    "batch_normalization",
    "activation relu",
    "max_pooling2d",
    "conv2d filters=6 kernel_size=6 strides=2 padding=same use_bias=false",
    "batch_normalization center=true scale=false",
    "global_average_pooling2d",
    "dense units=12 activation=relu",
    "dropout 0.25",
    "dense units=10 activation=softmax"};

Built build(const std::vector<std::string>& layers, std::uint64_t seed, const std::string& optimizer) {
  ModelSpec spec;
  spec.input_shape = {784};
  spec.layers = layers;
  spec.source = "checkpoint_test";
  Built built;
  built.model = make_model(spec);
  built.model->build(seed, Device::cpu);
  OptimizerSettings settings;
  settings.name = optimizer;
  settings.momentum = 0.9;
  built.optimizer = make_optimizer(settings, built.model->parameters(), Device::cpu);
  return built;
}

void fill_random(Tensor tensor, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal;
  for (std::int64_t i = 0; i < tensor.numel(); ++i)
    tensor.data<float>()[i] = normal(generator);
}

namespace {

std::vector<float> values_of(const Tensor& tensor) {
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.numel());
}

}  // namespace

std::vector<std::vector<float>> everything(Built& built) {
  std::vector<std::vector<float>> all{values_of(built.model->parameters().values())};
  for (const auto& state : built.model->state())
    all.push_back(values_of(state.value));
  for (const auto& slot : built.optimizer->state())
    all.push_back(values_of(slot.value));
  return all;
}

CheckpointInfo example_info() {
  CheckpointInfo info;
  info.ringtrain_version = "test";
  info.world_size = 2;
  info.optimizer = "adam";
  info.config_text = "name = test\nlayer = dense units=10\n";
  info.position = {3, 17, 1423, 182144, 42, 12.5, 1000, 1088};
  info.val_accuracy = 0.9876;
  return info;
}

std::filesystem::path CheckpointTest::write_example(const std::string& name) {
  Built built = build(kEveryStatefulLayer, 1);
  fill_random(built.model->parameters().values(), 2);
  std::uint32_t seed = 3;
  for (const auto& state : built.model->state()) {
    fill_random(state.value, seed++);
    if (!state.name.ends_with("moving_variance")) continue;
    for (std::int64_t i = 0; i < state.value.numel(); ++i)  // a variance is never negative
      state.value.data<float>()[i] = std::abs(state.value.data<float>()[i]);
  }
  for (const auto& slot : built.optimizer->state())
    fill_random(slot.value, seed++);
  built.optimizer->set_steps(1423);
  const std::filesystem::path path = dir_.path() / name;
  write_checkpoint(path, *built.model, *built.optimizer, example_info());
  written_ = everything(built);
  return path;
}

}  // namespace ringtrain::checkpoint_testing
