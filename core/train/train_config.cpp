// Range checks of a TrainConfig, with errors that name the config file, the field and the value.
#include "core/train/train_config.hpp"

#include <cmath>

#include "core/check.hpp"
#include "core/thread_budget.hpp"

namespace ringtrain {

std::string TrainConfig::source_of(const std::string& option) const {
  const auto found = sources.find(option);
  return found == sources.end() ? "default" : found->second;
}

void check_threads(int threads, const std::string& source) {
  RT_CHECK(threads >= 0 && threads <= kMaxThreads,
           source << ": threads=" << threads << " must be from 0 (this process's share of the cores) to "
                  << kMaxThreads);
}

void validate(const TrainConfig& config) {
  const auto where = [&config](const char* option) { return config.source_of(option) + ": " + option + "="; };
  RT_CHECK(config.epochs > 0, where("epochs") << config.epochs << " must be at least 1");
  RT_CHECK(config.batch_size > 0, where("batch-size") << config.batch_size << " must be at least 1");
  const auto rate = static_cast<float>(config.schedule.initial);
  RT_CHECK(
      std::isfinite(rate) && rate > 0,
      where("lr") << config.schedule.initial << " must be a positive number float32 holds (1e-38 to 3.4e38)");
  RT_CHECK(config.schedule.decay > 0 && config.schedule.decay <= 1,
           where("lr-decay") << config.schedule.decay << " must be in (0, 1]");
  check_threads(config.threads, config.source_of("threads"));
  RT_CHECK(config.optimizer.name == "sgd" || config.optimizer.name == "adam",
           where("optimizer") << config.optimizer.name << " is not sgd or adam");
  RT_CHECK(config.warmup_epochs >= 0, where("warmup-epochs")
                                          << config.warmup_epochs << " must not be negative");
  constexpr std::int64_t kMaxBucketKib = std::int64_t{1} << 30;  // 1 TiB: its size in bytes must fit
  RT_CHECK(config.bucket_kib > 0 && config.bucket_kib <= kMaxBucketKib,
           where("bucket-kib") << config.bucket_kib << " must be from 1 to " << kMaxBucketKib << " (1 TiB)");
  RT_CHECK(config.collective_timeout_seconds >= 1 && config.collective_timeout_seconds <= 86400,
           where("collective-timeout")
               << config.collective_timeout_seconds << " must be from 1 to 86400 seconds");
  RT_CHECK(config.optimizer.momentum >= 0 && config.optimizer.momentum < 1,
           where("momentum") << config.optimizer.momentum << " must be in [0, 1)");
}

}  // namespace ringtrain
