// summary: the Keras-style table of the model a config describes, laid out without its parameters' memory.
#include <iostream>

#include "core/cli/commands.hpp"
#include "core/cli/help.hpp"
#include "core/cli/session.hpp"
#include "core/comm/agreement.hpp"
#include "core/model/summary.hpp"

namespace ringtrain::cli {

int summary_command(const std::vector<std::string>& arguments, Replica& replica) {
  if (wants_help(arguments)) {
    print_model_command_help("ringtrain summary --config FILE [options]", model_and_training_options());
    return 0;
  }
  const Session session = agree_on(replica.communicator, [&] {
    const ParsedOptions parsed = parse(arguments, run_options());
    refuse_train_only_flags(parsed, "summary");
    Session opened = open_session(parsed, replica.node, ModelUse::describe);
    replica.watch_collectives(opened.config);
    return opened;
  });
  std::cout << model_summary(*session.model, session.config.name);
  return 0;
}

}  // namespace ringtrain::cli
