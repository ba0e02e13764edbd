// `taskdist bench`: the paper's scaling study, on local slots or on the worker ranks of an MPI job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/study.h"
#include "cmd/command.h"

namespace taskdist {

class BenchCommand : public Command {
 public:
  /// Registers `bench`, its flags and its help text on `parent`.
  explicit BenchCommand(CLI::App& parent);

  bool takes_pov_options() const override { return false; }
  int run_local(const Invocation& invocation) override;
  MasterOutcome run_master(const Invocation& invocation, const MpiSession& session,
                           Channel& channel) override;

  /// The study as the flags ask for it; `launcher` is how the command was started, for the
  /// report ("taskdist", "mpirun -np 9 taskdist"). nullopt (after saying why on stderr) if a
  /// size is not WIDTHxHEIGHT.
  std::optional<BenchRequest> bench_request(const Invocation& invocation,
                                            const std::string& launcher) const;

 private:
  BenchRequest request_;
  std::vector<std::string> sizes_ = {"200x150", "400x300", "800x600", "1600x1200", "3200x2400"};
  std::vector<int> nodes_ = {1, 2, 4, 8};
  std::string out_ = "bench-results";
  bool no_quick_start_ = false;
};

}  // namespace taskdist
