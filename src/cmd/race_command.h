// `taskdist race`: the festival demo, one worker against the others, on local slots or on the
// worker ranks of an MPI job.
#pragma once

#include <string>
#include <vector>

#include "cmd/command.h"
#include "race/race.h"

namespace taskdist {

class RaceCommand : public Command {
 public:
  /// Registers `race`, its flags and its help text on `parent`.
  explicit RaceCommand(CLI::App& parent);

  bool takes_pov_options() const override { return true; }
  int run_local(const Invocation& invocation) override;
  MasterOutcome run_master(const Invocation& invocation, const MpiSession& session,
                           Channel& channel) override;

  /// The playlist and its settings as the flags and `pov_options` ask for them.
  RaceRequest race_request(const std::vector<std::string>& pov_options) const;

 private:
  RaceRequest request_;
  int solo_ = 1;
  int team_ = 0;  ///< 0: the default for the engine (local: the other cores; MPI: the other nodes)
};

}  // namespace taskdist
