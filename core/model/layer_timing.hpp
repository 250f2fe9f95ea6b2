// Layer timing: the time each layer's forward and backward of a training step take, one layer at a time
// (ringtrain bench --per-layer).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/model/sequential.hpp"

namespace ringtrain {

struct LayerTiming {
  std::string name;
  std::string type;
  double forward_seconds = 0;   // per pass
  double backward_seconds = 0;  // per pass; 0 where a step runs no backward (layers before the first trained)
  bool has_backward = false;
  // Operations of one pass recorded as a CUDA graph (0 where it ran eagerly or launches nothing).
  std::size_t forward_operations = 0;
  std::size_t backward_operations = 0;
};

// Runs each layer of `model` that produces the logits, as a training step does on `images` [batch, ...]:
// forward, then backward from the fused loss's gradient for `labels`, one layer and one direction at a time,
// each pass once untimed and then `repeats` times. On the GPU, with `graphs`, each pass is recorded as a CUDA
// graph (as the trainer records its step) and its replays are timed; the GPU is synchronised around each
// timing. `context` keys dropout; batch normalisation takes its statistics over these rows alone. The layers'
// state (moving statistics) and the gradients change as in training steps; the parameters do not.
std::vector<LayerTiming> time_layers(Sequential& model, const Tensor& images, const Tensor& labels,
                                     StepContext context, int repeats, bool graphs);

}  // namespace ringtrain
