// Tests of model_summary on the codelab's experiment 9 (experiments/09_batch_norm.ini): one row per layer
// with Keras' output shapes and parameter counts, and the totals, batch-norm moving statistics as
// non-trainable.
#include "core/model/summary.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/model/model_spec.hpp"

namespace ringtrain {
namespace {

// The input shape and layer lines of an experiment file ("input-shape = 784", "layer = ...").
ModelSpec read_experiment(const std::string& path) {
  std::ifstream in(path);
  RT_CHECK(in.good(), "cannot read " << path);
  ModelSpec spec;
  spec.source = path;
  std::string line;
  while (std::getline(in, line)) {
    const auto equals = line.find('=');
    if (line.empty() || line[0] == '#' || equals == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(' ', equals - 1) + 1);
    const std::string value = line.substr(line.find_first_not_of(' ', equals + 1));
    if (key == "layer") spec.layers.push_back(value);
    if (key == "input-shape") spec.input_shape = parse_shape(value, key, path);
  }
  return spec;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

struct Row {
  std::string name, type, shape, params;
};

// By hand from Keras' rules: conv kernels kh*kw*in*out without bias; BN center-only has beta (trainable) plus
// moving mean and variance (non-trainable), 3 * channels in the row; dense_1 200*10 + 10.
const Row kExperiment9Rows[] = {
    {"reshape", "Reshape", "(None, 28, 28, 1)", "0"},
    {"conv2d", "Conv2D", "(None, 28, 28, 12)", "108"},
    {"batch_normalization", "BatchNormalization", "(None, 28, 28, 12)", "36"},
    {"activation", "Activation", "(None, 28, 28, 12)", "0"},
    {"conv2d_1", "Conv2D", "(None, 14, 14, 24)", "10,368"},
    {"batch_normalization_1", "BatchNormalization", "(None, 14, 14, 24)", "72"},
    {"activation_1", "Activation", "(None, 14, 14, 24)", "0"},
    {"conv2d_2", "Conv2D", "(None, 7, 7, 32)", "27,648"},
    {"batch_normalization_2", "BatchNormalization", "(None, 7, 7, 32)", "96"},
    {"activation_2", "Activation", "(None, 7, 7, 32)", "0"},
    {"flatten", "Flatten", "(None, 1568)", "0"},
    {"dense", "Dense", "(None, 200)", "313,600"},
    {"batch_normalization_3", "BatchNormalization", "(None, 200)", "600"},
    {"activation_3", "Activation", "(None, 200)", "0"},
    {"dropout", "Dropout", "(None, 200)", "0"},
    {"dense_1", "Dense", "(None, 10)", "2,010"},
    {"activation_4", "Activation", "(None, 10)", "0"},
};

class Experiment9Summary : public testing::Test {
 protected:
  void SetUp() override {
    model_ =
        make_model(read_experiment(std::string(RINGTRAIN_SOURCE_DIR) + "/experiments/09_batch_norm.ini"));
    model_->build(42, Device::cpu);
    summary_ = model_summary(*model_, "batch_norm");
    lines_ = lines_of(summary_);
  }

  // The index of the one line that starts with `prefix`, or -1.
  int line_starting(const std::string& prefix) const {
    int found = -1;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (lines_[i].rfind(prefix, 0) == 0) {
        if (found >= 0) return -2;
        found = static_cast<int>(i);
      }
    }
    return found;
  }

  std::unique_ptr<Sequential> model_;
  std::string summary_;
  std::vector<std::string> lines_;
};

TEST_F(Experiment9Summary, HasOneRowPerLayerInOrder) {
  ASSERT_EQ(model_->layers().size(), std::size(kExperiment9Rows)) << summary_;
  int previous = -1;
  for (const Row& row : kExperiment9Rows) {
    SCOPED_TRACE(row.name);
    const int index = line_starting(" " + row.name + " (" + row.type + ")");
    ASSERT_GE(index, 0) << summary_;
    EXPECT_GT(index, previous);
    previous = index;
    const std::string& line = lines_[static_cast<std::size_t>(index)];
    const std::size_t shape_at = line.find(row.shape);
    ASSERT_NE(shape_at, std::string::npos) << line;
    // After the shape: spaces, then the parameter count, then nothing.
    const std::string rest = line.substr(shape_at + row.shape.size());
    const std::size_t count_at = rest.find_first_not_of(' ');
    ASSERT_NE(count_at, std::string::npos) << line;
    EXPECT_EQ(rest.substr(count_at), row.params) << line;
  }
}

TEST_F(Experiment9Summary, TotalsCountMovingStatisticsAsNonTrainable) {
  // Trainable: 108 + 10368 + 27648 + 313600 + 2010 kernels and bias, 12 + 24 + 32 + 200 betas = 354,002.
  // Non-trainable: moving mean and variance, 2 * 268 = 536. Total 354,538.
  EXPECT_GE(line_starting("Total params: 354,538"), 0) << summary_;
  EXPECT_GE(line_starting("Trainable params: 354,002"), 0) << summary_;
  EXPECT_GE(line_starting("Non-trainable params: 536"), 0) << summary_;
  EXPECT_EQ(model_->parameters().count(), 354002);
  std::int64_t state = 0;
  for (const auto& tensor : model_->state())
    state += tensor.value.numel();
  EXPECT_EQ(state, 536);
}

TEST_F(Experiment9Summary, HeaderNamesTheModelAndColumns) {
  ASSERT_GE(lines_.size(), 3u);
  EXPECT_EQ(lines_[0], "Model: \"batch_norm\"");
  EXPECT_GE(line_starting(" Layer (type)"), 0) << summary_;
  EXPECT_NE(summary_.find("Output Shape"), std::string::npos);
  EXPECT_NE(summary_.find("Param #"), std::string::npos);
}

TEST(ModelSummary, SmallDenseModelCountsBiases) {
  ModelSpec spec;
  spec.input_shape = {784};
  spec.layers = {"dense units=200 activation=relu", "dense units=10 activation=softmax"};
  auto model = make_model(spec);
  model->build(1, Device::cpu);
  const std::string summary = model_summary(*model, "dense");
  // 784 * 200 + 200 = 157,000; 200 * 10 + 10 = 2,010.
  EXPECT_NE(summary.find("157,000"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Total params: 159,010\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Trainable params: 159,010\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Non-trainable params: 0\n"), std::string::npos) << summary;
}

TEST(ModelSummary, ALaidOutModelHasTheBuiltOnesSummaryAndNoParameterMemory) {
  const ModelSpec spec =
      read_experiment(std::string(RINGTRAIN_SOURCE_DIR) + "/experiments/09_batch_norm.ini");
  auto built = make_model(spec);
  built->build(42, Device::cpu);
  auto laid_out = make_model(spec);
  laid_out->lay_out(Device::cpu);
  EXPECT_EQ(model_summary(*laid_out, "m"), model_summary(*built, "m"));
  EXPECT_EQ(laid_out->training_multiply_adds(), built->training_multiply_adds());
  EXPECT_FALSE(laid_out->parameters().values().defined());
  EXPECT_TRUE(built->parameters().values().defined());
}

TEST(ModelSummary, ALaidOutModelDoesNotRun) {
  ModelSpec spec;
  spec.input_shape = {4};
  spec.layers = {"dense units=2 activation=softmax"};
  auto model = make_model(spec);
  model->lay_out(Device::cpu);
  try {
    model->forward_logits(Tensor::zeros({1, 4}, DType::f32, Device::cpu), StepContext{});
    FAIL() << "forward ran on a model without parameters";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("not built"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ringtrain
