// The MPI communicator for CPU tensors (float32 and float64): in-place MPI_Allreduce / MPI_Iallreduce sums
// and MPI_Bcast.
#include "distributed/mpi_communicator.hpp"

#include "distributed/mpi_check.hpp"

namespace ringtrain {

namespace {

// A float32 or float64 CPU tensor's elements and MPI type.
struct Floats {
  void* elements;
  MPI_Datatype type;
};
Floats floats_of(const Tensor& buffer, const char* call) {
  void* elements = float_elements(buffer, Device::cpu, "MPI", call);
  return {elements, buffer.dtype() == DType::f32 ? MPI_FLOAT : MPI_DOUBLE};
}

int element_count(const Tensor& buffer) {
  RT_CHECK(buffer.numel() <= 0x7fffffff,
           "buffer of " << buffer.numel() << " elements is too large for one MPI call");
  return static_cast<int>(buffer.numel());
}

class MpiPendingSum final : public PendingSum {
 public:
  explicit MpiPendingSum(MPI_Request request) : request_(request) {}
  ~MpiPendingSum() override {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  void poll() override {
    int done = 0;
    MPI_CHECK(MPI_Test(&request_, &done, MPI_STATUS_IGNORE));
  }
  void wait() override { MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE)); }

 private:
  MPI_Request request_;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
    MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    MPI_CHECK(MPI_Comm_size(comm_, &size_));
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(Tensor& buffer) override {
    const Floats floats = floats_of(buffer, "sum");
    MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, floats.elements, element_count(buffer), floats.type, MPI_SUM, comm_));
  }

  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override {
    const Floats floats = floats_of(buffer, "start_sum");
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, floats.elements, element_count(buffer), floats.type, MPI_SUM,
                             comm_, &request));
    return std::make_unique<MpiPendingSum>(request);
  }

  void broadcast(Tensor& buffer, int root) override {
    const Floats floats = floats_of(buffer, "broadcast");
    MPI_CHECK(MPI_Bcast(floats.elements, element_count(buffer), floats.type, root, comm_));
  }

  void sum(std::span<double> values) override {
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                            comm_));
  }

  std::vector<std::uint64_t> all_gather(std::uint64_t value) override {
    std::vector<std::uint64_t> values(static_cast<std::size_t>(size_));
    MPI_CHECK(MPI_Allgather(&value, 1, MPI_UINT64_T, values.data(), 1, MPI_UINT64_T, comm_));
    return values;
  }

  void barrier() override { MPI_CHECK(MPI_Barrier(comm_)); }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm) {
  return std::make_unique<MpiCommunicator>(comm);
}

}  // namespace ringtrain
