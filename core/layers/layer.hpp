// Layer: the interface every Keras-like layer implements (build, forward, backward, state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/model/parameter_store.hpp"
#include "core/tensor.hpp"

namespace ringtrain {

enum class Mode { train, inference };

// What a pass needs besides tensors: the mode, and the keys of counter-based randomness.
struct StepContext {
  Mode mode = Mode::inference;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;                         // optimizer steps taken before this one
  const std::uint64_t* step_on_device = nullptr;  // on the GPU, where `step` is read when set (CUDA graphs)
  std::uint64_t first_sample = 0;     // global index, within the global batch, of this process's row 0
  bool input_gradient_needed = true;  // false for the first layer: its dx is never used
  // When set, batch normalization takes its statistics over every replica's rows (synchronised batch norm);
  // every replica must hold the same number of rows.
  Communicator* batch_statistics = nullptr;
};

// A named tensor that is not trained but is part of the model (batch-norm moving statistics).
struct StateTensor {
  std::string name;
  Tensor value;
};

class Layer {
 public:
  virtual ~Layer() = default;

  // Keras class name, e.g. "Conv2D"; the default layer name is its snake_case form.
  virtual std::string type() const = 0;
  // Declares parameters under name() and returns the per-sample output shape for a per-sample input.
  virtual Shape build(const Shape& input_shape, ParameterStore& store, Device device) = 0;
  // Returns the output for input x [batch, ...]; the layer keeps what its backward needs.
  virtual Tensor forward(const Tensor& x, const StepContext& context) = 0;
  // Returns dx for dy (undefined when !context.input_gradient_needed) and writes parameter gradients.
  virtual Tensor backward(const Tensor& dy, const StepContext& context) = 0;
  // Non-trainable state, saved with the parameters.
  virtual std::vector<StateTensor> state() { return {}; }
  // One line of configuration for summaries and checkpoints, e.g. "filters=12 kernel_size=3".
  virtual std::string describe() const = 0;
  // Multiply-adds of the forward pass for one sample of `input_shape` (after build): the arithmetic of the
  // layers that have it (convolutions, dense layers); 0 for layers whose cost is memory traffic alone.
  virtual std::int64_t multiply_adds(const Shape& /*input_shape*/) const { return 0; }

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // Position in the model; keys the layer's dropout stream.
  int index() const { return index_; }
  void set_index(int index) { index_ = index; }

 private:
  std::string name_;
  int index_ = 0;
};

}  // namespace ringtrain
