#include "cmd/command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

namespace taskdist {

Command::Command(CLI::App& parent, const std::string& name, const std::string& help)
    : app_(parent.add_subcommand(name, help)) {}

bool Command::chosen() const { return app_->parsed(); }

void Command::add_node_timeout_option() {
  app_->add_option("--node-timeout", node_timeout_,
                   fmt::format("under MPI: seconds a worker rank may send nothing (it sends a "
                               "heartbeat every 0.1 s) before it is declared lost (default {:g})",
                               kDefaultNodeTimeoutSeconds))
      ->check(CLI::Range(0.5, 1e6));
}

}  // namespace taskdist
