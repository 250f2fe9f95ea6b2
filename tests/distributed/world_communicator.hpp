// The MPI_COMM_WORLD communicator every distributed test shares (MPI is initialized by mpi_test_main.cpp).
#pragma once

#include "core/comm/communicator.hpp"

namespace ringtrain::testing_support {

Communicator& world_communicator();

}  // namespace ringtrain::testing_support
