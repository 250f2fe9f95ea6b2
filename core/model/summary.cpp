// model_summary: the table Keras' model.summary() prints, counting batch-norm moving statistics as
// non-trainable parameters as Keras does.
#include "core/model/summary.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/text_format.hpp"

namespace ringtrain {

std::string model_summary(Sequential& model, const std::string& model_name) {
  std::size_t label_width = 29;
  for (const auto& layer : model.layers()) {
    label_width = std::max(label_width, layer->name().size() + layer->type().size() + 6);
  }
  const std::size_t shape_width = 26, width = label_width + shape_width + 10;
  std::ostringstream out;
  const std::string rule(width, '_'), double_rule(width, '=');
  out << "Model: \"" << model_name << "\"\n" << rule << "\n";
  out << std::left << std::setw(static_cast<int>(label_width)) << " Layer (type)"
      << std::setw(static_cast<int>(shape_width)) << "Output Shape"
      << "Param #\n";
  out << double_rule << "\n";
  std::int64_t non_trainable = 0;
  for (std::size_t i = 0; i < model.layers().size(); ++i) {
    Layer& layer = *model.layers()[i];
    std::int64_t state_count = 0;
    for (const auto& tensor : layer.state())
      state_count += tensor.value.numel();
    non_trainable += state_count;
    const std::string label = " " + layer.name() + " (" + layer.type() + ")";
    out << std::setw(static_cast<int>(label_width)) << label << std::setw(static_cast<int>(shape_width))
        << to_string_with_none_batch(model.output_shape(i))
        << with_thousands(model.parameter_count(layer) + state_count) << "\n";
    out << "\n";
  }
  const std::int64_t trainable = model.parameters().count();
  out << double_rule << "\n";
  out << "Total params: " << with_thousands(trainable + non_trainable) << "\n";
  out << "Trainable params: " << with_thousands(trainable) << "\n";
  out << "Non-trainable params: " << with_thousands(non_trainable) << "\n";
  out << rule << "\n";
  return out.str();
}

}  // namespace ringtrain
