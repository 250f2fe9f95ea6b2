// The oneDNN CPU engine and stream, created on first use.
#include "core/ops/onednn_context.hpp"

namespace ringtrain::ops {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

}  // namespace ringtrain::ops
