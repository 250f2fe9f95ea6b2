// TrainingRun: a model, its optimizer and a trainer built from a TrainConfig as the CLI builds them, for
// the trainer tests.
#pragma once

#include <memory>
#include <vector>

#include "core/model/model_spec.hpp"
#include "core/train/trainer.hpp"

namespace ringtrain {

struct TrainingRun {
  // Without a communicator the trainer is one process's.
  explicit TrainingRun(TrainConfig c, Communicator* communicator = nullptr)
      : config(std::move(c)), model(make_model(config.model)) {
    model->build(config.seed, config.device);
    optimizer = make_optimizer(config.optimizer, model->parameters(), config.device);
    trainer = std::make_unique<Trainer>(*model, *optimizer, config, communicator);
  }
  std::vector<float> parameters() const { return model->parameters().values().to_vector(); }

  TrainConfig config;  // the trainer keeps a reference to it
  std::unique_ptr<Sequential> model;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Trainer> trainer;
};

}  // namespace ringtrain
