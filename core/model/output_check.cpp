// probability_output_warning: the model's layers from its last softmax or sigmoid on.
#include "core/model/output_check.hpp"

#include <set>

#include "core/layers/factory.hpp"

namespace ringtrain {

std::string probability_output_warning(const Sequential& model) {
  static const std::set<std::string> moving_values{"Dropout", "Flatten", "Reshape"};
  const auto& layers = model.layers();
  for (std::size_t i = layers.size(); i-- > 0;) {
    const Layer& layer = *layers[i];
    if (is_probability_activation(layer)) {
      const bool fused = i + 1 == layers.size() && is_softmax_activation(layer);
      if (fused) return "";
      const std::string reaching = i + 1 == layers.size() ? "" : " that reach the output unmixed";
      return "ringtrain: warning: layer " + layer.name() + " (" + layer.describe() + ") makes probabilities" +
             reaching +
             ", and the loss takes the model's outputs as logits and applies a softmax to them: end the "
             "model "
             "with activation=softmax as its last layer, or without a final activation\n";
    }
    if (!moving_values.count(layer.type())) return "";
  }
  return "";
}

}  // namespace ringtrain
