// `taskdist race`: the festival demo. One worker renders each image alone while the others render
// the same image together, at the same time; the live view shows both side by side with running
// clocks, then both times and the speedup, holds them, and starts the next scene.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/job.h"
#include "report/render_events.h"

namespace taskdist {

struct RaceRequest {
  std::vector<std::string> scenes;    ///< the playlist
  std::vector<std::string> pov_args;  ///< POV-Ray options for every scene (+W, +H, +A...)
  double hold_s = 8;                  ///< how long the result stays before the next scene
  bool loop = false;                  ///< play the list forever (until Ctrl-C)
  std::string serve;                  ///< live view on [ADDR:]PORT; empty: none
  double linger_s = 0;                ///< the live view stays up this long after the last race
  std::string out_dir = "taskdist-race";
  std::string povray = "povray";
};

/// Where the two sides render: local slots, or worker nodes under MPI.
class RaceEngine {
 public:
  virtual ~RaceEngine() = default;
  /// e.g. "slot" / "3 slots", or "node (node1)" / "4 nodes".
  virtual std::string solo_label() const = 0;
  virtual std::string team_label() const = 0;
  /// Renders `job` on the solo side or the team side (called from two threads at once).
  virtual int run(const Job& job, bool team, std::chrono::steady_clock::time_point start,
                  RenderObserver& observer) = 0;
};

/// Solo: `solo` local slots; team: `team` local slots.
std::unique_ptr<RaceEngine> make_local_race_engine(int solo, int team);

/// Plays the race. Returns the exit code (0 when the playlist ran through).
int run_race(const RaceRequest& request, RaceEngine& engine);

}  // namespace taskdist
