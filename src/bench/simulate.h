// `taskdist simulate`: the study `taskdist bench` would run, predicted instead of measured — on
// clusters of any size, from this machine's calibration (bench/calibration.h) and the scene's
// cost profile — and, with --against, checked against a study that was measured.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/planner.h"
#include "report/bench_report.h"

namespace taskdist {

struct SimulateRequest {
  std::string scene;                     ///< empty: blob.pov from povray-examples
  std::vector<std::string> pov_options;  ///< the scene's options, less +W/+H
  std::vector<std::pair<int, int>> sizes;
  std::vector<int> nodes;
  std::vector<std::string> policies;  ///< "dynamic", "static"
  int slots_per_node = 1;
  double node_cpu = 0;    ///< CPU a node may use, in cores (a cgroup quota); 0: a core a slot
  double node_speed = 1;  ///< a node's core against this machine's
  /// The nodes are hosts of an emulated cluster sharing this machine's cores (tools/cluster);
  /// 0: separate machines.
  double shared_cores = 0;
  /// The master's link, overriding the calibration's (< 0: the calibration's): seconds a
  /// message takes, bytes a second.
  double latency_s = -1;
  double bandwidth_bytes_s = -1;
  bool quick_start = true;
  std::string povray = "povray";
  /// Empty: default_calibration_file(). Several (made at different times on a machine whose
  /// speed drifts, e.g. before and after a study): a prediction with each, and their mean.
  std::vector<std::filesystem::path> calibrations;
  std::filesystem::path profile_dir;  ///< empty: the renders' own (or, --against, the study's)
  std::filesystem::path out;          ///< results.csv, the figures and simulate.md
  /// A bench's results.csv; several: rounds of one study measured apart (e.g. with a
  /// calibration between them), each point's the median of its runs in them. Empty: none.
  std::vector<std::filesystem::path> against;
  std::string command_line;
};

/// A bench's results.csv, as rows (the columns simulate compares: phases' medians, speedup).
/// The error names the file and the line.
std::expected<std::vector<BenchRow>, Error> read_results_csv(const std::filesystem::path& file);

/// The rows of several results.csv of one study as one: a point's phases and total the median
/// of its rows' medians, its runs the sum.
std::vector<BenchRow> merge_rounds(const std::vector<std::vector<BenchRow>>& rounds);

/// The mean and worst absolute relative error of predicted against measured total time, over
/// the rows of `measured` (method "taskdist") that `predicted` (method "simulate") has too.
struct PredictionError {
  double mean = 0, worst = 0;
  int points = 0;
};
PredictionError prediction_error(const std::vector<BenchRow>& measured,
                                 const std::vector<BenchRow>& predicted);

/// Runs the simulation (or the check against a study) and writes its results. Returns the exit
/// code: 0 done; 1 writing the results failed; 2 bad input (a missing or damaged calibration,
/// an unreadable results.csv, a scene that cannot be found).
int run_simulate(const SimulateRequest& request);

/// What each row of `scene` costs to trace at width x height on this machine (CPU seconds): the
/// scene's simulation profile beside the `calibration` file, made by calibration renders if
/// there is none (1600 wide through the real LocalRunner, their CPU less `startup`: the whole
/// image 3 times for what the rows cost in all, in 8 bands twice for how it is spread).
std::expected<std::vector<double>, Error> traced_row_costs(const std::filesystem::path& scene,
                                                          const std::string& povray, int width,
                                                          int height,
                                                          const std::filesystem::path& calibration,
                                                          const BandOverhead& startup);

/// Runs `taskdist simulate --calibrate`: measures this machine and stores the figures in `file`
/// (empty: default_calibration_file()). Returns the exit code.
int run_calibrate(const std::string& scene, const std::string& povray,
                  const std::filesystem::path& file);

}  // namespace taskdist
