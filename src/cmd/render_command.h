// `taskdist render`: runs one job on the local engine and reports it.
#pragma once

#include <chrono>

#include <vector>

#include "core/job.h"
#include "core/runner.h"
#include "report/render_events.h"

namespace taskdist {

/// Exit codes, documented in --help.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRenderFailed = 1;  ///< the scene or POV-Ray failed, or output I/O
inline constexpr int kExitUsage = 2;         ///< bad command line, options or files
inline constexpr int kExitNodeLost = 3;      ///< a worker node was lost; no image (cluster engine)
/// The image is complete and correct, but a worker node was lost (cluster engine): the MPI job
/// had to be ended with MPI_Abort, since MPI_Finalize would have waited for that node.
inline constexpr int kExitImageKeptNodeLost = 4;
inline constexpr int kExitInterrupted = 130; ///< SIGINT (128 + signal number for others)

/// Runs `job` on the local engine (job.slots slots); `program_start` is when the process started
/// (the first sequential part counts from there). Returns the exit code. Prints the timing table
/// on stdout, progress and errors on stderr. `observer`: see run_render_with.
int run_render(const Job& job, std::chrono::steady_clock::time_point program_start,
               RenderObserver* observer = nullptr);

/// Keeps serving a live view after the job (`--linger`) until `seconds` pass or Ctrl-C.
void linger(double seconds, const std::string& url);

/// How the runner's slots are laid out: their number and the node of each (for retries on
/// another node and for excluding a failing one); empty `slot_nodes`: all on one node.
struct EngineLayout {
  int slots = 1;
  std::vector<int> slot_nodes;
  std::vector<double> slot_speed;  ///< cores each slot can count on; empty: one each
};

/// Runs `job` on `runner` (any engine): schedules, assembles, reports. Returns the exit code.
/// `observer` (e.g. a panel of a live view) hears every event; without one, `job.serve` starts
/// the job's own live view.
int run_render_with(const Job& job, std::chrono::steady_clock::time_point program_start,
                    Runner& runner, const EngineLayout& layout,
                    RenderObserver* observer = nullptr);

}  // namespace taskdist
