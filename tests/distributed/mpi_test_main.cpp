// main() of the tests that run under mpirun: MPI is initialized once around all tests. Rank 0 prints
// GoogleTest's usual output; the other ranks print only their failures, prefixed with their rank, and every
// rank's exit status reaches mpirun.
#include <gtest/gtest.h>

#include <iostream>

#include "distributed/world.hpp"

namespace {

class RankFailurePrinter final : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}

  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::cerr << "rank " << rank_ << ": " << (result.file_name() ? result.file_name() : "?") << ":"
              << result.line_number() << ": failure\n"
              << result.summary() << std::endl;
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  // Also started alone (the NCCL communicator's tests at world size 1): MPI all the same.
  ringtrain::MpiRuntime mpi(argc, argv, ringtrain::MpiStart::always);
  testing::InitGoogleTest(&argc, argv);
  const int rank = mpi.world().rank;
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  return RUN_ALL_TESTS();
}
