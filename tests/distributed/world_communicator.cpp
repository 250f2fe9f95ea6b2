// The shared world communicator of the distributed tests.
#include "tests/distributed/world_communicator.hpp"

#include "distributed/mpi_communicator.hpp"

namespace ringtrain::testing_support {

Communicator& world_communicator() {
  static const std::unique_ptr<Communicator> communicator = make_mpi_communicator(MPI_COMM_WORLD);
  return *communicator;
}

}  // namespace ringtrain::testing_support
