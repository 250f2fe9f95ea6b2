// The oneDNN CPU engine and stream that every CPU primitive runs on.
#pragma once

#include <dnnl.hpp>

namespace ringtrain::ops {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

}  // namespace ringtrain::ops
