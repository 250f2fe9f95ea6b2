// The warning for a model whose outputs are probabilities the loss would take as logits.
#pragma once

#include <string>

#include "core/model/sequential.hpp"

namespace ringtrain {

// "" unless the model's outputs are already probabilities that the loss takes as logits: a softmax or sigmoid
// followed only by layers that move values without mixing them (dropout, flatten, reshape), or a final
// sigmoid. The loss (and evaluate, predict) applies its own softmax to those outputs, a second squashing
// that slows training and flattens the predicted probabilities. A final softmax is fused with the loss.
// The model is laid out: the warning names the layer as the summary does.
std::string probability_output_warning(const Sequential& model);

}  // namespace ringtrain
