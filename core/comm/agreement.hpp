// Failures every rank agrees on, so that every rank ends together with the error printed once and none is
// aborted: the outcome of work each rank does alone (reading the options, building the model), and failures
// that every rank meets at once in values they share (a non-finite summed loss, differing checksums).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/comm/communicator.hpp"

namespace ringtrain {

// Thrown on every rank when an agreed failure happened. The reporting rank (the lowest that failed) holds the
// error (`cause`) and reports it; the other ranks hold none and say nothing. Every rank knows of the failure,
// so every rank can end normally: none needs to be aborted.
class AgreedFailure : public std::exception {
 public:
  AgreedFailure(std::exception_ptr cause, std::vector<int> failed_ranks);
  const char* what() const noexcept override { return "the run failed, and another rank reports why"; }
  // The error to report on this rank; null on the ranks that stay silent.
  const std::exception_ptr& cause() const { return cause_; }
  // Every rank whose own work failed, in rank order.
  const std::vector<int>& failed_ranks() const { return failed_ranks_; }

 private:
  std::exception_ptr cause_;
  std::vector<int> failed_ranks_;
};

// "rank 3", "ranks 0, 1" or "ranks 0-5, 9": runs of three or more ranks as ranges.
std::string describe_ranks(const std::vector<int>& ranks);

// A collective: throws AgreedFailure on every rank when `failure` (this rank's error, null when its work went
// well) is set on any. With one process the error is rethrown as it is.
void agree_on_outcome(Communicator& communicator, const std::exception_ptr& failure);

// Whether `yes` holds on any rank (a collective: every rank gets the same answer).
bool on_any_rank(Communicator& communicator, bool yes);

// The ranks whose `value` differs from rank 0's, in rank order (a collective; none with one process).
std::vector<int> ranks_differing_from_rank_0(Communicator& communicator, std::uint64_t value);

// Ends every rank with `failure`, one that every rank met at once because it follows from values they share
// (reduced sums): rank 0 alone reports it, and no rank is aborted. With one process it is rethrown as it is.
[[noreturn]] void fail_on_every_rank(const Communicator& communicator, const std::exception_ptr& failure);

// Runs `work` on every rank and returns its result once it succeeded on all of them. `work` must enter no
// collective: a rank that fails before it would leave the others waiting there.
template <class Work>
auto agree_on(Communicator& communicator, Work&& work) -> decltype(work()) {
  std::optional<decltype(work())> result;
  std::exception_ptr failure;
  try {
    result.emplace(work());
  } catch (...) {
    failure = std::current_exception();
  }
  agree_on_outcome(communicator, failure);
  return std::move(*result);
}

}  // namespace ringtrain
