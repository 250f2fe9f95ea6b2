// Session set-up shared by train, summary and bench.
#include "core/cli/session.hpp"

#include <omp.h>

#include <algorithm>
#include <iostream>

namespace ringtrain::cli {

Session open_session(const ParsedOptions& options, int processes_on_node) {
  Session session;
  session.config = train_config(options);
  if (session.config.threads == 0) {
    session.config.threads = std::max(1, omp_get_num_procs() / std::max(processes_on_node, 1));
  }
  omp_set_num_threads(session.config.threads);
  session.model = make_model(session.config.model);
  session.model->build(session.config.seed, session.config.device);
  session.optimizer =
      make_optimizer(session.config.optimizer, session.model->parameters(), session.config.device);
  return session;
}

void print_help(const std::string& usage, const po::options_description& options) {
  std::cout << "usage: " << usage << "\n\n" << options << "\n";
}

}  // namespace ringtrain::cli
