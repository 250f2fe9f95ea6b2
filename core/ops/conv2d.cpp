// Conv2D geometry (TensorFlow's padding rule) and the convolution ops: on the CPU oneDNN forward, backward
// data and backward weights on NHWC activations and HWIO kernels, primitives cached per geometry; on the GPU
// cuDNN (core/cuda/conv.cu).
#include "core/ops/conv2d.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "core/cuda/kernels.hpp"
#include "core/ops/onednn_context.hpp"
#include "core/ops/op_checks.hpp"

namespace ringtrain::ops {

Padding parse_padding(const std::string& text) {
  std::string lower = text;  // as Keras reads it: "SAME" is "same"
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "same") return Padding::same;
  if (lower == "valid") return Padding::valid;
  RT_FAIL("unknown padding '" << text << "': use same or valid");
}

std::string to_string(Padding padding) {
  return padding == Padding::same ? "same" : "valid";
}

PaddedDim padded_dim(std::int64_t in, std::int64_t kernel, std::int64_t stride, Padding padding) {
  RT_CHECK(in > 0 && kernel > 0 && stride > 0, "convolution sizes must be positive: input "
                                                   << in << ", kernel " << kernel << ", stride " << stride);
  PaddedDim dim;
  if (padding == Padding::valid) {
    RT_CHECK(in >= kernel, "a window of " << kernel << " is larger than the input's " << in
                                          << " with padding 'valid': give padding=same, or a smaller window");
    dim.out = (in - kernel) / stride + 1;
    return dim;
  }
  dim.out = (in + stride - 1) / stride;
  const std::int64_t total = std::max<std::int64_t>((dim.out - 1) * stride + kernel - in, 0);
  dim.pad_before = total / 2;
  dim.pad_after = total - dim.pad_before;
  return dim;
}

Conv2DGeometry conv2d_geometry(std::int64_t batch, std::int64_t in_h, std::int64_t in_w, std::int64_t in_c,
                               std::int64_t filters, std::int64_t kernel_h, std::int64_t kernel_w,
                               std::int64_t stride_h, std::int64_t stride_w, Padding padding) {
  const PaddedDim rows = padded_dim(in_h, kernel_h, stride_h, padding);
  const PaddedDim columns = padded_dim(in_w, kernel_w, stride_w, padding);
  Conv2DGeometry g;
  g.batch = batch;
  g.in_h = in_h;
  g.in_w = in_w;
  g.in_c = in_c;
  g.out_h = rows.out;
  g.out_w = columns.out;
  g.out_c = filters;
  g.kernel_h = kernel_h;
  g.kernel_w = kernel_w;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  g.pad_top = rows.pad_before;
  g.pad_bottom = rows.pad_after;
  g.pad_left = columns.pad_before;
  g.pad_right = columns.pad_after;
  return g;
}

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// A tensor in the layout a primitive wants: the user's NHWC/HWIO memory when the layouts agree, else a
// buffer of the primitive's layout (blocked, e.g. nChw16c) with reorders to and from the user's memory.
struct LayoutBridge {
  memory::desc user;
  memory::desc wanted;
  mutable memory buffer;  // only when the layouts differ

  LayoutBridge() = default;
  LayoutBridge(const memory::desc& user_desc, const memory::desc& wanted_desc)
      : user(user_desc), wanted(wanted_desc) {
    if (user != wanted) buffer = memory(wanted, cpu_engine());
  }
  // Memory holding `tensor`'s values in the wanted layout (reordered in when needed).
  memory input(const Tensor& tensor) const {
    memory user_memory(user, cpu_engine(), tensor.data<float>());
    if (user == wanted) return user_memory;
    dnnl::reorder(user_memory, buffer).execute(cpu_stream(), user_memory, buffer);
    return buffer;
  }
  // Memory a primitive writes `tensor`'s values into; call finish() after the primitive ran.
  memory output(const Tensor& tensor) const {
    return user == wanted ? memory(user, cpu_engine(), tensor.data<float>()) : buffer;
  }
  void finish(const Tensor& tensor) const {
    if (user == wanted) return;
    memory user_memory(user, cpu_engine(), tensor.data<float>());
    dnnl::reorder(buffer, user_memory).execute(cpu_stream(), buffer, user_memory);
  }
};

