// Optimizers over the flat parameter buffer (SGD with optional momentum, Adam with Keras' defaults), with
// their state as plain named tensors a checkpoint can save and restore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/layers/layer.hpp"
#include "core/model/parameter_store.hpp"

namespace ringtrain {

struct OptimizerSettings {
  std::string name = "adam";                          // "sgd" or "adam"
  double momentum = 0.0;                              // SGD
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;  // Adam (Keras defaults)
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its gradient at this learning rate.
  void step(ParameterStore& store, float learning_rate) {
    queue_update(store, update_rate(learning_rate), nullptr);
    count_update();
  }
  // The rate the next update applies at this learning rate (Adam's includes its bias correction).
  virtual float update_rate(float learning_rate) const = 0;
  // Queues the next update at `rate` without counting it; on the GPU it reads *rate_on_device instead when
  // that is set, so that a step captured once as a CUDA graph replays with each step's rate. count_update()
  // then counts it.
  virtual void queue_update(ParameterStore& store, float rate, const float* rate_on_device) = 0;
  void count_update() { ++steps_; }
  // The slots, e.g. adam/m and adam/v; with steps() all a checkpoint needs to restore the optimizer.
  virtual std::vector<StateTensor> state() = 0;
  virtual std::string describe() const = 0;
  // Updates applied so far (Adam's bias correction depends on it).
  std::int64_t steps() const { return steps_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

 protected:
  std::int64_t steps_ = 0;
};

// Builds the optimizer the settings name, its slots sized for `store`; an unknown name is an error.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, const ParameterStore& store,
                                          Device device);

}  // namespace ringtrain
