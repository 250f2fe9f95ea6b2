// Tests of the agreement on setup work under mpirun: work that succeeds everywhere returns its result; work
// that fails on some ranks ends every rank with AgreedFailure, the lowest failing rank holding its own error;
// what holds on one rank is known to all.
#include "core/comm/agreement.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/check.hpp"
#include "tests/distributed/world_communicator.hpp"

namespace ringtrain {
namespace {

using testing_support::world_communicator;

// The message of the error `failure` holds.
std::string message_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    return error.what();
  }
}

TEST(Agreement, WorkThatSucceedsOnEveryRankReturnsItsResult) {
  Communicator& communicator = world_communicator();
  EXPECT_EQ(agree_on(communicator, [&] { return communicator.rank() * 10; }), communicator.rank() * 10);
}

TEST(Agreement, WhatHoldsOnAnyRankIsKnownToEveryRank) {
  Communicator& communicator = world_communicator();
  const int last = communicator.size() - 1;
  EXPECT_TRUE(on_any_rank(communicator, communicator.rank() == last));
  EXPECT_TRUE(on_any_rank(communicator, true));
  EXPECT_FALSE(on_any_rank(communicator, false));
}

TEST(Agreement, AFailureOnSomeRanksEndsEveryRankAndTheLowestOfThemReports) {
  Communicator& communicator = world_communicator();
  const int size = communicator.size();
  ASSERT_GE(size, 2);
  // Every rank but 0 fails, each with its own message.
  try {
    agree_on(communicator, [&] {
      RT_CHECK(communicator.rank() == 0, "bad option on rank " << communicator.rank());
      return 1;
    });
    ADD_FAILURE() << "rank " << communicator.rank() << " went on after other ranks failed";
  } catch (const AgreedFailure& failure) {
    std::vector<int> expected_failed;
    for (int rank = 1; rank < size; ++rank)
      expected_failed.push_back(rank);
    EXPECT_EQ(failure.failed_ranks(), expected_failed);
    if (communicator.rank() == 1) {
      ASSERT_TRUE(failure.cause());
      EXPECT_EQ(message_of(failure.cause()), "bad option on rank 1");
    } else {
      EXPECT_FALSE(failure.cause()) << "rank " << communicator.rank() << " would report too";
    }
  }
  // The communicator is still in step: a collective after the agreement completes.
  EXPECT_EQ(communicator.all_gather(7).size(), static_cast<std::size_t>(size));
}

TEST(Agreement, AFailureOfAnotherKindIsCarriedAsItIs) {
  Communicator& communicator = world_communicator();
  try {
    agree_on(communicator, [&] {
      if (communicator.rank() == 0) throw std::logic_error("not a ringtrain::Error");
      return 1;
    });
    ADD_FAILURE() << "no failure";
  } catch (const AgreedFailure& failure) {
    EXPECT_EQ(failure.failed_ranks(), std::vector<int>{0});
    EXPECT_EQ(static_cast<bool>(failure.cause()), communicator.rank() == 0);
    if (failure.cause()) {
      EXPECT_THROW(std::rethrow_exception(failure.cause()), std::logic_error);
    }
  }
}

}  // namespace
}  // namespace ringtrain
