// Tests of make_optimizer (SGD with and without momentum, Adam) stepping a ParameterStore exactly as the
// double reference updates do, their named state, their settings checks, and the learning-rate schedule.
#include "core/optim/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/optim/schedule.hpp"
#include "tests/reference/optimizer.hpp"

namespace ringtrain {
namespace {

namespace ref = reference;

// Two parameters (15 values) with random values; gradients set per step by set_gradients.
struct Store {
  Store() {
    store.declare("dense/kernel", {3, 4}, Initializer::glorot_uniform);
    store.declare("dense/bias", {3}, Initializer::zeros);
    store.allocate(Device::cpu);
    store.values().copy_from(ref::random_tensor({15}, 1));
  }
  ref::Values set_gradients(std::uint32_t seed) {
    const ref::Values gradients = ref::random_values(15, seed);
    store.gradients().copy_from(ref::to_tensor({15}, gradients));
    return ref::rounded_to_float(gradients);
  }
  ParameterStore store;
};

OptimizerSettings settings_named(const std::string& name) {
  OptimizerSettings settings;
  settings.name = name;
  return settings;
}

TEST(Optimizer, SgdStepsAsTheReference) {
  Store s;
  auto sgd = make_optimizer(settings_named("sgd"), s.store, Device::cpu);
  ref::Values expected = ref::to_values(s.store.values()), no_velocity;
  for (std::uint32_t step = 0; step < 3; ++step) {
    const ref::Values gradients = s.set_gradients(10 + step);
    sgd->step(s.store, 0.05f);
    ref::sgd_update(expected, gradients, no_velocity, 0.05, 0.0);
    ref::expect_close(s.store.values(), expected, 1e-6, 1e-7);
  }
  EXPECT_EQ(sgd->steps(), 3);
  EXPECT_TRUE(sgd->state().empty());
}

TEST(Optimizer, SgdWithMomentumStepsAsTheReference) {
  Store s;
  OptimizerSettings settings = settings_named("sgd");
  settings.momentum = 0.9;
  auto sgd = make_optimizer(settings, s.store, Device::cpu);
  ref::Values expected = ref::to_values(s.store.values()), velocity(15, 0.0);
  for (std::uint32_t step = 0; step < 3; ++step) {
    const ref::Values gradients = s.set_gradients(20 + step);
    sgd->step(s.store, 0.1f);
    ref::sgd_update(expected, gradients, velocity, static_cast<double>(0.1f), static_cast<double>(0.9f));
    ref::expect_close(s.store.values(), expected, 1e-5, 1e-6);
  }
  const auto state = sgd->state();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].name, "sgd/velocity");
  ref::expect_close(state[0].value, velocity, 1e-5, 1e-6);
}

TEST(Optimizer, AdamStepsAsTheReference) {
  Store s;
  auto adam = make_optimizer(settings_named("adam"), s.store, Device::cpu);
  ref::Values expected = ref::to_values(s.store.values()), m(15, 0.0), v(15, 0.0);
  for (std::int64_t step = 1; step <= 4; ++step) {
    const ref::Values gradients = s.set_gradients(static_cast<std::uint32_t>(30 + step));
    adam->step(s.store, 0.01f);
    ref::adam_update(expected, gradients, m, v, static_cast<double>(0.01f), 0.9, 0.999, 1e-7, step);
    ref::expect_close(s.store.values(), expected, 1e-5, 1e-6);
  }
  EXPECT_EQ(adam->steps(), 4);
  const auto state = adam->state();
  ASSERT_GE(state.size(), 2u);
  EXPECT_EQ(state[0].name, "adam/m");
  EXPECT_EQ(state[1].name, "adam/v");
  ref::expect_close(state[0].value, m, 1e-5, 1e-7);
  ref::expect_close(state[1].value, v, 1e-5, 1e-8);
  EXPECT_NE(adam->describe().find("Adam"), std::string::npos);
}

