// Tests of time_layers (bench --per-layer): one row per layer that produces the logits, in order, backward
// where a step runs it, and the passes are the step's own: after them the gradients are those of one
// training step on the batch, bit for bit, and the parameters are unchanged. On every usable device; on
// the GPU also with each pass recorded as a CUDA graph.
#include "core/model/layer_timing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <ostream>
#include <string>
#include <vector>

#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/kernels.hpp"
#include "core/model/model_spec.hpp"
#include "core/ops/softmax_cross_entropy.hpp"
#include "tests/layers/small_training.hpp"

namespace ringtrain {
namespace {

struct Case {
  Device device;
  bool graphs;
};

void PrintTo(const Case& tested, std::ostream* out) {
  *out << to_string(tested.device) << (tested.graphs ? " with CUDA graphs" : "");
}

class LayerTiming : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (GetParam().device == Device::cuda && cuda::device_count() == 0)
      GTEST_SKIP() << "no usable GPU: " << cuda::describe();
    cuda::set_deterministic_convolutions(true);  // both models' convolutions give the same bits
  }

  // A model as the CLI builds it, with a first layer that has no parameters (so no backward).
  std::unique_ptr<Sequential> model() const {
    TrainConfig config = small_batch_norm_config(GetParam().device);
    config.model.layers.insert(config.model.layers.begin(), "reshape 8,8,1");
    auto built = make_model(config.model);
    built->build(config.seed, config.device);
    return built;
  }

  void batch(Tensor& images, Tensor& labels) const {
    const data::Dataset dataset = quadrant_dataset(16, 5);
    std::vector<std::int64_t> rows(16);
    std::iota(rows.begin(), rows.end(), 0);
    dataset.gather_batch(rows, images, labels);
    images = images.to(GetParam().device);
    labels = labels.to(GetParam().device);
  }

  StepContext context() const {
    StepContext step;
    step.mode = Mode::train;
    step.seed = 11;
    step.step = 3;
    return step;
  }
};

TEST_P(LayerTiming, TimesEveryLogitsLayerInOrderAndBackwardWhereAStepRunsIt) {
  const auto timed = model();
  Tensor images, labels;
  batch(images, labels);
  const auto timings = time_layers(*timed, images, labels, context(), 3, GetParam().graphs);
  ASSERT_EQ(timings.size(), timed->logits_layers());
  ASSERT_EQ(timings.size(), timed->layers().size() - 1);  // the final softmax is folded into the loss
  for (std::size_t i = 0; i < timings.size(); ++i) {
    SCOPED_TRACE(timings[i].name);
    EXPECT_EQ(timings[i].name, timed->layers()[i]->name());
    EXPECT_EQ(timings[i].type, timed->layers()[i]->type());
    EXPECT_TRUE(std::isfinite(timings[i].forward_seconds) && timings[i].forward_seconds >= 0);
    EXPECT_EQ(timings[i].has_backward, timed->runs_backward(i));
    EXPECT_TRUE(std::isfinite(timings[i].backward_seconds) && timings[i].backward_seconds >= 0);
    if (!timings[i].has_backward) {
      EXPECT_EQ(timings[i].backward_seconds, 0);
    }
  }
  EXPECT_EQ(timings.front().type, "Reshape");
  EXPECT_FALSE(timings.front().has_backward);
  EXPECT_EQ(timings[1].type, "Conv2D");
  if (GetParam().graphs) {
    EXPECT_GT(timings[1].forward_operations, 0u);  // the convolution's kernels, recorded
    EXPECT_GT(timings[1].backward_operations, 0u);
  } else {
    EXPECT_EQ(timings[1].forward_operations, 0u);
  }
}

TEST_P(LayerTiming, LeavesOneTrainingStepsGradientsAndTheParametersAsTheyWere) {
  const auto timed = model();
  const auto stepped = model();
  Tensor images, labels;
  batch(images, labels);
  const std::vector<float> initial = timed->parameters().values().to_vector();
  time_layers(*timed, images, labels, context(), 2, GetParam().graphs);

  const Tensor logits = stepped->forward_logits(images, context());
  Tensor dlogits = Tensor::empty(logits.shape(), DType::f32, logits.device());
  ops::softmax_cross_entropy(logits, labels, 1.0f / 16, dlogits);
  stepped->backward(dlogits, context());

  EXPECT_EQ(timed->parameters().values().to_vector(), initial);
  const std::vector<float> gradients = timed->parameters().gradients().to_vector();
  EXPECT_EQ(gradients, stepped->parameters().gradients().to_vector());
  EXPECT_GT(std::count_if(gradients.begin(), gradients.end(), [](float g) { return g != 0; }),
            static_cast<std::ptrdiff_t>(gradients.size() / 2));
}

TEST_P(LayerTiming, RefusesABatchOfAnotherShapeOrNoRepeats) {
  const auto timed = model();
  Tensor images, labels;
  batch(images, labels);
  EXPECT_THROW(time_layers(*timed, images, labels, context(), 0, GetParam().graphs), Error);
  const Tensor wrong = Tensor::zeros({16, 7, 7, 1}, DType::f32, GetParam().device);
  EXPECT_THROW(time_layers(*timed, wrong, labels, context(), 1, GetParam().graphs), Error);
}

std::string case_name(const testing::TestParamInfo<Case>& tested) {
  return std::string(tested.param.device == Device::cpu ? "Cpu" : "Gpu") +
         (tested.param.graphs ? "Graphs" : "");
}

INSTANTIATE_TEST_SUITE_P(Devices, LayerTiming,
                         testing::Values(Case{Device::cpu, false}, Case{Device::cuda, false},
                                         Case{Device::cuda, true}),
                         case_name);

}  // namespace
}  // namespace ringtrain
