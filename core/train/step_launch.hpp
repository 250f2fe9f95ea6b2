// StepLaunch: how a training step on the GPU is launched (eagerly, recorded as a CUDA graph, or replayed),
// and the agreement of all ranks on it.
#pragma once

#include "core/comm/communicator.hpp"

namespace ringtrain {

// In the order of what each needs: a replay needs a recorded graph whose buffers are still the step's, a
// recording needs buffers that the last eager step left as the next step uses them.
enum class StepLaunch { eager, record, replay };

// With several ranks, a recorded step's collectives only match the other ranks' when every rank launches
// its step the same way: each says what it can do, and all do the least of it (one sum of two scalars).
StepLaunch agree_on_launch(StepLaunch mine, Communicator& communicator);

}  // namespace ringtrain
