// Session set-up shared by train, summary and bench.
#include "core/cli/session.hpp"

#include <omp.h>

#include <iostream>

namespace ringtrain::cli {

Session open_session(const ParsedOptions& options) {
  Session session;
  session.config = train_config(options);
  if (session.config.threads > 0) omp_set_num_threads(session.config.threads);
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
