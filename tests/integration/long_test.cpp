// Long (on demand, not in CI): the codelab's experiments for their full 10 epochs reach the codelab's
// accuracy.
#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <string>

#include "tests/integration/cli_fixtures.hpp"

namespace ringtrain::integration {
namespace {

struct Target {
  const char* config;
  double accuracy;
};

// For readable test names in ctest -N (instead of the bytes of the struct).
void PrintTo(const Target& target, std::ostream* out) {
  *out << target.config << " >= " << target.accuracy;
}

class LongExperiment : public ::testing::TestWithParam<Target> {};

TEST_P(LongExperiment, ReachesCodelabAccuracy) {
  std::string why;
  const auto mnist = real_mnist_dir(why);
  if (!mnist) GTEST_SKIP() << why;
  const Target target = GetParam();
  const auto result =
      run_ringtrain({"train", "--config", experiment(target.config), "--data", mnist->string()},
                    std::chrono::seconds(4 * 3600));
  ASSERT_TRUE(result.exited && result.exit_code == 0) << result.describe();
  const auto final_line = parse_final_line(last_line(result.out));
  ASSERT_TRUE(final_line.has_value()) << result.describe();
  EXPECT_EQ(final_line->epochs, 10);
  EXPECT_GE(final_line->val_accuracy, target.accuracy) << result.describe();
  std::printf("%s: val_accuracy=%.4f in %.1f s\n", target.config, final_line->val_accuracy,
              final_line->seconds);
}

INSTANTIATE_TEST_SUITE_P(Codelab, LongExperiment,
                         ::testing::Values(Target{"01_dense_softmax.ini", 0.895},
                                           Target{"03_relu_adam.ini", 0.97}, Target{"05_lr_decay.ini", 0.98},
                                           Target{"07_convolutional.ini", 0.985},
                                           Target{"08_convolutional_dropout.ini", 0.99},
                                           Target{"09_batch_norm.ini", 0.994}),
                         [](const ::testing::TestParamInfo<Target>& param_info) {
                           std::string name = param_info.param.config;
                           name = name.substr(0, name.find('.'));
                           return "exp" + name;
                         });

}  // namespace
}  // namespace ringtrain::integration
