// Tests of the agreement on setup work in one process (its error comes back as it was) and of how a list of
// ranks is written.
#include "core/comm/agreement.hpp"

#include <gtest/gtest.h>

#include "core/check.hpp"

namespace ringtrain {
namespace {

TEST(Agreement, AloneTheWorksResultOrItsOwnErrorComesBack) {
  const auto communicator = make_single_process_communicator();
  EXPECT_EQ(agree_on(*communicator, [] { return 42; }), 42);
  EXPECT_THROW(agree_on(*communicator, []() -> int { RT_FAIL("a bad option"); }), Error);
}

TEST(DescribeRanks, RunsOfThreeOrMoreRanksAreRanges) {
  EXPECT_EQ(describe_ranks({3}), "rank 3");
  EXPECT_EQ(describe_ranks({0, 1}), "ranks 0, 1");
  EXPECT_EQ(describe_ranks({1, 2, 3}), "ranks 1-3");
  EXPECT_EQ(describe_ranks({0, 1, 2, 3, 4, 5, 9, 11, 12}), "ranks 0-5, 9, 11, 12");
  EXPECT_EQ(describe_ranks({0, 2, 3, 4, 6}), "ranks 0, 2-4, 6");
}

}  // namespace
}  // namespace ringtrain
