// The ranks' agreement on how a GPU step is launched.
#include "core/train/step_launch.hpp"

#include <array>

namespace ringtrain {

StepLaunch agree_on_launch(StepLaunch mine, Communicator& communicator) {
  if (communicator.size() == 1) return mine;
  // How many ranks can replay, and how many can at least record.
  std::array<double, 2> able{mine == StepLaunch::replay ? 1.0 : 0.0, mine != StepLaunch::eager ? 1.0 : 0.0};
  communicator.sum(able);
  const auto everyone = static_cast<double>(communicator.size());
  if (able[0] == everyone) return StepLaunch::replay;
  if (able[1] == everyone) return StepLaunch::record;
  return StepLaunch::eager;
}

}  // namespace ringtrain
