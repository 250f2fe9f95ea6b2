// The option table read into a TrainConfig: defaults that depend on another option (the learning rate on the
// optimizer, as in Keras) and what the run's stored configuration keeps of them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/cli/options.hpp"

namespace ringtrain::cli {
namespace {

using testing::HasSubstr;

ParsedOptions parsed(const std::vector<std::string>& arguments) {
  return parse(arguments, run_options());
}

TEST(Options, TheLearningRateDefaultsToKerasOwnForEachOptimizer) {
  EXPECT_EQ(train_config(parsed({})).schedule.initial, 0.001);
  EXPECT_EQ(train_config(parsed({"--optimizer", "adam"})).schedule.initial, 0.001);
  const ParsedOptions sgd = parsed({"--optimizer", "sgd"});
  EXPECT_EQ(train_config(sgd).schedule.initial, 0.01);
  EXPECT_EQ(sgd.source_of("lr"), "default");
  // The run's stored configuration holds the rate it used, so a resumed run keeps it.
  EXPECT_THAT(config_text(sgd), HasSubstr("lr = 0.01\n"));
  EXPECT_EQ(train_config(parse_config_text(config_text(sgd), "stored")).schedule.initial, 0.01);
}

TEST(Options, AGivenLearningRateIsKept) {
  EXPECT_EQ(train_config(parsed({"--optimizer", "sgd", "--lr", "0.5"})).schedule.initial, 0.5);
  EXPECT_EQ(train_config(parse_config_text("optimizer = sgd\nlr = 0.25\n", "a.ini")).schedule.initial, 0.25);
  EXPECT_EQ(train_config(parse_config_text("optimizer = sgd\n", "a.ini")).schedule.initial, 0.01);
}

}  // namespace
}  // namespace ringtrain::cli
