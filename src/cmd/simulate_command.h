// `taskdist simulate`: predicts a render's phases and speedup on clusters of any size from this
// machine's calibration and the scene's cost profile (bench/simulate.h); --calibrate measures.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/simulate.h"
#include "cmd/command.h"

namespace taskdist {

class SimulateCommand : public Command {
 public:
  /// Registers `simulate`, its flags and its help text on `parent`.
  explicit SimulateCommand(CLI::App& parent);

  bool takes_pov_options() const override { return true; }
  int run_local(const Invocation& invocation) override;
  /// Under mpirun: rank 0 measures its link to rank 1 for --calibrate, or simulates.
  MasterOutcome run_master(const Invocation& invocation, const MpiSession& session,
                           Channel& channel) override;

 private:
  /// The request as the flags and POV-Ray options ask for it; nullopt after saying why.
  std::optional<SimulateRequest> simulate_request(const Invocation& invocation) const;
  /// The file --calibrate writes ("": the default); nullopt, after saying why, if more than one
  /// --calibration was given.
  std::optional<std::string> calibration_to_write() const;

  SimulateRequest request_;
  std::string scene_;
  std::vector<std::string> sizes_;
  std::vector<std::string> calibrations_;
  std::string profile_dir_;
  std::string out_ = "simulate-results";
  std::vector<std::string> against_;
  bool calibrate_ = false;
  bool no_quick_start_ = false;
};

}  // namespace taskdist
