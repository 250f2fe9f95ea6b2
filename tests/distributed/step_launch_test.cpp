// Tests of the ranks' agreement on how a GPU step is launched, under mpirun: every rank gets the least that
// any rank can do, whichever rank it is.
#include "core/train/step_launch.hpp"

#include <gtest/gtest.h>

#include "tests/distributed/world_communicator.hpp"

namespace ringtrain {
namespace {

using testing_support::world_communicator;

TEST(StepLaunchAgreement, EveryRankAbleToReplayReplays) {
  EXPECT_EQ(agree_on_launch(StepLaunch::replay, world_communicator()), StepLaunch::replay);
  EXPECT_EQ(agree_on_launch(StepLaunch::record, world_communicator()), StepLaunch::record);
  EXPECT_EQ(agree_on_launch(StepLaunch::eager, world_communicator()), StepLaunch::eager);
}

TEST(StepLaunchAgreement, OneRankThatMustRecordMakesEveryRankRecord) {
  Communicator& world = world_communicator();
  for (int odd_one = 0; odd_one < world.size(); ++odd_one) {
    const StepLaunch mine = world.rank() == odd_one ? StepLaunch::record : StepLaunch::replay;
    EXPECT_EQ(agree_on_launch(mine, world), StepLaunch::record) << "rank " << odd_one << " must record";
  }
}

TEST(StepLaunchAgreement, OneRankThatMustRunEagerlyMakesEveryRankRunEagerly) {
  Communicator& world = world_communicator();
  for (int odd_one = 0; odd_one < world.size(); ++odd_one) {
    const StepLaunch mine = world.rank() == odd_one ? StepLaunch::eager : StepLaunch::replay;
    EXPECT_EQ(agree_on_launch(mine, world), StepLaunch::eager) << "rank " << odd_one << " runs eagerly";
    const StepLaunch recording = world.rank() == odd_one ? StepLaunch::eager : StepLaunch::record;
    EXPECT_EQ(agree_on_launch(recording, world), StepLaunch::eager) << "rank " << odd_one << " runs eagerly";
  }
}

TEST(StepLaunchAgreement, AProcessAloneDecidesForItself) {
  const auto alone = make_single_process_communicator();
  for (const StepLaunch launch : {StepLaunch::eager, StepLaunch::record, StepLaunch::replay})
    EXPECT_EQ(agree_on_launch(launch, *alone), launch);
}

}  // namespace
}  // namespace ringtrain
