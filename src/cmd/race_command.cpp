#include "cmd/race_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>

#include "engine/exit_codes.h"
#include "exec/cpu_quota.h"
#include "mpi/mpi_race.h"

namespace taskdist {
namespace {

constexpr const char* kRaceHelp =
    R"(The festival demo: one worker renders each image alone while the others render the same
image together, at the same time. With --serve, a web page shows both side by side, filling in,
each with a running clock, then both times and the speedup; it holds them (--hold) and starts
the next scene of the playlist (--loop: forever, until Ctrl-C).

  taskdist race SCENE.pov... [POV-Ray options...] [--solo N] [--team N] [--hold S] [--loop]
                [--serve [ADDR:]PORT [--linger S]] [-o DIR]

On one machine, the solo side is --solo local slots (default 1) and the team side --team slots
(default: the other cores). Under mpirun (e.g. tools/cluster mpirun taskdist race ...), the solo
side is the first worker rank and the team side the other worker ranks (--team N: N of them).
Every race writes DIR/SCENE-solo.png, DIR/SCENE-team.png and DIR/SCENE-race.png (both side by
side with their times, via ImageMagick; if it cannot be made, stderr says why and the race goes
on), and prints a line with both times, the speedup and taskdist's memory (RSS).

Exit codes: 0 the playlist ran through; 1 a render failed; 2 bad option or scene; 4 (under
mpirun) the playlist ran through but a worker node stopped answering (--node-timeout) and the
MPI job was ended with MPI_Abort; 130 Ctrl-C.)";

}  // namespace

RaceCommand::RaceCommand(CLI::App& parent) : Command(parent, "race", kRaceHelp) {
  app_->add_option("scenes", request_.scenes, "the playlist: .pov or .ini files")->required();
  app_->add_option("--solo", solo_, "slots on the solo side (local engine; default 1)")
      ->check(CLI::Range(1, 4096));
  app_->add_option("--team", team_,
                   "the team side: local slots (default: the other cores, at least 1); under "
                   "mpirun, worker nodes (default: every one but the solo node)")
      ->check(CLI::Range(1, 4096));
  app_->add_option("--hold", request_.hold_s,
                   "seconds the result stays before the next scene (default 8)")
      ->check(CLI::Range(0.0, 1e6));
  app_->add_flag("--loop", request_.loop, "play the list forever, until Ctrl-C");
  app_->add_option("--linger", request_.linger_s,
                   "seconds the live view stays up after the last race (default 0)")
      ->check(CLI::Range(0.0, 1e9));
  app_->add_option("--serve", request_.serve,
                   "[ADDR:]PORT of the live view (127.0.0.1 unless an address is given; 0: any "
                   "free port)");
  app_->add_option("-o,--output", request_.out_dir,
                   "folder for both images of each race and the side-by-side PNG (default "
                   "taskdist-race)");
  app_->add_option("--povray", request_.povray, "POV-Ray executable (default: povray)");
  add_node_timeout_option();
}

RaceRequest RaceCommand::race_request(const std::vector<std::string>& pov_options) const {
  RaceRequest request = request_;
  request.pov_args = pov_options;
  return request;
}

int RaceCommand::run_local(const Invocation& invocation) {
  const int team = team_ != 0 ? team_ : std::max(1, default_slots() - solo_);
  return run_race(race_request(invocation.pov_options), *make_local_race_engine(solo_, team));
}

MasterOutcome RaceCommand::run_master(const Invocation& invocation, const MpiSession& session,
                                      Channel& channel) {
  auto engine = make_mpi_race_engine(session, channel, team_, request_.povray != "povray");
  if (!engine) {
    fmt::print(stderr, "taskdist race: {}\n", engine.error());
    return {kExitUsage, std::nullopt};
  }
  return {run_race(race_request(invocation.pov_options), **engine), std::nullopt};
}

}  // namespace taskdist
