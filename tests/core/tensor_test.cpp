// Tests of core/tensor: shapes and their Keras-style text, allocation, views, row slices, buffers kept by
// ensure_tensor and the errors.
#include "core/tensor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ringtrain {
namespace {

TEST(Shape, CountsAndBatchDimension) {
  const Shape image{28, 28, 1};
  EXPECT_EQ(image.rank(), 3);
  EXPECT_EQ(image.numel(), 784);
  EXPECT_EQ(image.with_batch(64), (Shape{64, 28, 28, 1}));
  EXPECT_EQ(image.with_batch(64).without_batch(), image);
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_EQ((Shape{3, 0, 2}).numel(), 0);
  EXPECT_THROW(Shape{}.without_batch(), Error);
}

TEST(Shape, PrintsLikeKeras) {
  EXPECT_EQ(to_string(Shape{28, 28, 1}), "(28, 28, 1)");
  EXPECT_EQ(to_string(Shape{10}), "(10,)");
  EXPECT_EQ(to_string_with_none_batch(Shape{28, 28, 1}), "(None, 28, 28, 1)");
  EXPECT_EQ(to_string_with_none_batch(Shape{10}), "(None, 10)");
}

TEST(Shape, AnElementCountBeyond64BitsIsAnError) {
  const Shape huge{65536, 65536, 65536, 65536};  // 2^64 elements
  EXPECT_THROW(huge.numel(), Error);
  EXPECT_EQ((Shape{65536, 65536, 65536, 32767}).numel(), std::int64_t{32767} << 48);
}

TEST(Tensor, TensorsBeyondTheMachinesMemoryAreRefusedBeforeAnyIsTouched) {
  const auto half = static_cast<std::int64_t>(host_memory_bytes() / 2 / sizeof(float)) + 1;
  try {
    Tensor::empty({2 * half});
    FAIL() << "a tensor larger than the machine's memory was allocated";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("out of memory"), std::string::npos) << error.what();
  }
  // Together: the first one fits, the second would pass the machine's memory (memory never touched).
  Tensor first;
  try {
    first = Tensor::empty({half});
  } catch (const Error& error) {
    GTEST_SKIP() << "this machine does not lend half its memory untouched (strict overcommit, ulimit -v): "
                 << error.what();
  }
  EXPECT_THROW(Tensor::empty({half}), Error);
}

