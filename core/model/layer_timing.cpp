// Layer timing: each pass run once to make its buffers (and on the GPU its plans), optionally recorded, then
// timed over repeated runs.
#include "core/model/layer_timing.hpp"

#include <chrono>
#include <functional>
#include <memory>

#include "core/cuda/captured_work.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/ops/softmax_cross_entropy.hpp"

namespace ringtrain {

namespace {

struct TimedPass {
  double seconds = 0;
  std::size_t operations = 0;
};

TimedPass time_pass(const std::function<void()>& pass, int repeats, bool on_gpu, bool graphs) {
  pass();
  std::unique_ptr<cuda::CapturedWork> graph;
  if (on_gpu && graphs) {
    graph = std::make_unique<cuda::CapturedWork>();
    graph->capture(pass);
    if (graph->node_count() == 0) {
      graph.reset();  // a view (reshape, flatten): nothing to replay
    } else {
      graph->replay();  // the first replay uploads the graph
    }
  }
  const std::function<void()> run = graph != nullptr ? [&] { graph->replay(); } : pass;
  if (on_gpu) cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; ++r)
    run();
  if (on_gpu) cuda::synchronize();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds / repeats, graph != nullptr ? graph->node_count() : 0};
}

}  // namespace

std::vector<LayerTiming> time_layers(Sequential& model, const Tensor& images, const Tensor& labels,
                                     StepContext context, int repeats, bool graphs) {
  RT_CHECK(repeats > 0, "time_layers: repeats=" << repeats << " must be positive");
  RT_CHECK(images.device() == model.device() && labels.device() == model.device(),
           "time_layers: the batch must be on the model's device, " << to_string(model.device()));
  RT_CHECK(images.rank() >= 1 && images.numel() == images.dim(0) * model.input_shape().numel(),
           "time_layers: images " << to_string(images.shape()) << " do not hold samples of "
                                  << to_string_with_none_batch(model.input_shape()));
  const bool on_gpu = model.device() == Device::cuda;
  context.mode = Mode::train;
  context.batch_statistics = nullptr;
  const std::size_t layers = model.logits_layers();
  std::vector<LayerTiming> timings(layers);
  Tensor activation = images.reshaped(model.input_shape().with_batch(images.dim(0)));
  for (std::size_t i = 0; i < layers; ++i) {
    Layer& layer = *model.layers()[i];
    timings[i].name = layer.name();
    timings[i].type = layer.type();
    const Tensor input = activation;
    const TimedPass forward =
        time_pass([&] { activation = layer.forward(input, context); }, repeats, on_gpu, graphs);
    timings[i].forward_seconds = forward.seconds;
    timings[i].forward_operations = forward.operations;
  }
  Tensor gradient = Tensor::empty(activation.shape(), DType::f32, model.device());
  ops::softmax_cross_entropy(activation, labels, 1.0f / static_cast<float>(images.dim(0)), gradient);
  for (std::size_t i = layers; i-- > 0 && model.runs_backward(i);) {
    Layer& layer = *model.layers()[i];
    StepContext layer_context = context;
    layer_context.input_gradient_needed = model.needs_input_gradient(i);
    const Tensor output_gradient = gradient;
    const TimedPass backward = time_pass([&] { gradient = layer.backward(output_gradient, layer_context); },
                                         repeats, on_gpu, graphs);
    timings[i].backward_seconds = backward.seconds;
    timings[i].backward_operations = backward.operations;
    timings[i].has_backward = true;
  }
  return timings;
}

}  // namespace ringtrain
