// Parameter broadcast from rank 0, the average of state over ranks and the cross-rank checksum comparison.
#include "core/comm/replicas.hpp"

#include <sstream>

namespace ringtrain {

namespace {

std::uint64_t fnv1a(std::uint64_t hash, const std::vector<float>& values) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  for (std::size_t i = 0; i < values.size() * sizeof(float); ++i)
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

}  // namespace

std::uint64_t replica_checksum(const ParameterStore& store, const std::vector<StateTensor>& state) {
  std::uint64_t hash = fnv1a(0xcbf29ce484222325ull, store.values().to_vector());
  for (const StateTensor& tensor : state)
    hash = fnv1a(hash, tensor.value.to_vector());
  return hash;
}

void broadcast_parameters(ParameterStore& store, Communicator& communicator) {
  communicator.broadcast(store.values(), 0);
}

void average_state(const std::vector<StateTensor>& state, Communicator& communicator) {
  std::vector<double> values;
  for (const StateTensor& tensor : state) {
    const std::vector<float> own = tensor.value.to_vector();
    values.insert(values.end(), own.begin(), own.end());
  }
  communicator.sum(values);
  std::size_t next = 0;
  for (const StateTensor& tensor : state) {
    std::vector<float> mean(static_cast<std::size_t>(tensor.value.numel()));
    for (float& value : mean)
      value = static_cast<float>(values[next++] / communicator.size());
    Tensor destination = tensor.value;
    destination.copy_from(Tensor::from_vector(tensor.value.shape(), mean));
  }
}

void check_replicas_agree(const ParameterStore& store, const std::vector<StateTensor>& state,
                          Communicator& communicator, const char* when) {
  const std::vector<std::uint64_t> checksums = communicator.all_gather(replica_checksum(store, state));
  std::ostringstream differing;
  for (std::size_t rank = 1; rank < checksums.size(); ++rank) {
    if (checksums[rank] != checksums[0]) differing << (differing.tellp() > 0 ? ", " : "") << "rank " << rank;
  }
  RT_CHECK(differing.tellp() == 0, "parameters or batch-norm statistics "
                                       << when << " differ between rank 0 and " << differing.str()
                                       << ": the replicas are no longer identical");
}

}  // namespace ringtrain
