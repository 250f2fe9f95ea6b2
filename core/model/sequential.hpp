// Sequential: a stack of layers with one flat parameter store, run forward to logits and backward from
// the fused loss; a final softmax Activation is folded into the loss in training and evaluation.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/layers/factory.hpp"
#include "core/layers/layer.hpp"
#include "core/model/parameter_store.hpp"

namespace ringtrain {

class Sequential {
 public:
  explicit Sequential(Shape input_shape) : input_shape_(std::move(input_shape)) {}

  void add(std::unique_ptr<Layer> layer);
  void add(LayerList layers);
  // Names layers Keras-style (conv2d, conv2d_1, ...), infers shapes and lays out the parameters without
  // their memory: enough for the summary, the parameter count and the multiply-adds.
  void lay_out(Device device);
  // lay_out, then allocates and initializes the parameters: the model can run.
  void build(std::uint64_t seed, Device device);

  // Forward through every layer but a final softmax: the logits the fused loss takes. x holds a batch of
  // samples with as many values as the input shape (28x28 images feed an input shape of (784,) too).
  Tensor forward_logits(const Tensor& x, const StepContext& context);
  // Backward from dlogits through every layer, writing all parameter gradients. After each layer with
  // parameters, gradients_ready(offset) says that the flat gradients from `offset` to the end are final.
  void backward(const Tensor& dlogits, const StepContext& context,
                const std::function<void(std::int64_t)>& gradients_ready = {});
  // Class probabilities (softmax applied) in inference mode, in host memory; x on any device.
  Tensor predict(const Tensor& x);

  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape(std::size_t layer) const { return output_shapes_.at(layer); }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  ParameterStore& parameters() { return store_; }
  const ParameterStore& parameters() const { return store_; }
  std::int64_t parameter_count(const Layer& layer) const;
  // Multiply-adds of one training step per sample: each layer's forward, as many again for its parameters'
  // gradient, and again for its input's gradient where backward computes it (not in the first trained layer).
  std::int64_t training_multiply_adds() const;
  // Every non-trainable state tensor of every layer.
  std::vector<StateTensor> state();
  Device device() const { return device_; }
  // Layers that produce the logits: all, or all but a trailing softmax.
  std::size_t logits_layers() const;
  // Whether backward runs through layer `layer`: from the last one down to the first with parameters (or the
  // last layer, in a model without any).
  bool runs_backward(std::size_t layer) const { return layer >= first_trained_layer_; }
  // Whether backward computes layer `layer`'s input gradient: not for the first trained layer, whose dx is
  // never used.
  bool needs_input_gradient(std::size_t layer) const { return layer > first_trained_layer_; }

 private:
  Shape input_shape_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> output_shapes_;
  ParameterStore store_;
  Device device_ = Device::cpu;
  std::size_t first_trained_layer_ = 0;
  std::vector<std::int64_t> first_parameter_offset_;  // per layer; -1 without parameters
  bool laid_out_ = false;
  bool built_ = false;
};

}  // namespace ringtrain
