// ringtrain's entry point: picks the subcommand, and turns any error into one message and exit code 1.
#include <iostream>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/cli/commands.hpp"
#include "core/cuda/cuda_runtime.hpp"

namespace {

void print_usage() {
  std::cout << "ringtrain " << RINGTRAIN_VERSION << ": data-parallel training of Keras-like models\n\n"
            << "usage: ringtrain COMMAND [options]   (ringtrain COMMAND --help for its options)\n\n"
            << "commands:\n"
            << "  train     train a model from a config file, printing progress and validation metrics\n"
            << "  summary   print the model's layers, output shapes and parameter counts\n"
            << "  bench     time training steps and print images per second\n"
            << "  version   print the version and the backends this build has\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> arguments(argv + std::min(argc, 2), argv + argc);
  const std::string command = argc >= 2 ? argv[1] : "";
  try {
    if (command == "train") return ringtrain::cli::train_command(arguments);
    if (command == "summary") return ringtrain::cli::summary_command(arguments);
    if (command == "bench") return ringtrain::cli::bench_command(arguments);
    if (command == "version" || command == "--version") {
      std::cout << "ringtrain " << RINGTRAIN_VERSION << " (CPU: oneDNN; CUDA: " << ringtrain::cuda::describe()
                << ")\n";
      return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      print_usage();
      return 0;
    }
    print_usage();
    if (!command.empty()) std::cerr << "\nringtrain: error: unknown command '" << command << "'\n";
    return 2;
  } catch (const ringtrain::Error& error) {
    std::cerr << "ringtrain: error: " << error.what() << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "ringtrain: internal error: " << error.what() << std::endl;
  }
  return 1;
}
