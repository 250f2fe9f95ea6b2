// The NCCL communicator in a build without CUDA: absent, with an error that says so.
#include "core/check.hpp"
#include "distributed/nccl_communicator.hpp"

namespace ringtrain {

bool nccl_built() {
  return false;
}

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm, const NcclSettings&) {
  RT_FAIL(
      "the NCCL communicator needs the CUDA backend, and this ringtrain was built without CUDA "
      "(configure with -DRINGTRAIN_CUDA=ON on a machine with the CUDA toolkit and NCCL)");
  return nullptr;
}

}  // namespace ringtrain
