// Learning-rate schedules per epoch, as Keras' LearningRateScheduler: lr(epoch) = lr0 * decay^epoch
// (decay 1 is a constant rate), set at the start of each epoch counted from 0.
#pragma once

#include <cmath>

namespace ringtrain {

struct LearningRateSchedule {
  double initial = 0.001;
  double decay = 1.0;

  double at_epoch(int epoch) const { return initial * std::pow(decay, epoch); }
};

}  // namespace ringtrain
