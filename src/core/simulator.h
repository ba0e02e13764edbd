// Predicts a render on a cluster that may not exist: the real Scheduler hands bands to simulated
// slots, event by event, and each band costs what was measured (bench/calibration.h) — POV-Ray's
// start-up, its full-size image buffer and output, the tracing of its rows — at the slot's
// speed; then its trip to the master over one link, and the master's own work on it (check,
// journal with fsync, append to the PNG), one band after another. Pure: no I/O, no clock.
#pragma once

#include <string>
#include <vector>

#include "core/planner.h"
#include "core/scheduler.h"

namespace taskdist {

/// What a band costs outside the nodes, and the master's own sequential parts. Seconds, bytes.
struct MasterCosts {
  double seq1_s = 0;           ///< the master's start to its first band handed out
  double seq1_per_node_s = 0;  ///< more for each node that joins (its hello, the scene)
  double seq2_s = 0;           ///< the last band in to the end (the PNG closed, the report)
  double band_s = 0;           ///< the master's time per band: receive, check, journal, fsync
  double pixel_s = 0;          ///< the same per pixel of the band (check and append)
  double bytes_per_pixel = 0;  ///< a band's encoded size per pixel, sent to the master
  double latency_s = 0;        ///< one message between a node and the master
  double bandwidth_bytes_s = 0;  ///< the master's link; 0: unlimited
  /// The cores the nodes' povrays do not get while they render, on a machine they share
  /// (SimCluster::shared_cores): the master's own CPU, and on tools/cluster the worker ranks' and
  /// MPI's daemons' too.
  double busy_cores = 0;
};

/// The simulated cluster: `nodes` alike, each with `slots_per_node` slots.
struct SimCluster {
  int nodes = 1;
  int slots_per_node = 1;
  /// CPU each slot may use, in cores, as a node measures it (a cgroup quota, e.g. 0.25): the
  /// scheduler sees it (SchedulerConfig::slot_speed), and a band's CPU takes 1/cpu as long.
  double cpu_per_slot = 1;
  /// A core's speed against the one the costs were measured on (2: twice as fast). The
  /// scheduler does not see it, as a real node does not report it.
  double core_speed = 1;
  /// The nodes share one machine of this many cores (tools/cluster: cgroups on one machine); 0:
  /// each node is a machine of its own. Sharing, the slots' CPU is inflated by
  /// `busy_cpu_factor` in the measure the machine is busy (as --calibrate measured it: CPU per
  /// unit of work with every core busy against one), and capped at an even share of the cores
  /// the master leaves (MasterCosts::busy_cores).
  double shared_cores = 0;
  double busy_cpu_factor = 1;
  /// A node's own wall seconds per band outside povray and the link (its worker starting
  /// povray, noticing its end, reading and sending the band), measured under mpirun: the slot
  /// is busy with the band that long more.
  double band_s = 0;
  /// The share of its CPU a slot's povray gets per wall second, as measured under mpirun on a
  /// lone node (tools/cluster's hosts at 0.25 CPU: 0.93-0.95 of it; the kernel's quota is not
  /// all usable): a band's CPU takes 1/(cpu_per_slot * quota_share) as long.
  double quota_share = 1;
  /// A band's head start on its quota, in seconds: the kernel hands a cgroup that was idle its
  /// period's quota at once, so a band ends up to a period (0.1 s) sooner than its CPU over its
  /// quota says, where its slot may run faster than its quota (tools/cluster's hosts at 0.25
  /// CPU alone: 55-115 ms, measured under mpirun). It shrinks as the slots share out the free
  /// cores (shared_cores; none once each gets no more than its quota), never below a full core.
  double quota_head_s = 0;
};

/// What the simulation predicts, and what the time went to.
struct SimResult {
  double seq1_s = 0, parallel_s = 0, seq2_s = 0, total_s = 0;
  int bands = 0;   ///< finished bands, copies that lost not counted
  int copies = 0;  ///< straggler copies started
  /// Over the parallel part: the share of slot time spent tracing, spent on POV-Ray's fixed
  /// cost per band (start-up, buffer, output), and the master's and its link's busy shares.
  double trace_share = 0, fixed_share = 0, master_share = 0, link_share = 0;
  double fixed_per_band_s = 0;  ///< mean fixed cost of a band, wall seconds on its slot
  double trace_per_band_s = 0;  ///< mean tracing of a band, wall seconds on its slot
  int idle_slots = 0;           ///< slots that never got a band
  bool aborted = false;         ///< the scheduler gave up (not expected: nothing fails here)
};

/// Simulates one render. `config` describes the job as a render would build it (rows, width,
/// policy, grain, block, the row costs the scheduler is given, band_startup_s); its slots,
/// slot_nodes and slot_speed are filled from `cluster`. `row_cpu_s`: what each row really costs
/// to trace, in CPU seconds on the measured core (size config.rows). `band`: the measured fixed
/// costs of a band on that core.
SimResult simulate_render(SchedulerConfig config, const SimCluster& cluster,
                          const std::vector<double>& row_cpu_s, const BandOverhead& band,
                          const MasterCosts& master);

/// One sentence: what limits `result` most (the master, its link, POV-Ray's fixed cost per
/// band, slots without a band, the sequential parts, or nothing: the slots trace), with the
/// figure that shows it.
std::string bottleneck(const SimResult& result, const SimCluster& cluster,
                       const MasterCosts& master);

}  // namespace taskdist
