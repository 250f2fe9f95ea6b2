// Tests of make_model and parse_shape: errors that name the source, the layer line, the key and the value;
// the shorthand main options; and Dense/Conv2D `activation=` becoming an Activation layer after them.
#include "core/model/model_spec.hpp"
#include "core/model/output_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

namespace ringtrain {
namespace {

using testing::HasSubstr;

ModelSpec spec_of(std::vector<std::string> layers, Shape input = {6, 6, 1}) {
  ModelSpec spec;
  spec.input_shape = std::move(input);
  spec.layers = std::move(layers);
  spec.source = "experiments/test.ini";
  return spec;
}

// The message of the ringtrain::Error `action` throws, or a marker that no error came.
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "<no error thrown>";
}

std::string model_error(std::vector<std::string> layers, Shape input = {6, 6, 1}) {
  return error_of([&] { make_model(spec_of(std::move(layers), std::move(input))); });
}

std::string build_error(std::vector<std::string> layers, Shape input) {
  return error_of([&] { make_model(spec_of(std::move(layers), std::move(input)))->build(1, Device::cpu); });
}

TEST(ModelSpecErrors, UnknownLayerTypeNamesSourceLineAndType) {
  const std::string message = model_error({"flatten", "denze units=3"});
  EXPECT_THAT(message, HasSubstr("experiments/test.ini"));
  EXPECT_THAT(message, HasSubstr("layer 2"));
  EXPECT_THAT(message, HasSubstr("'denze'"));
  EXPECT_THAT(message, HasSubstr("dense"));  // the list of known types
  // A bare value after an unknown type: the type is the error, not the value.
  EXPECT_THAT(model_error({"flatten", "foo 0.2"}), HasSubstr("unknown layer type 'foo'"));
}

TEST(ModelSpecErrors, UnknownOptionNamesTheKey) {
  const std::string message = model_error({"flatten", "dense units=3 unitz=4"});
  EXPECT_THAT(message, HasSubstr("layer 2"));
  EXPECT_THAT(message, HasSubstr("unitz=4"));
  EXPECT_THAT(model_error({"conv2d filters=2 kernel_size=3 stride=2"}), HasSubstr("stride=2"));
}

TEST(ModelSpecErrors, BadValuesNameTheLineAndValue) {
  struct Case {
    std::string line, value;
  };
  const Case cases[] = {
      {"dense units=0", "units=0"},
      {"dropout rate=1", "rate=1"},
      {"dropout rate=-0.1", "rate=-0.1"},
      {"dropout rate=0.99999999999",
       "rate=0.99999999999 must be in [0, 1) as a 32-bit float"},  // 1 in float32
      {"dropout 1.5", "rate=1.5"},
      {"dropout rate=lots", "rate=lots"},
      {"conv2d filters=2 kernel_size=0", "kernel_size=0"},
      {"conv2d filters=2 kernel_size=3,3,3", "kernel_size=3,3,3"},
      {"conv2d filters=0 kernel_size=3", "filters=0"},
      {"conv2d filters=2 kernel_size=3 strides=-1", "strides=-1"},
      {"conv2d filters=2 kernel_size=3 use_bias=maybe", "use_bias=maybe"},
      {"batch_normalization momentum=1", "momentum=1"},
      {"batch_normalization epsilon=0", "epsilon=0"},
      {"batch_normalization epsilon=1e-300", "epsilon=1e-300"},  // zero in float32
      {"batch_normalization epsilon=1e300", "epsilon=1e+300"},   // infinite in float32
      {"dense units=2.5", "units=2.5"},
  };
  for (const auto& [line, value] : cases) {
    const std::string message = model_error({"activation relu", line});
    EXPECT_THAT(message, HasSubstr("experiments/test.ini: layer 2 '" + line + "'")) << line;
    EXPECT_THAT(message, HasSubstr(value)) << line;
  }
  // Only a rate that rounds to 1 is explained by float rounding.
  EXPECT_THAT(model_error({"dropout rate=-0.1"}), testing::Not(HasSubstr("32-bit float")));
}

// make_model promises errors that name the source and the line, also for values the ops parse.
TEST(ModelSpecErrors, BadPaddingAndActivationNameTheLine) {
  struct Case {
    std::string line, value;
  };
  const Case cases[] = {{"conv2d filters=2 kernel_size=3 padding=diagonal", "diagonal"},
                        {"dense units=3 activation=swish", "swish"},
                        {"activation bogus", "bogus"}};
  for (const auto& [line, value] : cases) {
    const std::string message = model_error({"flatten", line});
    EXPECT_THAT(message, HasSubstr(value)) << line;
    EXPECT_THAT(message, HasSubstr("experiments/test.ini: layer 2")) << line;
  }
}

TEST(ModelSpecErrors, MissingRequiredOptionsAndMalformedTokens) {
  EXPECT_THAT(model_error({"dense"}), HasSubstr("units is required"));
  EXPECT_THAT(model_error({"conv2d filters=4"}), HasSubstr("kernel_size is required"));
  EXPECT_THAT(model_error({"dropout"}), HasSubstr("layer 1 'dropout': option rate is required"));
  EXPECT_THAT(model_error({"reshape"}), HasSubstr("target_shape"));
  EXPECT_THAT(model_error({"conv2d 32 3"}),
              HasSubstr("'32' is not key=value: give layer conv2d's options by name (key=value"));
  EXPECT_THAT(model_error({"dense units=3 units=4"}), HasSubstr("units given twice"));
  EXPECT_THAT(model_error({"dense units="}), HasSubstr("not key=value"));
  EXPECT_THAT(model_error({}), HasSubstr("no layers"));
}

TEST(ModelSpecErrors, ShapeMismatchesFailAtBuild) {
  const std::string dense = build_error({"dense units=3"}, {6, 6, 1});
  EXPECT_THAT(dense, HasSubstr("(6, 6, 1)"));
  EXPECT_THAT(dense, HasSubstr("flatten"));
  const std::string reshape = build_error({"reshape 28,28,2"}, {784});
  EXPECT_THAT(reshape, HasSubstr("784"));
  EXPECT_THAT(reshape, HasSubstr("(28, 28, 2)"));
  EXPECT_THAT(build_error({"conv2d filters=2 kernel_size=3"}, {36}), HasSubstr("reshape"));
  EXPECT_THAT(build_error({"max_pooling2d"}, {36}), HasSubstr("MaxPooling2D"));
  EXPECT_THAT(
      build_error({"max_pooling2d pool_size=29"}, {28, 28, 1}),
      HasSubstr("layer 1: max_pooling2d: pool_size=29,29 on input (28, 28, 1): a window of 29 is larger "
                "than the input's 28 with padding 'valid': give padding=same, or a smaller window"));
  EXPECT_THAT(build_error({"conv2d filters=2 kernel_size=9,3"}, {8, 8, 1}),
              HasSubstr("layer 1: conv2d: kernel_size=9,3 on input (8, 8, 1): a window of 9 is larger"));
  EXPECT_THAT(build_error({"global_average_pooling2d", "global_average_pooling2d"}, {4, 4, 2}),
              HasSubstr("layer 2: global_average_pooling2d_1: GlobalAveragePooling2D needs (height, width, "
                        "channels) input, got (2,)"));
  // The failing layer's place in the model.
  EXPECT_THAT(build_error({"flatten", "dense units=4", "reshape 3,3"}, {6, 6, 1}), HasSubstr("layer 3: "));
}

TEST(ModelSpec, ShorthandSetsTheMainOption) {
  auto model = make_model(spec_of({"reshape 28,28,1", "activation relu", "flatten", "dropout 0.25"}, {784}));
  model->build(1, Device::cpu);
  ASSERT_EQ(model->layers().size(), 4u);
  EXPECT_EQ(model->layers()[0]->type(), "Reshape");
  EXPECT_EQ(model->output_shape(0), (Shape{28, 28, 1}));
  EXPECT_EQ(model->layers()[1]->type(), "Activation");
  EXPECT_EQ(model->layers()[1]->describe(), "activation=relu");
  EXPECT_EQ(model->layers()[3]->type(), "Dropout");
  EXPECT_THAT(model->layers()[3]->describe(), HasSubstr("rate=0.25"));
  EXPECT_EQ(model->output_shape(3), Shape{784});
  // Keras' first arguments: Dense(10), MaxPooling2D(2); padding in any case, as Keras reads it.
  auto keras_like = make_model(spec_of({"max_pooling2d 2 padding=SAME", "flatten", "dense 10"}, {28, 28, 1}));
  keras_like->build(1, Device::cpu);
  EXPECT_EQ(keras_like->output_shape(0), (Shape{14, 14, 1}));
  EXPECT_EQ(keras_like->output_shape(2), Shape{10});
}

TEST(ModelSpec, ProbabilitiesTakenAsLogitsAreWarnedOf) {
  const auto warning = [](const std::vector<std::string>& layers) {
    const auto model = make_model(spec_of(layers, {784}));
    model->lay_out(Device::cpu);
    return probability_output_warning(*model);
  };
  EXPECT_EQ(warning({"dense units=10 activation=softmax"}), "");  // fused with the loss
  EXPECT_EQ(warning({"dense units=10"}), "");                     // logits
  EXPECT_EQ(warning({"dense units=20 activation=sigmoid", "dense units=10"}), "");
  EXPECT_EQ(warning({"dense units=20 activation=softmax", "dense units=10 activation=softmax"}), "");
  EXPECT_THAT(
      warning({"dense units=10 activation=softmax", "dropout 0.5"}),
      HasSubstr("layer activation (activation=softmax) makes probabilities that reach the output unmixed"));
  EXPECT_THAT(warning({"dense units=10 activation=sigmoid"}),
              HasSubstr("layer activation (activation=sigmoid) makes probabilities, and the loss takes"));
  EXPECT_EQ(warning({"reshape 28,28,1", "activation softmax", "flatten", "dense units=10"}), "");
}

TEST(ModelSpec, ActivationOptionAddsAnActivationLayer) {
  auto model = make_model(spec_of({"flatten", "dense units=10 activation=softmax",
                                   "conv2d filters=2 kernel_size=3 activation=tanh", "dense units=4",
                                   "dense units=4 activation=linear"}));
  const std::vector<std::string> types{"Flatten",    "Dense", "Activation", "Conv2D",
                                       "Activation", "Dense", "Dense"};
  ASSERT_EQ(model->layers().size(), types.size());
  for (std::size_t i = 0; i < types.size(); ++i)
    EXPECT_EQ(model->layers()[i]->type(), types[i]) << i;
  EXPECT_TRUE(is_softmax_activation(*model->layers()[2]));
  EXPECT_FALSE(is_softmax_activation(*model->layers()[4]));
  EXPECT_EQ(model->layers()[4]->describe(), "activation=tanh");
}

TEST(ParseShape, ReadsPositiveIntegerLists) {
  EXPECT_EQ(parse_shape("28,28,1", "input-shape", "a.ini"), (Shape{28, 28, 1}));
  EXPECT_EQ(parse_shape("784", "input-shape", "a.ini"), Shape{784});
  for (const std::string text : {"28,x,1", "28,0,1", "-3", "28,,1", "2.5"}) {
    const std::string message = error_of([&] { parse_shape(text, "input-shape", "a.ini"); });
    EXPECT_THAT(message, HasSubstr("a.ini")) << text;
    EXPECT_THAT(message, HasSubstr("input-shape")) << text;
  }
  EXPECT_THAT(error_of([] { parse_shape("", "input-shape", "a.ini"); }), HasSubstr("input-shape"));
}

}  // namespace
}  // namespace ringtrain
