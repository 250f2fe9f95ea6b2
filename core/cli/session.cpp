// Session set-up shared by train, summary and bench.
#include "core/cli/session.hpp"

#include <omp.h>

#include <algorithm>
#include <iostream>

#include "core/checkpoint/checkpoint.hpp"

namespace ringtrain::cli {

namespace {

// Threads (0: the node's cores shared among its processes), the model built from the seed, its optimizer.
Session build_session(TrainConfig config, int processes_on_node) {
  Session session;
  session.config = std::move(config);
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

}  // namespace

Session open_session(const ParsedOptions& options, int processes_on_node) {
  return build_session(train_config(options), processes_on_node);
}

Session open_checkpoint_session(const std::string& path, int threads, int processes_on_node) {
  TrainConfig config =
      train_config(parse_config_text(checkpoint_config_text(path), path + " (its stored configuration)"));
  config.threads = threads;
  Session session = build_session(std::move(config), processes_on_node);
  // Every dataset it loads is read back with its checksum verified.
  restore_checkpoint(path, *session.model, nullptr);
  return session;
}

void print_help(const std::string& usage, const po::options_description& options) {
  std::cout << "usage: " << usage << "\n\n" << options << "\n";
}

}  // namespace ringtrain::cli
