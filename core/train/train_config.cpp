// Range checks of a TrainConfig, with errors that name the config file, the field and the value.
#include "core/train/train_config.hpp"

#include <cmath>

#include "core/check.hpp"

namespace ringtrain {

void validate(const TrainConfig& config) {
  const std::string& source = config.model.source;
  RT_CHECK(config.epochs > 0, source << ": epochs=" << config.epochs << " must be at least 1");
  RT_CHECK(config.batch_size > 0, source << ": batch-size=" << config.batch_size << " must be at least 1");
  RT_CHECK(std::isfinite(config.schedule.initial) && config.schedule.initial > 0,
           source << ": lr=" << config.schedule.initial << " must be a positive number");
  RT_CHECK(config.schedule.decay > 0 && config.schedule.decay <= 1,
           source << ": lr-decay=" << config.schedule.decay << " must be in (0, 1]");
  RT_CHECK(config.threads >= 0, source << ": threads=" << config.threads << " must be 0 (all cores) or more");
  RT_CHECK(config.optimizer.name == "sgd" || config.optimizer.name == "adam",
           source << ": optimizer=" << config.optimizer.name << " is not sgd or adam");
  RT_CHECK(config.optimizer.momentum >= 0 && config.optimizer.momentum < 1,
           source << ": momentum=" << config.optimizer.momentum << " must be in [0, 1)");
}

}  // namespace ringtrain
