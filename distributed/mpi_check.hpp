// MPI_CHECK: turns a failed MPI call into a ringtrain::Error naming the call, the MPI error text and the
// line.
#pragma once

#include <mpi.h>

#include <string>

#include "core/check.hpp"

namespace ringtrain {
std::string mpi_error_text(int code);
}  // namespace ringtrain

#define MPI_CHECK(call)                                                                                    \
  do {                                                                                                     \
    const int mpi_check_code_ = (call);                                                                    \
    RT_CHECK(mpi_check_code_ == MPI_SUCCESS, "MPI error in " #call ": "                                    \
                                                 << ::ringtrain::mpi_error_text(mpi_check_code_) << " at " \
                                                 << __FILE__ << ':' << __LINE__);                          \
  } while (false)