// The oneDNN primitives of one convolution geometry. Activations stay in our NHWC layout where oneDNN has an
// optimised implementation for it: reordering them to and from a blocked layout (nChw16c) around every call
// costs more than the blocked kernels gain (experiment 9 on AVX-512: a third of the step). Kernels take the
// layout oneDNN prefers; their reorders are small.
struct ConvPrimitives {
  bool reference_only = false;  // some direction has only oneDNN's reference implementation
  memory::desc bias;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights backward_weights;
  LayoutBridge forward_src, forward_weights, forward_dst;
  LayoutBridge data_diff_dst, data_weights, data_diff_src;
  LayoutBridge weights_src, weights_diff_dst, weights_diff_weights;
};

bool is_reference(const std::string& implementation) {
  return implementation.rfind("ref", 0) == 0;
}

// The primitives with activations in `activations` (nhwc, or any: oneDNN's choice).
ConvPrimitives make_primitives(const Conv2DGeometry& g, bool with_bias, tag activations) {
  const memory::desc src({g.batch, g.in_c, g.in_h, g.in_w}, dt::f32, tag::nhwc);
  const memory::desc weights({g.out_c, g.in_c, g.kernel_h, g.kernel_w}, dt::f32, tag::hwio);
  const memory::desc dst({g.batch, g.out_c, g.out_h, g.out_w}, dt::f32, tag::nhwc);
  const memory::desc conv_src({g.batch, g.in_c, g.in_h, g.in_w}, dt::f32, activations);
  const memory::desc conv_weights({g.out_c, g.in_c, g.kernel_h, g.kernel_w}, dt::f32, tag::any);
  const memory::desc conv_dst({g.batch, g.out_c, g.out_h, g.out_w}, dt::f32, activations);
  const memory::dims strides{g.stride_h, g.stride_w};
  const memory::dims pad_before{g.pad_top, g.pad_left};
  const memory::dims pad_after{g.pad_bottom, g.pad_right};
  auto& engine = cpu_engine();

  ConvPrimitives p;
  p.bias = with_bias ? memory::desc({g.out_c}, dt::f32, tag::x) : memory::desc();
  const dnnl::convolution_forward::primitive_desc forward_pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                      conv_src, conv_weights, p.bias, conv_dst, strides, pad_before,
                                      pad_after),
      engine);
  p.forward = dnnl::convolution_forward(forward_pd);
  p.forward_src = LayoutBridge(src, forward_pd.src_desc());
  p.forward_weights = LayoutBridge(weights, forward_pd.weights_desc());
  p.forward_dst = LayoutBridge(dst, forward_pd.dst_desc());

  const dnnl::convolution_backward_data::primitive_desc data_pd(
      dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, conv_src, conv_weights,
                                            conv_dst, strides, pad_before, pad_after),
      engine, forward_pd);
  p.backward_data = dnnl::convolution_backward_data(data_pd);
  p.data_diff_dst = LayoutBridge(dst, data_pd.diff_dst_desc());
  p.data_weights = LayoutBridge(weights, data_pd.weights_desc());
  p.data_diff_src = LayoutBridge(src, data_pd.diff_src_desc());

  const dnnl::convolution_backward_weights::primitive_desc weights_pd(
      dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, conv_src, conv_weights,
                                               p.bias, conv_dst, strides, pad_before, pad_after),
      engine, forward_pd);
  p.backward_weights = dnnl::convolution_backward_weights(weights_pd);
  p.weights_src = LayoutBridge(src, weights_pd.src_desc());
  p.weights_diff_dst = LayoutBridge(dst, weights_pd.diff_dst_desc());
  p.weights_diff_weights = LayoutBridge(weights, weights_pd.diff_weights_desc());
  p.reference_only = is_reference(forward_pd.impl_info_str()) || is_reference(data_pd.impl_info_str()) ||
                     is_reference(weights_pd.impl_info_str());
  return p;
}

std::atomic<CpuConvolutionLayout> layout_in_use{CpuConvolutionLayout::automatic};

