// What the checkpoint tests share: a model with every kind of layer that has parameters or state, its
// optimizer, and a fixture that writes an example checkpoint of it with known values.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint/checkpoint.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain::checkpoint_testing {

// Every kind of layer that has parameters or state, on a 784-value input.
extern const std::vector<std::string> kEveryStatefulLayer;

struct Built {
  std::unique_ptr<Sequential> model;
  std::unique_ptr<Optimizer> optimizer;
};

// The model of `layers` built on the CPU from `seed`, with an Adam (or `optimizer`, momentum 0.9).
Built build(const std::vector<std::string>& layers, std::uint64_t seed,
            const std::string& optimizer = "adam");

// Normal random values from `seed`.
void fill_random(Tensor tensor, std::uint32_t seed);

// Every value a checkpoint holds: parameters, state, optimizer slots.
std::vector<std::vector<float>> everything(Built& built);

// Metadata and a mid-epoch position, none of them defaults.
CheckpointInfo example_info();

class CheckpointTest : public ::testing::Test {
 protected:
  // A checkpoint of kEveryStatefulLayer with random parameters, state and Adam slots (1423 steps); what it
  // holds is kept in written_.
  std::filesystem::path write_example(const std::string& name = "example.h5");

  data::testing::TemporaryDirectory dir_;
  std::vector<std::vector<float>> written_;
};

}  // namespace ringtrain::checkpoint_testing
