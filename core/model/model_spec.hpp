// ModelSpec: a model as configuration text (input shape and one line per layer, as in experiments/*.ini)
// and the builder that turns it into a Sequential.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/sequential.hpp"

namespace ringtrain {

struct ModelSpec {
  Shape input_shape{28, 28, 1};
  // "conv2d filters=12 kernel_size=3 padding=same use_bias=false": the type, then key=value options; a
  // bare value after activation, dropout or reshape sets its main option ("activation relu").
  std::vector<std::string> layers;
  std::string source = "<model>";  // the config file, named in errors
};

// Parses every layer line and returns the unbuilt model; errors name the source, the line and the key.
std::unique_ptr<Sequential> make_model(const ModelSpec& spec);

// "28,28,1" -> Shape{28, 28, 1}; `field` and `source` name the value in errors.
Shape parse_shape(const std::string& text, const std::string& field, const std::string& source);

}  // namespace ringtrain
