// TimedCommunicator: the wall time of each blocking call, added up (also when the call throws).
#include "core/comm/timed_communicator.hpp"

#include <chrono>

namespace ringtrain {

void TimedCommunicator::blocking(const char* /*what*/, const std::function<void()>& call) {
  using Clock = std::chrono::steady_clock;
  struct AddOnExit {
    Clock::time_point start;
    double& total;
    ~AddOnExit() { total += std::chrono::duration<double>(Clock::now() - start).count(); }
  } add_on_exit{Clock::now(), blocked_seconds_};
  call();
}

}  // namespace ringtrain