TEST(Tensor, ZerosHaveShapeTypeAndZeroValues) {
  const Tensor t = Tensor::zeros({2, 3});
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(t.device(), Device::cpu);
  EXPECT_EQ(t.bytes(), 24u);
  EXPECT_EQ(t.to_vector(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(Tensor::zeros({5}, DType::u8).bytes(), 5u);
  EXPECT_EQ(dtype_size(DType::i32), 4u);
  EXPECT_FALSE(Tensor().defined());
}

TEST(Tensor, FromVectorRoundTrips) {
  const std::vector<float> values{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(Tensor::from_vector({3, 2}, values).to_vector(), values);
  EXPECT_THROW(Tensor::from_vector({4, 2}, values), Error);
}

TEST(Tensor, ViewsShareMemory) {
  Tensor t = Tensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor tail = t.view({2, 2}, 2);
  EXPECT_EQ(tail.to_vector(), (std::vector<float>{2, 3, 4, 5}));
  tail.data<float>()[0] = 20;
  EXPECT_EQ(t.data<float>()[2], 20.0f);
  Tensor flat = t.reshaped({6});
  EXPECT_EQ(flat.shape(), Shape{6});
  EXPECT_EQ(flat.data<float>(), t.data<float>());
}

TEST(Tensor, SliceRowsIsAViewOfThoseRows) {
  Tensor t = Tensor::from_vector({4, 2, 2},
                                 std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  Tensor rows = t.slice_rows(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(rows.to_vector(), (std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11}));
  rows.fill_zero();
  EXPECT_EQ(t.to_vector(), (std::vector<float>{0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 12, 13, 14, 15}));
  EXPECT_EQ(t.slice_rows(4, 4).numel(), 0);
  // A slice of a slice counts rows from the slice.
  EXPECT_EQ(t.slice_rows(2, 4).slice_rows(1, 2).to_vector(), (std::vector<float>{12, 13, 14, 15}));
}

TEST(Tensor, BadViewsAndSlicesThrow) {
  const Tensor t = Tensor::zeros({2, 3});
  EXPECT_THROW(t.view({7}), Error);
  EXPECT_THROW(t.view({2, 2}, 3), Error);
  EXPECT_THROW(t.view({1}, -1), Error);
  EXPECT_THROW(t.reshaped({3, 3}), Error);
  EXPECT_THROW(Tensor().view({1}), Error);
  EXPECT_THROW(t.slice_rows(1, 3), Error);
  EXPECT_THROW(t.slice_rows(2, 1), Error);
  EXPECT_THROW(t.slice_rows(-1, 1), Error);
  EXPECT_THROW(Tensor::zeros({}).slice_rows(0, 0), Error);
}

TEST(Tensor, WrongTypesAndSizesThrow) {
  const Tensor floats = Tensor::zeros({4});
  EXPECT_THROW(floats.data<std::int32_t>(), Error);
  EXPECT_THROW(Tensor::zeros({4}, DType::i32).to_vector(), Error);
  Tensor target = Tensor::zeros({5});
  EXPECT_THROW(target.copy_from(floats), Error);
  EXPECT_THROW(target.copy_from(Tensor::zeros({5}, DType::i32)), Error);
  EXPECT_THROW(Tensor::empty({2, -1}), Error);
}

TEST(Tensor, CopyFromAndToCopyValues) {
  const Tensor source = Tensor::from_vector({3}, {1, 2, 3});
  Tensor copy = source.to(Device::cpu);
  EXPECT_NE(copy.data<float>(), source.data<float>());
  EXPECT_EQ(copy.to_vector(), source.to_vector());
  Tensor target = Tensor::zeros({1, 3});
  target.copy_from(source);
  EXPECT_EQ(target.to_vector(), source.to_vector());
}

TEST(EnsureTensor, KeepsABufferOfTheSameShapeAndReplacesOneOfAnotherKind) {
  Tensor buffer;
  ensure_tensor(buffer, {4, 3}, Device::cpu);
  const float* memory = buffer.data<float>();
  EXPECT_EQ(ensure_tensor(buffer, {4, 3}, Device::cpu).data<float>(), memory);
  ensure_tensor(buffer, {4, 3}, Device::cpu, DType::i32);
  EXPECT_EQ(buffer.dtype(), DType::i32);
  EXPECT_EQ(buffer.shape(), (Shape{4, 3}));
  EXPECT_THROW(ensure_tensor(buffer, {-1, 3}, Device::cpu), Error);
}

TEST(EnsureTensor, ShrinksAndGrowsBackInItsOwnMemory) {
  Tensor buffer;
  ensure_tensor(buffer, {4, 3}, Device::cpu);
  const float* memory = buffer.data<float>();
  const std::uint64_t allocations = allocation_count(Device::cpu);
  ensure_tensor(buffer, {1, 3}, Device::cpu);  // evaluation's last, smaller batch
  EXPECT_EQ(buffer.shape(), (Shape{1, 3}));
  EXPECT_EQ(buffer.bytes(), 12u);
  EXPECT_EQ(buffer.data<float>(), memory);
  ensure_tensor(buffer, {2, 6}, Device::cpu);
  EXPECT_EQ(buffer.data<float>(), memory);
  ensure_tensor(buffer, {4, 3}, Device::cpu);  // the full batches after it
  EXPECT_EQ(buffer.data<float>(), memory);
  EXPECT_EQ(allocation_count(Device::cpu), allocations);
  ensure_tensor(buffer, {5, 3}, Device::cpu);  // no room: new memory
  EXPECT_EQ(buffer.shape(), (Shape{5, 3}));
  EXPECT_NE(buffer.data<float>(), memory);
  EXPECT_EQ(allocation_count(Device::cpu), allocations + 1);
}

TEST(EnsureTensor, NeverReshapesAViewOverItsNeighbours) {
  const Tensor whole = Tensor::from_vector({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor rows = whole.slice_rows(0, 2);
  EXPECT_EQ(ensure_tensor(rows, {2, 2}, Device::cpu).data<float>(), whole.data<float>());  // kept as it is
  ensure_tensor(rows, {1, 2}, Device::cpu);  // smaller, yet a view: its own memory now
  EXPECT_NE(rows.data<float>(), whole.data<float>());
  rows.fill_zero();
  ensure_tensor(rows, {4, 2}, Device::cpu);
  rows.fill_zero();
  EXPECT_EQ(whole.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace ringtrain
