// The table of layer types: adding a layer adds its file and one line here.
#include "core/layers/factory.hpp"

#include <functional>
#include <map>

#include "core/check.hpp"
#include "core/ops/activation.hpp"

namespace ringtrain {

LayerList make_dense(LayerOptions& options);
LayerList make_conv2d(LayerOptions& options);
LayerList make_batch_normalization(LayerOptions& options);
LayerList make_activation(LayerOptions& options);
LayerList make_dropout(LayerOptions& options);
LayerList make_reshape(LayerOptions& options);
LayerList make_flatten(LayerOptions& options);
LayerList make_max_pooling2d(LayerOptions& options);
LayerList make_global_average_pooling2d(LayerOptions& options);

namespace {

const std::map<std::string, std::function<LayerList(LayerOptions&)>>& factories() {
  static const std::map<std::string, std::function<LayerList(LayerOptions&)>> table{
      {"dense", make_dense},
      {"conv2d", make_conv2d},
      {"batch_normalization", make_batch_normalization},
      {"activation", make_activation},
      {"dropout", make_dropout},
      {"reshape", make_reshape},
      {"flatten", make_flatten},
      {"max_pooling2d", make_max_pooling2d},
      {"global_average_pooling2d", make_global_average_pooling2d},
  };
  return table;
}

}  // namespace

LayerList make_layers(const std::string& type, LayerOptions& options) {
  const auto& table = factories();
  auto found = table.find(type);
  if (found == table.end()) {
    std::string known;
    for (const auto& name : layer_types())
      known += (known.empty() ? "" : ", ") + name;
    RT_FAIL(options.where() << ": unknown layer type '" << type << "' (known: " << known << ")");
  }
  LayerList layers = found->second(options);
  options.reject_unused();
  return layers;
}

std::vector<std::string> layer_types() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories())
    names.push_back(name);
  return names;
}

void append_activation(LayerList& layers, LayerOptions& options) {
  const std::string activation = options.text("activation", "linear");
  if (options.parsed("activation", "linear", ops::parse_activation) == ops::Activation::linear) return;
  LayerOptions activation_options({{"activation", activation}}, options.where());
  for (auto& layer : make_activation(activation_options))
    layers.push_back(std::move(layer));
}

}  // namespace ringtrain
