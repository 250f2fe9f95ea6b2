// TrainingPosition: where a run stands between two steps, all that resuming it needs besides the model and
// optimizer: the next step to run and what the epoch in progress has summed so far.
#pragma once

#include <cstdint>

namespace ringtrain {

struct TrainingPosition {
  std::int64_t epoch = 0;
  std::int64_t step = 0;         // the next step to run within `epoch`
  std::int64_t global_step = 0;  // optimizer steps taken (keys dropout; the learning rate's progress)
  std::int64_t samples_seen = 0;
  std::uint64_t seed = 0;
  double loss_sum = 0;  // of the epoch in progress, over every rank
  std::int64_t correct = 0;
  std::int64_t seen = 0;
};

}  // namespace ringtrain
