// The Keras-style model summary: one row per layer (name, type, output shape, parameters) and totals.
#pragma once

#include <string>

#include "core/model/sequential.hpp"

namespace ringtrain {

std::string model_summary(Sequential& model, const std::string& model_name);

}  // namespace ringtrain
