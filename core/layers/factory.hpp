// make_layers: builds layers from a type name and options ("dense units=200 activation=relu"); the one
// table of layer types lives in factory.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/layers/layer.hpp"
#include "core/layers/layer_options.hpp"

namespace ringtrain {

using LayerList = std::vector<std::unique_ptr<Layer>>;

// The layers for one config line: usually one, two when a Dense or Conv2D names an activation (Keras'
// `activation=` argument becomes an Activation layer after it). Unknown types and options are errors.
LayerList make_layers(const std::string& type, LayerOptions& options);

// The type names make_layers accepts, for error messages and --help.
std::vector<std::string> layer_types();

// The Activation layer that follows a Dense or Conv2D with `activation=...` (none for linear).
void append_activation(LayerList& layers, LayerOptions& options);

// True for an Activation layer applying softmax (the model fuses it into the loss in training).
bool is_softmax_activation(const Layer& layer);
// True for an Activation layer whose outputs are probabilities, not logits: softmax or sigmoid.
bool is_probability_activation(const Layer& layer);

}  // namespace ringtrain
