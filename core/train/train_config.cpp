// Range checks of a TrainConfig, with errors that name the config file, the field and the value.
#include "core/train/train_config.hpp"

#include <cmath>

#include "core/check.hpp"

namespace ringtrain {

std::string TrainConfig::source_of(const std::string& option) const {
  const auto found = sources.find(option);
  return found == sources.end() ? "default" : found->second;
}

void validate(const TrainConfig& config) {
  const auto where = [&config](const char* option) { return config.source_of(option) + ": " + option + "="; };
  RT_CHECK(config.epochs > 0, where("epochs") << config.epochs << " must be at least 1");
  RT_CHECK(config.batch_size > 0, where("batch-size") << config.batch_size << " must be at least 1");
  const auto rate = static_cast<float>(config.schedule.initial);
  RT_CHECK(std::isfinite(rate) && rate > 0,
           where("lr") << config.schedule.initial << " must be a positive number below 3.4e38 (float32)");
  RT_CHECK(config.schedule.decay > 0 && config.schedule.decay <= 1,
           where("lr-decay") << config.schedule.decay << " must be in (0, 1]");
  RT_CHECK(config.threads >= 0, where("threads") << config.threads << " must be 0 (all cores) or more");
  RT_CHECK(config.optimizer.name == "sgd" || config.optimizer.name == "adam",
           where("optimizer") << config.optimizer.name << " is not sgd or adam");
  RT_CHECK(config.warmup_epochs >= 0, where("warmup-epochs")
                                          << config.warmup_epochs << " must not be negative");
  RT_CHECK(config.bucket_kib > 0, where("bucket-kib") << config.bucket_kib << " must be positive");
  RT_CHECK(config.optimizer.momentum >= 0 && config.optimizer.momentum < 1,
           where("momentum") << config.optimizer.momentum << " must be in [0, 1)");
}

}  // namespace ringtrain
