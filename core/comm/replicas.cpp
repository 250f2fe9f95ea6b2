// Parameter broadcast from rank 0 and the cross-rank checksum comparison.
#include "core/comm/replicas.hpp"

#include <sstream>
#include <vector>

namespace ringtrain {

std::uint64_t parameter_checksum(const ParameterStore& store) {
  const std::vector<float> values = store.values().to_vector();
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < values.size() * sizeof(float); ++i)
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

void broadcast_parameters(ParameterStore& store, Communicator& communicator) {
  communicator.broadcast(store.values(), 0);
}

void check_replicas_agree(const ParameterStore& store, Communicator& communicator, const char* when) {
  const std::vector<std::uint64_t> checksums = communicator.all_gather(parameter_checksum(store));
  std::ostringstream differing;
  for (std::size_t rank = 1; rank < checksums.size(); ++rank) {
    if (checksums[rank] != checksums[0]) differing << (differing.tellp() > 0 ? ", " : "") << "rank " << rank;
  }
  RT_CHECK(differing.tellp() == 0, "parameters " << when << " differ between rank 0 and " << differing.str()
                                                 << ": the replicas are no longer identical");
}

}  // namespace ringtrain
