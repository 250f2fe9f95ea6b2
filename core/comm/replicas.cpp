// Parameter broadcast from rank 0, the average of state over ranks and the cross-rank checksum comparison.
#include "core/comm/replicas.hpp"

#include <sstream>

#include "core/comm/agreement.hpp"
#include "core/fnv1a.hpp"

namespace ringtrain {

namespace {

std::uint64_t fnv1a_of(const Tensor& tensor, std::uint64_t hash) {
  const std::vector<float> values = tensor.to_vector();
  return fnv1a(values.data(), values.size() * sizeof(float), hash);
}

}  // namespace

std::uint64_t replica_checksum(const ParameterStore& store, const std::vector<StateTensor>& state) {
  std::uint64_t hash = fnv1a_of(store.values(), kFnv1aStart);
  for (const StateTensor& tensor : state)
    hash = fnv1a_of(tensor.value, hash);
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
  const std::vector<int> differing =
      ranks_differing_from_rank_0(communicator, replica_checksum(store, state));
  if (differing.empty()) return;
  std::ostringstream message;
  message << "parameters or batch-norm statistics " << when << " differ between rank 0 and "
          << describe_ranks(differing) << ": the replicas are no longer identical";
  fail_on_every_rank(communicator, std::make_exception_ptr(Error(message.str())));
}

}  // namespace ringtrain