TEST(Optimizer, AdamFirstStepMovesEachParameterByAboutTheLearningRate) {
  // Bias-corrected step 1 is lr * g / (|g| + epsilon / sqrt(1 - beta2)): lr against the gradient's sign
  // unless |g| is tiny.
  Store s;
  const ref::Values before = ref::to_values(s.store.values());
  const ref::Values gradients = s.set_gradients(40);
  make_optimizer(settings_named("adam"), s.store, Device::cpu)->step(s.store, 0.001f);
  const ref::Values after = ref::to_values(s.store.values());
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double g = gradients[i];
    EXPECT_NEAR(after[i] - before[i], -0.001 * g / (std::abs(g) + 1e-7 / std::sqrt(0.001)), 2e-7) << i;
  }
}

TEST(Optimizer, QueuedUpdatesAtTheAnnouncedRateAreSteps) {
  // What a step captured as a CUDA graph does: the host asks for the rate, the update is queued at it, and
  // the step is counted afterwards.
  for (const std::string name : {"sgd", "adam"}) {
    SCOPED_TRACE(name);
    Store stepped, queued;
    auto by_step = make_optimizer(settings_named(name), stepped.store, Device::cpu);
    auto by_queue = make_optimizer(settings_named(name), queued.store, Device::cpu);
    for (std::uint32_t step = 0; step < 4; ++step) {
      stepped.set_gradients(10 + step);
      queued.set_gradients(10 + step);
      by_step->step(stepped.store, 0.02f);
      const float rate = by_queue->update_rate(0.02f);
      by_queue->queue_update(queued.store, rate, nullptr);
      by_queue->count_update();
    }
    EXPECT_EQ(queued.store.values().to_vector(), stepped.store.values().to_vector());
    EXPECT_EQ(by_queue->steps(), 4);
  }
  Store s;
  auto adam = make_optimizer(settings_named("adam"), s.store, Device::cpu);
  // Adam's first update applies lr * sqrt(1 - 0.999) / (1 - 0.9) (betas held as float).
  EXPECT_NEAR(adam->update_rate(0.01f), 0.01 * std::sqrt(0.001) / 0.1, 1e-5 * 0.0032);
}

TEST(Optimizer, RejectsUnknownNamesAndBadSettings) {
  Store s;
  try {
    make_optimizer(settings_named("rmsprop"), s.store, Device::cpu);
    ADD_FAILURE() << "no error for an unknown optimizer";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'rmsprop'"), std::string::npos) << error.what();
  }
  OptimizerSettings sgd = settings_named("sgd");
  sgd.momentum = 1.0;
  EXPECT_THROW(make_optimizer(sgd, s.store, Device::cpu), Error);
  OptimizerSettings adam = settings_named("adam");
  adam.beta1 = 1.0;
  EXPECT_THROW(make_optimizer(adam, s.store, Device::cpu), Error);
  adam = settings_named("adam");
  adam.epsilon = 0;
  EXPECT_THROW(make_optimizer(adam, s.store, Device::cpu), Error);
}

TEST(Optimizer, DefaultsAreKeras) {
  const OptimizerSettings settings;
  EXPECT_EQ(settings.name, "adam");
  EXPECT_EQ(settings.beta1, 0.9);
  EXPECT_EQ(settings.beta2, 0.999);
  EXPECT_EQ(settings.epsilon, 1e-7);
}

TEST(LearningRateSchedule, DecaysPerEpochFromZero) {
  const LearningRateSchedule schedule{0.01, 0.666};
  for (int epoch = 0; epoch < 10; ++epoch) {
    EXPECT_NEAR(schedule.at_epoch(epoch), 0.01 * std::pow(0.666, epoch), 1e-15) << epoch;
  }
  EXPECT_EQ(schedule.at_epoch(0), 0.01);
  EXPECT_NEAR(schedule.at_epoch(2), 0.01 * 0.666 * 0.666, 1e-15);
  const LearningRateSchedule constant{0.001, 1.0};
  EXPECT_EQ(constant.at_epoch(7), 0.001);
  EXPECT_EQ(LearningRateSchedule{}.at_epoch(3), 0.001);
}

}  // namespace
}  // namespace ringtrain
