// One subcommand of taskdist (render, bench, race): its flags and help text, registered once with
// CLI11, and what it runs in each place a launch can put it (launch.h chooses the place).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mpi/channel.h"
#include "mpi/mpi_session.h"
#include "mpi/worker.h"

namespace CLI {
class App;
}

namespace taskdist {

/// What a command runs with besides its parsed flags.
struct Invocation {
  std::vector<std::string> args;                ///< the command line, without the program's name
  std::vector<std::string> pov_options;         ///< POV-Ray options, split off before CLI11 parsed
  std::chrono::steady_clock::time_point start;  ///< when the program started
};

/// How the master's part of a command ended, for end_mpi_job: the exit code and, where it is 0,
/// what was done (nullopt: end_mpi_job's own words).
struct MasterOutcome {
  int code = 0;
  std::optional<std::string> done_note;
};

/// A subcommand. It registers itself on the app when constructed; CLI11 then fills its members
/// as it parses, so a command lives as long as the app.
class Command {
 public:
  virtual ~Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  /// The subcommand as CLI11 knows it: its flags, their names and whether they take a value.
  const CLI::App& app() const { return *app_; }
  /// True once CLI11 has parsed a command line that names this subcommand.
  bool chosen() const;
  /// True if POV-Ray options may be among its arguments: they are split off before CLI11 sees
  /// the command line (arg_split.h).
  virtual bool takes_pov_options() const = 0;
  /// Seconds a worker rank may send nothing before it is lost (--node-timeout).
  double node_timeout() const { return node_timeout_; }
  /// How a worker rank serves this command.
  virtual WorkerOptions worker_options() const { return {}; }

  /// Runs on this machine alone (no launcher, or one rank). Returns the exit code.
  virtual int run_local(const Invocation& invocation) = 0;
  /// Runs as rank 0 of an MPI job whose worker ranks `channel` reaches; the caller ends the MPI
  /// job with the outcome.
  virtual MasterOutcome run_master(const Invocation& invocation, const MpiSession& session,
                                   Channel& channel) = 0;

 protected:
  /// Adds the subcommand `name` to `parent`, with `help` as its description.
  Command(CLI::App& parent, const std::string& name, const std::string& help);
  /// Registers --node-timeout, with the same help text in every subcommand.
  void add_node_timeout_option();

  CLI::App* const app_;  ///< owned by the parent app

 private:
  double node_timeout_ = kDefaultNodeTimeoutSeconds;
};

}  // namespace taskdist
