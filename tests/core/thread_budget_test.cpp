// Tests of core/thread_budget: --threads 0 gives each process its share of the cores it may use, and the
// warning appears exactly when threads outnumber the cores, whether the processes are bound to cores of
// their own, share one set, or are not bound at all.
#include "core/thread_budget.hpp"

#include <gtest/gtest.h>

#include "core/train/train_config.hpp"

namespace ringtrain {
namespace {

// Processes bound to (or free on) as many cores as this one.
NodeCores cores(int processes, int own, int shared, int online) {
  return NodeCores{.processes = processes, .own = own, .fewest = own, .shared = shared, .online = online};
}

TEST(DefaultThreads, SplitTheSharedCoresAndKeepWithinEachProcessOwn) {
  EXPECT_EQ(default_threads(cores(1, 16, 16, 16)), 16);  // alone
  EXPECT_EQ(default_threads(cores(2, 16, 16, 16)), 8);   // unbound: the node split
  EXPECT_EQ(default_threads(cores(2, 8, 16, 16)), 8);    // bound to 8 cores each: all 8
  EXPECT_EQ(default_threads(cores(2, 1, 2, 2)), 1);      // mpirun -np 2 on 2 cores: one each
  EXPECT_EQ(default_threads(cores(2, 4, 4, 16)), 2);     // a 4-core allocation shared by 2 unbound tasks
  EXPECT_EQ(default_threads(cores(3, 1, 1, 2)), 1);      // more processes than cores: never 0
  EXPECT_EQ(default_threads(cores(2, 3, 16, 16)), 3);    // the union is larger: still no more than its own
  // A process alone on a node larger than --threads allows gets the most the flag allows, never more.
  EXPECT_EQ(default_threads(cores(1, 4096, 4096, 4096)), kMaxThreads);
  EXPECT_NO_THROW(check_threads(default_threads(cores(1, 4096, 4096, 4096)), "default"));
}

TEST(OversubscriptionWarning, SilentWhereTheThreadsFit) {
  EXPECT_EQ(oversubscription_warning(16, cores(1, 16, 16, 16)), "");
  EXPECT_EQ(oversubscription_warning(8, cores(2, 16, 16, 16)), "");
  EXPECT_EQ(oversubscription_warning(8, cores(2, 8, 16, 16)), "");
  EXPECT_EQ(oversubscription_warning(1, cores(2, 1, 2, 2)), "");
  EXPECT_EQ(oversubscription_warning(2, cores(2, 4, 4, 16)), "");
}

TEST(OversubscriptionWarning, ABoundProcessWithMoreThreadsThanItsCores) {
  EXPECT_EQ(
      oversubscription_warning(2, cores(2, 1, 2, 2)),
      "ringtrain: warning: 2 threads in each process, which may run on 1 of the node's 2 cores: threads "
      "beyond the cores wait on each other and slow every step (--threads 0 takes the process's share)\n");
}

TEST(OversubscriptionWarning, UnboundProcessesWithMoreThreadsThanTheNode) {
  EXPECT_EQ(oversubscription_warning(2, cores(2, 2, 2, 2)),
            "ringtrain: warning: 4 threads (2 in each of 2 process(es)) on the 2 cores: threads beyond the "
            "cores wait on each other and slow every step (--threads 0 shares the cores)\n");
  EXPECT_EQ(oversubscription_warning(3, cores(1, 2, 2, 2)),
            "ringtrain: warning: 3 threads (3 in each of 1 process(es)) on the 2 cores: threads beyond the "
            "cores wait on each other and slow every step (--threads 0 shares the cores)\n");
}

// More processes than cores: one thread each is already too many, and --threads 0 would not help.
TEST(OversubscriptionWarning, MoreProcessesThanCoresAreToldToStartFewer) {
  EXPECT_EQ(oversubscription_warning(2, cores(3, 2, 2, 2)),
            "ringtrain: warning: 6 threads (2 in each of 3 process(es)) on the 2 cores: threads beyond the "
            "cores wait on each other and slow every step (give the processes more cores, or start fewer)\n");
}

// Each process looks bound (one core of two), but both are bound to the same core.
TEST(OversubscriptionWarning, ProcessesSharingOneSmallerSetOfCores) {
  EXPECT_EQ(
      oversubscription_warning(1, cores(2, 1, 1, 2)),
      "ringtrain: warning: 2 threads (1 in each of 2 process(es)) on the 1 core that the node's "
      "processes may run on (of its 2): threads beyond the cores wait on each other and slow every step "
      "(give the processes more cores, or start fewer)\n");
}

// --threads 0 gives each process its own default, never past its own cores: nothing to warn of, unless the
// processes outnumber the cores and 1 thread each is already too many.
TEST(OversubscriptionWarning, DefaultsFitWhereverTheCoresAreEnough) {
  EXPECT_EQ(oversubscription_warning(0, cores(1, 16, 16, 16)), "");
  EXPECT_EQ(oversubscription_warning(0, cores(4, 16, 16, 16)), "");
  EXPECT_EQ(oversubscription_warning(0, cores(2, 1, 2, 2)), "");
  const NodeCores sharing_one_core = cores(2, 1, 1, 2);
  EXPECT_NE(oversubscription_warning(0, sharing_one_core), "");
  EXPECT_EQ(oversubscription_warning(0, sharing_one_core), oversubscription_warning(1, sharing_one_core));
}

// This process may run on 6 cores and another of its node's on 1 (7 together, of 16).
TEST(OversubscriptionWarning, AProcessBoundToFewerCoresThanThisOne) {
  const NodeCores uneven{.processes = 2, .own = 6, .fewest = 1, .shared = 7, .online = 16};
  EXPECT_EQ(
      oversubscription_warning(4, uneven),
      "ringtrain: warning: 4 threads in each process, and one of the node's processes may run on only 1 "
      "of the node's 16 cores: threads beyond the cores wait on each other and slow every step "
      "(--threads 0 takes the process's share)\n");
  EXPECT_EQ(oversubscription_warning(1, uneven), "");
  // Its default is 3 here and 1 there: each within its own cores.
  EXPECT_EQ(default_threads(uneven), 3);
  EXPECT_EQ(oversubscription_warning(0, uneven), "");
}

TEST(NodeCores, AnUnknownUnionIsThisProcessOwnCores) {
  const NodeCores alone = node_cores({.count = 1});
  EXPECT_EQ(alone.processes, 1);
  EXPECT_GE(alone.own, 1);
  EXPECT_EQ(alone.fewest, alone.own);
  EXPECT_EQ(alone.shared, alone.own);
  EXPECT_GE(alone.online, alone.own);
  // A union larger than the node (a count from elsewhere) is held to the node's cores, the fewest to this
  // process's own.
  EXPECT_EQ(node_cores({.count = 2, .fewest_cores = 100000, .shared_cores = 100000}).shared, alone.online);
  EXPECT_EQ(node_cores({.count = 2, .fewest_cores = 100000, .shared_cores = 100000}).fewest, alone.own);
  EXPECT_EQ(node_cores({.count = 2, .fewest_cores = 1}).fewest, 1);
  EXPECT_EQ(node_cores({.count = 0}).processes, 1);
}

}  // namespace
}  // namespace ringtrain
