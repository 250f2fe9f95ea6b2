// Turning layer lines into layers: tokenizing, the shorthand main options, and the factory call.
#include "core/model/model_spec.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "core/check.hpp"
#include "core/layers/factory.hpp"

namespace ringtrain {

namespace {

// The option a bare value sets, for the layers that have a natural one: Keras' first argument (Dense(10),
// Dropout(0.25), MaxPooling2D(2)).
const std::map<std::string, std::string>& main_options() {
  static const std::map<std::string, std::string> table{{"activation", "activation"},
                                                        {"dense", "units"},
                                                        {"dropout", "rate"},
                                                        {"max_pooling2d", "pool_size"},
                                                        {"reshape", "target_shape"}};
  return table;
}

LayerList parse_layer(const std::string& line, const std::string& where) {
  std::istringstream in(line);
  std::string type;
  in >> type;
  RT_CHECK(!type.empty(), where << ": empty layer line");
  std::map<std::string, std::string> options;
  std::string token;
  while (in >> token) {
    const auto equals = token.find('=');
    std::string key, value;
    if (equals == std::string::npos) {
      const auto main = main_options().find(type);
      const auto known = layer_types();
      // An unknown type is the error to report (make_layers names it and the known ones), not its options.
      if (std::find(known.begin(), known.end(), type) == known.end()) break;
      RT_CHECK(main != main_options().end(),
               where << ": '" << token << "' is not key=value: give layer " << type
                     << "'s options by name (key=value; the README's table of layers lists them)");
      key = main->second;
      value = token;
    } else {
      key = token.substr(0, equals);
      value = token.substr(equals + 1);
    }
    RT_CHECK(!key.empty() && !value.empty(), where << ": '" << token << "' is not key=value");
    RT_CHECK(options.emplace(key, value).second, where << ": option " << key << " given twice");
  }
  LayerOptions layer_options(std::move(options), where);
  return make_layers(type, layer_options);
}

}  // namespace

std::unique_ptr<Sequential> make_model(const ModelSpec& spec) {
  RT_CHECK(
      !spec.layers.empty(),
      spec.source << ": the model has no layers: pass --config FILE (see experiments/), or give them, as "
                  << (spec.source == "command line"
                          ? "--layer flatten --layer 'dense units=10 activation=softmax'"
                          : "lines 'layer = flatten' and 'layer = dense units=10 activation=softmax'"));
  auto model = std::make_unique<Sequential>(spec.input_shape);
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const std::string where = spec.source + ": layer " + std::to_string(i + 1) + " '" + spec.layers[i] + "'";
    model->add(parse_layer(spec.layers[i], where));
  }
  return model;
}

Shape parse_shape(const std::string& text, const std::string& field, const std::string& source) {
  std::vector<std::int64_t> dims;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    std::int64_t dim = 0;
    std::istringstream number(part);
    number >> dim;
    RT_CHECK(!number.fail() && number.eof() && dim > 0,
             source << ": " << field << "=" << text << " is not a list of positive integers like 28,28,1");
    dims.push_back(dim);
  }
  RT_CHECK(!dims.empty() && text.back() != ',',
           source << ": " << field << "=" << text << " is not a list of positive integers like 28,28,1");
  return Shape(dims);
}

}  // namespace ringtrain
