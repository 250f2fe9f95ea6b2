// Identical replicas: rank 0's parameters broadcast to every rank, and a checksum of every rank's parameters
// compared, so that replicas that drifted apart are an error rather than a silently wrong run.
#pragma once

#include <cstdint>

#include "core/comm/communicator.hpp"
#include "core/model/parameter_store.hpp"

namespace ringtrain {

// FNV-1a over the bytes of every parameter value.
std::uint64_t parameter_checksum(const ParameterStore& store);

// Every rank's parameters = rank 0's.
void broadcast_parameters(ParameterStore& store, Communicator& communicator);

// Throws, on every rank, naming the ranks whose parameter checksum differs from rank 0's.
void check_replicas_agree(const ParameterStore& store, Communicator& communicator, const char* when);

}  // namespace ringtrain
