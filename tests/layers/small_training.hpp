// A small training problem for the GPU trainer's tests (and the NCCL communicator's): 8x8 images whose label
// is the quadrant holding a bright square, and a model with experiment 9's kinds of layers.
#pragma once

#include <cstdint>
#include <random>

#include "core/data/mnist.hpp"
#include "core/train/train_config.hpp"

namespace ringtrain {

// 8x8 images whose label (0..3) is the quadrant holding a bright square, over noise.
inline data::Dataset quadrant_dataset(std::int64_t count, std::uint32_t seed) {
  std::mt19937 generator(seed);
  data::IdxImages images{count, 8, 8, {}};
  data::IdxLabels labels;
  for (std::int64_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(generator() % 4);
    labels.labels.push_back(static_cast<std::uint8_t>(label));
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) {
        const bool inside = (y / 4) * 2 + x / 4 == label;
        images.pixels.push_back(static_cast<std::uint8_t>(generator() % 90 + (inside ? 120 : 0)));
      }
    }
  }
  return data::Dataset(std::move(images), std::move(labels));
}

// Experiment 9's kinds of layers, small: convolutions with batch norm, a strided 'same' one, dropout.
inline TrainConfig small_batch_norm_config(Device device) {
  TrainConfig config;
  config.model.input_shape = {8, 8, 1};
  config.model.layers = {"conv2d filters=4 kernel_size=3 padding=same use_bias=false",
                         "batch_normalization center=true scale=false",
                         "activation relu",
                         "conv2d filters=6 kernel_size=4 strides=2 padding=same use_bias=false",
                         "batch_normalization center=true scale=false",
                         "activation relu",
                         "flatten",
                         "dense units=16",
                         "dropout 0.3",
                         "dense units=4 activation=softmax"};
  config.model.source = "small_batch_norm_config";
  config.optimizer.name = "adam";
  config.schedule = {0.01, 0.666};
  config.epochs = 3;
  config.batch_size = 16;
  config.seed = 11;
  config.device = device;
  config.deterministic = true;
  return config;
}

// Experiment 7's kinds of layers, small, with max pooling: convolutions with biases, no batch norm.
inline TrainConfig small_convolutional_config(Device device) {
  TrainConfig config = small_batch_norm_config(device);
  config.model.layers = {"conv2d filters=4 kernel_size=3 padding=same activation=relu",
                         "max_pooling2d pool_size=2",
                         "conv2d filters=6 kernel_size=3 strides=2 padding=same activation=relu", "flatten",
                         "dense units=4 activation=softmax"};
  config.model.source = "small_convolutional_config";
  return config;
}

}  // namespace ringtrain
