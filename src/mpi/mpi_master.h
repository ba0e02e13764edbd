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

/// Runs `job` across the worker ranks. Returns the exit code; end_mpi_job() ends the MPI job.
int run_mpi_master(const Job& job, std::chrono::steady_clock::time_point start,
                   const MpiSession& session, Channel& channel, const ClusterOptions& options);

/// Waits for every worker rank's greeting (sent once, when it starts).
std::expected<std::vector<WorkerNode>, Error> greet_workers(const MpiSession& session,
                                                            Channel& channel);

/// Runs one job on `nodes` (greeted, idle): ships the scene, waits until they are ready, renders.
/// Returns the exit code; tells the nodes nothing at the end (see end_mpi_job, and the
/// bench's release of its nodes between runs).
int run_mpi_job(const Job& job, std::chrono::steady_clock::time_point start,
                const std::vector<WorkerNode>& nodes, Channel& channel,
                const ClusterOptions& options, const std::string& master_host,
                RenderObserver* observer = nullptr);

/// Ends the current job on `nodes` and waits (up to `timeout_s`) until each confirms; whatever
/// they sent before is dropped, so nothing of one job reaches the next.
void release_workers(const std::vector<WorkerNode>& nodes, Channel& channel, double timeout_s);

/// Ends the MPI job from rank 0, whatever `code` the master's work ended with (kExitOk: all of
/// it was written, `done_note` says what, e.g. "the image OUT is complete"): tells every worker
/// rank still answering to leave, waits while each keeps answering until it says it is leaving,
/// then leaves MPI. Returns `code`, but does not return where MPI cannot end cleanly:
/// - interrupted (`code` > 128, or a signal now: mpirun is ending every rank): exits at once;
/// - a worker was lost, during the job or now (no message for the node timeout): MPI_Finalize
///   would wait for it forever, so the job ends with MPI_Abort and mpirun exits with `code`,
///   or kExitImageKeptNodeLost where `code` was kExitOk;
/// - MPI_Finalize itself does not return within the node timeout (+ 5 s): exits the same way.
int end_mpi_job(MpiSession& session, Channel& channel, int code,
                const std::string& done_note = "taskdist's work is complete");

}  // namespace taskdist
