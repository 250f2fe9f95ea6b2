// Session set-up shared by train, summary and bench.
#include "core/cli/session.hpp"

#include <omp.h>

#include <algorithm>
#include <iostream>

#include "core/checkpoint/checkpoint.hpp"

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

Session open_checkpoint_session(const std::string& path, int threads, int processes_on_node) {
  const CheckpointInfo info = read_checkpoint(path);
  RT_CHECK(!info.config_text.empty(), path << ": the checkpoint holds no configuration (attribute config)");
  const ParsedOptions stored = parse_config_text(info.config_text, path + " (its stored configuration)");
  Session session;
  session.config = train_config(stored);
  session.config.threads =
      threads > 0 ? threads : std::max(1, omp_get_num_procs() / std::max(processes_on_node, 1));
  omp_set_num_threads(session.config.threads);
  session.model = make_model(session.config.model);
  session.model->build(session.config.seed, session.config.device);
  session.optimizer =
      make_optimizer(session.config.optimizer, session.model->parameters(), session.config.device);
  restore_checkpoint(path, *session.model, nullptr);
  return session;
}

void print_help(const std::string& usage, const po::options_description& options) {
  std::cout << "usage: " << usage << "\n\n" << options << "\n";
}

}  // namespace ringtrain::cli
