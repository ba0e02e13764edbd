// What `taskdist simulate` needs to know of this machine, measured: POV-Ray's fixed cost per band
// and how it grows with the image, the master's own cost per band (the real check, journal and
// assembler code, timed), its sequential parts, and a band's size on the wire. Stored as JSON so
// that a simulation names where each figure came from.
#pragma once

#include <expected>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/planner.h"
#include "core/simulator.h"
#include "engine/local_runner.h"

namespace taskdist {

struct Calibration {
  BandOverhead quick_start;  ///< a band's fixed costs with the quick start (the default)
  BandOverhead plain;        ///< the same with --no-quick-start
  MasterCosts master;
  int cores = 1;  ///< the cores this machine lets taskdist use
  /// CPU per unit of work with every core busy against one core alone (cores share caches,
  /// memory bandwidth, hyper-threads): what hosts of an emulated cluster pay on one machine.
  double busy_cpu_factor = 1;
  /// A povray process's own CPU on a node against here (its start-up: BandOverhead's
  /// process_cpu_s), measured under mpirun (nodes_measured): a node is not this machine
  /// (tools/cluster's hosts at 0.25 CPU start a povray slower: 1.1-1.5x). Its image
  /// buffer, output and tracing are priced as here.
  bool nodes_measured = false;
  double node_process_factor = 1;
  /// The same on hosts that share one machine (tools/cluster), by how many of them start their
  /// bands at once: {hosts, factor}, hosts ascending, measured under mpirun with 1, 2, 4 ...
  /// all of them. Hosts sharing cores start povray slower the more of them start together
  /// (tools/cluster, 8 hosts at 0.25 CPU on 2 cores: 1.1-1.2x alone, 1.6-1.9x all at once).
  /// Empty when not measured (a calibration from before, or a single worker rank).
  std::vector<std::pair<int, double>> shared_process_factors;
  /// A node's CPU for tracing against here's (what the calibration render priced the rows at):
  /// whole 1600x1200 renders of the calibration scene on one node, less their start-up, against
  /// the same rows priced here, measured under mpirun in the same minute. The nodes of
  /// tools/cluster, capped at 0.25 CPU, trace in more CPU than this machine's free core (their
  /// caches go cold between slices of the quota), and this machine's speed moves by a fifth
  /// from one minute to the next: a node's own figure is the reference.
  double node_trace_factor = 1;
  /// A node's own wall seconds per band outside povray and the link: SimCluster::band_s.
  double node_band_s = 0;
  /// The CPU a lone node's povray gets per wall second, over what its slot may use (its quota
  /// over its slots, at most a core): SimCluster::quota_share. From the whole 1600x1200 renders
  /// on one node (their CPU over their wall, median); node_slot_cpu is the slot's CPU it was
  /// measured under. tools/cluster's hosts at 0.25 CPU: 0.93-0.95.
  double node_quota_share = 1;
  double node_slot_cpu = 1;
  /// A band's head start on its quota (SimCluster::quota_head_s): how much sooner than its CPU
  /// over its quota (times node_quota_share) a lone node's 200x150 band ends, median.
  double node_quota_head_s = 0;
  /// The factor a simulation of `nodes` nodes uses: on hosts that share one machine
  /// (`shared`, --shared-cores) and measured, shared_process_factors interpolated linearly in
  /// the hosts (held beyond the first and last); otherwise node_process_factor.
  [[nodiscard]] double process_factor_for(int nodes, bool shared) const;
  std::string host;          ///< where it was measured
  std::string measured_at;   ///< when (UTC, ISO 8601)
  std::string povray;        ///< the POV-Ray measured
  std::string scene;         ///< the scene whose bands gave bytes_per_pixel
  /// Where latency_s and bandwidth_bytes_s come from: measured under MPI, or the defaults.
  std::string network;
  static constexpr int kVersion = 1;
};

/// $TASKDIST_CACHE_DIR, else $XDG_CACHE_HOME/taskdist, else ~/.cache/taskdist; plus
/// "calibration.json".
std::filesystem::path default_calibration_file();

nlohmann::json to_json(const Calibration& c);
/// The error names what is missing or wrong.
std::expected<Calibration, Error> calibration_from_json(const nlohmann::json& j);
/// A missing, unreadable or damaged file is an error that names the file and says to run
/// `taskdist simulate --calibrate`.
std::expected<Calibration, Error> load_calibration(const std::filesystem::path& file);
/// Written durably (synced, renamed into place); the error names the file.
std::expected<void, Error> save_calibration(const Calibration& c,
                                            const std::filesystem::path& file);

/// The network figures when nothing was measured here: Open MPI over TCP between two hosts of
/// tools/cluster (network namespaces on one machine), measured by `tools/cluster mpirun -np 2
/// taskdist simulate --calibrate` (see README, "Predicting a cluster").
constexpr double kDefaultLatencyS = 60e-6;
constexpr double kDefaultBandwidthBytesS = 1.0e9;

struct CalibrateRequest {
  std::filesystem::path scene;  ///< measured scene (bytes per pixel, the sequential parts)
  std::string povray = "povray";
  std::filesystem::path taskdist;  ///< this program, for the sequential parts' render
};

/// Measures this machine (about a minute): one-row and middle-row bands of the scene at
/// 200x150 to 3200x2400, with and without the quick start, through the real LocalRunner; the
/// master's check, journal and assembler on bands of 1 and 64 rows; a small render's first and
/// second sequential parts. `progress` gets a line per step. The error says what failed.
std::expected<Calibration, Error> calibrate(const CalibrateRequest& request,
                                            const std::function<void(const std::string&)>& progress);

/// One band measured on a node: where it lies in its image, its CPU (the process's own count),
/// and what tracing its rows costs on this machine (a calibration render's figures).
struct BandSample {
  int width = 0, height = 0;
  RowRange rows;
  double cpu_s = 0;
  double trace_here_s = 0;
  /// The master's time from handing the band out to having it back, less povray's wall time.
  double outside_s = 0;
  double wall_s = 0;  ///< povray's wall time
};

/// A povray process's own CPU on a node against `here`'s process_cpu_s: the median over
/// `samples` (small whole renders on one node: the others' contention on a shared machine is not
/// a node's start-up) of what is left of cpu_s without their rows and buffer as priced here, over
/// process_cpu_s; 1 if there are none.
double node_process_factor(const std::vector<BandSample>& samples, const BandOverhead& here);

/// Renders `rows` as one band (task `id`) on `runner` and waits for its end (five minutes at
/// most): the band as the runner reports it, or why it failed.
std::expected<TaskFinished, Error> render_band(LocalRunner& runner, RowRange rows, TaskId id);

/// One line per figure a simulation uses, with its value and where it came from.
std::vector<std::string> calibration_figures(const Calibration& c, bool quick_start);

}  // namespace taskdist