const ConvPrimitives& primitives_for(const Conv2DGeometry& g, bool with_bias) {
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, bool,
                         CpuConvolutionLayout>;
  static std::map<Key, ConvPrimitives> cache;
  static std::mutex mutex;
  const CpuConvolutionLayout layout = layout_in_use.load();
  const Key key{g.batch,    g.in_h,     g.in_w,    g.in_c,     g.out_c,   g.kernel_h, g.kernel_w,
                g.stride_h, g.stride_w, g.pad_top, g.pad_left, with_bias, layout};
  std::lock_guard lock(mutex);
  auto found = cache.find(key);
  if (found == cache.end()) {
    const bool automatic = layout == CpuConvolutionLayout::automatic;
    ConvPrimitives made = make_primitives(g, with_bias, automatic ? tag::nhwc : tag::any);
    if (automatic && made.reference_only) made = make_primitives(g, with_bias, tag::any);
    found = cache.emplace(key, std::move(made)).first;
  }
  return found->second;
}

memory wrap(const memory::desc& desc, const Tensor& tensor) {
  return memory(desc, cpu_engine(), tensor.data<float>());
}

void check_shapes(const char* op, const Conv2DGeometry& g, const Tensor& x, const Tensor& w,
                  const Tensor& y) {
  require_shape(op, "input", x, {g.batch, g.in_h, g.in_w, g.in_c});
  require_shape(op, "kernel", w, {g.kernel_h, g.kernel_w, g.in_c, g.out_c});
  require_shape(op, "output", y, {g.batch, g.out_h, g.out_w, g.out_c});
}

}  // namespace

void set_cpu_convolution_layout(CpuConvolutionLayout layout) {
  layout_in_use.store(layout);
}

void conv2d_forward(const Conv2DGeometry& g, const Tensor& x, const Tensor& w, const Tensor& bias,
                    Tensor& y) {
  check_shapes("conv2d_forward", g, x, w, y);
  if (bias.defined()) require_shape("conv2d_forward", "bias", bias, {g.out_c});
  if (on_cuda("conv2d_forward", {&x, &w, &bias, &y})) {
    cuda::conv2d_forward(g, x.data<float>(), w.data<float>(), bias.defined() ? bias.data<float>() : nullptr,
                         y.data<float>());
    return;
  }
  const ConvPrimitives& p = primitives_for(g, bias.defined());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, p.forward_src.input(x)},
                                       {DNNL_ARG_WEIGHTS, p.forward_weights.input(w)},
                                       {DNNL_ARG_DST, p.forward_dst.output(y)}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, wrap(p.bias, bias));
  p.forward.execute(cpu_stream(), args);
  p.forward_dst.finish(y);
  cpu_stream().wait();
}

void conv2d_backward_data(const Conv2DGeometry& g, const Tensor& dy, const Tensor& w, Tensor& dx) {
  check_shapes("conv2d_backward_data", g, dx, w, dy);
  if (on_cuda("conv2d_backward_data", {&dy, &w, &dx})) {
    cuda::conv2d_backward_data(g, dy.data<float>(), w.data<float>(), dx.data<float>());
    return;
  }
  const ConvPrimitives& p = primitives_for(g, false);
  p.backward_data.execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, p.data_diff_dst.input(dy)},
                                         {DNNL_ARG_WEIGHTS, p.data_weights.input(w)},
                                         {DNNL_ARG_DIFF_SRC, p.data_diff_src.output(dx)}});
  p.data_diff_src.finish(dx);
  cpu_stream().wait();
}

void conv2d_backward_filter(const Conv2DGeometry& g, const Tensor& x, const Tensor& dy, Tensor& dw,
                            Tensor& dbias) {
  check_shapes("conv2d_backward_filter", g, x, dw, dy);
  if (dbias.defined()) require_shape("conv2d_backward_filter", "bias gradient", dbias, {g.out_c});
  if (on_cuda("conv2d_backward_filter", {&x, &dy, &dw, &dbias})) {
    cuda::conv2d_backward_filter(g, x.data<float>(), dy.data<float>(), dw.data<float>(),
                                 dbias.defined() ? dbias.data<float>() : nullptr);
    return;
  }
  const ConvPrimitives& p = primitives_for(g, dbias.defined());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, p.weights_src.input(x)},
                                       {DNNL_ARG_DIFF_DST, p.weights_diff_dst.input(dy)},
                                       {DNNL_ARG_DIFF_WEIGHTS, p.weights_diff_weights.output(dw)}};
  if (dbias.defined()) args.emplace(DNNL_ARG_DIFF_BIAS, wrap(p.bias, dbias));
  p.backward_weights.execute(cpu_stream(), args);
  p.weights_diff_weights.finish(dw);
  cpu_stream().wait();
}

}  // namespace ringtrain::ops
