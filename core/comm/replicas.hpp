// Identical replicas: rank 0's parameters broadcast to every rank, state that ranks updated apart (batch
// norm's moving statistics under --bn-sync local) averaged over them, and a checksum of every rank's
// parameters and state compared, so that replicas that drifted apart are an error rather than a silently
// wrong run.
#pragma once

#include <cstdint>
#include <vector>

#include "core/comm/communicator.hpp"
#include "core/layers/layer.hpp"
#include "core/model/parameter_store.hpp"

namespace ringtrain {

// FNV-1a over the bytes of every parameter value, then of every state tensor's values.
std::uint64_t replica_checksum(const ParameterStore& store, const std::vector<StateTensor>& state = {});

// Every rank's parameters = rank 0's.
void broadcast_parameters(ParameterStore& store, Communicator& communicator);

// Every rank's state tensors = their mean over the ranks (summed in float64).
void average_state(const std::vector<StateTensor>& state, Communicator& communicator);

// Ends every rank (an agreed failure, rank 0 reporting it) when some rank's checksum of parameters and state
// differs from rank 0's, naming those ranks.
void check_replicas_agree(const ParameterStore& store, const std::vector<StateTensor>& state,
                          Communicator& communicator, const char* when);

}  // namespace ringtrain
