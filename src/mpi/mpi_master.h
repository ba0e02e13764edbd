// Rank 0 of an MPI job: greets the worker ranks, ships them the scene, then runs the same render
// loop as the local engine on an MpiRunner.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "mpi/channel.h"
#include "mpi/mpi_runner.h"
#include "mpi/mpi_session.h"
#include "report/render_events.h"

namespace taskdist {

struct ClusterOptions {
  int master_slots = 0;     ///< bands the master renders itself (default none)
  std::optional<std::filesystem::path> scene_dir;  ///< folder to ship (default: the scene's)
  bool shared_dir = false;  ///< every node sees the scene at the same path: ship nothing
  uint64_t scene_limit_bytes = 64ull << 20;
  bool povray_given = false;
};

/// Runs `job` across the worker ranks. Returns the exit code; the workers have been told to
/// leave when it returns (unless the job is being killed).
int run_mpi_master(const Job& job, std::chrono::steady_clock::time_point start,
                   const MpiSession& session, Channel& channel, const ClusterOptions& options);

/// Waits for every worker rank's greeting (sent once, when it starts).
std::expected<std::vector<WorkerNode>, std::string> greet_workers(const MpiSession& session,
                                                                 Channel& channel);

/// Runs one job on `nodes` (greeted, idle): ships the scene, waits until they are ready, renders.
/// Returns the exit code; tells the nodes nothing at the end (see dismiss_workers, and the
/// bench's release of its nodes between runs).
int run_mpi_job(const Job& job, std::chrono::steady_clock::time_point start,
                const std::vector<WorkerNode>& nodes, Channel& channel,
                const ClusterOptions& options, const std::string& master_host,
                RenderObserver* observer = nullptr);

/// Ends the current job on `nodes` and waits (up to `timeout_s`) until each confirms; whatever
/// they sent before is dropped, so nothing of one job reaches the next.
void release_workers(const std::vector<WorkerNode>& nodes, Channel& channel, double timeout_s);

/// Tells every worker rank to leave (the master could not start a job).
void dismiss_workers(const MpiSession& session, Channel& channel);

}  // namespace taskdist
