// The MPI communicator for CPU tensors, over any MPI communicator (the world, or a part of it).
#pragma once

#include <mpi.h>

#include <memory>

#include "core/comm/communicator.hpp"

namespace ringtrain {

std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm);

}  // namespace ringtrain
