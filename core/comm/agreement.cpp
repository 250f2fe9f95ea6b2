// The agreement on a failure before the first collective: every rank's outcome gathered, the lowest failing
// rank chosen to report.
#include "core/comm/agreement.hpp"

#include <array>
#include <cstdint>
#include <sstream>

namespace ringtrain {

AgreedFailure::AgreedFailure(std::exception_ptr cause, std::vector<int> failed_ranks)
    : cause_(std::move(cause)), failed_ranks_(std::move(failed_ranks)) {}

std::string describe_ranks(const std::vector<int>& ranks) {
  std::ostringstream text;
  text << (ranks.size() == 1 ? "rank " : "ranks ");
  for (std::size_t first = 0; first < ranks.size();) {
    std::size_t last = first;
    while (last + 1 < ranks.size() && ranks[last + 1] == ranks[last] + 1)
      ++last;
    text << (first > 0 ? ", " : "");
    if (last - first >= 2) {
      text << ranks[first] << '-' << ranks[last];
      first = last + 1;
    } else {
      text << ranks[first];
      ++first;
    }
  }
  return text.str();
}

void agree_on_outcome(Communicator& communicator, const std::exception_ptr& failure) {
  if (communicator.size() == 1) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  const std::vector<std::uint64_t> failed = communicator.all_gather(failure ? 1 : 0);
  std::vector<int> failed_ranks;
  for (std::size_t rank = 0; rank < failed.size(); ++rank) {
    if (failed[rank] != 0) failed_ranks.push_back(static_cast<int>(rank));
  }
  if (failed_ranks.empty()) return;
  const bool reports = failed_ranks.front() == communicator.rank();
  throw AgreedFailure(reports ? failure : nullptr, std::move(failed_ranks));
}

bool on_any_rank(Communicator& communicator, bool yes) {
  std::array<double, 1> count{yes ? 1.0 : 0.0};
  communicator.sum(count);
  return count[0] > 0;
}

std::vector<int> ranks_differing_from_rank_0(Communicator& communicator, std::uint64_t value) {
  if (communicator.size() == 1) return {};
  const std::vector<std::uint64_t> values = communicator.all_gather(value);
  std::vector<int> differing;
  for (std::size_t rank = 1; rank < values.size(); ++rank) {
    if (values[rank] != values[0]) differing.push_back(static_cast<int>(rank));
  }
  return differing;
}

void fail_on_every_rank(const Communicator& communicator, const std::exception_ptr& failure) {
  if (communicator.size() == 1) std::rethrow_exception(failure);
  throw AgreedFailure(communicator.rank() == 0 ? failure : nullptr, {0});
}

}  // namespace ringtrain
