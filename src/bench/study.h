// `taskdist bench`: the paper's scaling study on this machine — every size x node count x
// policy x method, interleaved, with the paper's own method measured beside ours.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/task.h"
#include "exec/command_chains.h"
#include "report/bench_report.h"

namespace taskdist {

struct BenchRequest {
  std::string scene;  ///< empty: blob.pov from povray-examples
  std::vector<std::pair<int, int>> sizes;
  std::vector<int> nodes;
  int repeat = 3;
  std::vector<std::string> policies;  ///< "dynamic", "static"
  std::vector<std::string> methods;   ///< "taskdist", "paper"
  std::filesystem::path out;
  std::string povray = "povray";
  std::string convert = "/usr/bin/convert";  ///< ImageMagick, for the paper's method
  bool quick_start = true;            ///< taskdist's runs with the quick start (--no-quick-start)
  std::string command_line;           ///< for the report
};

/// The scene a study or simulation runs: `given`, absolute, or blob.pov of povray-examples.
std::filesystem::path study_scene(const std::string& given);

/// "800x600" -> {800, 600}; nullopt unless both are 1..65535.
std::optional<std::pair<int, int>> parse_size(std::string_view text);
/// Each of `texts` (--sizes) parsed and appended to `sizes`; false after saying on stderr which
/// one is not WIDTHxHEIGHT (`command`: "taskdist bench", for the message).
bool parse_sizes(const std::vector<std::string>& texts, std::string_view command,
                 std::vector<std::pair<int, int>>& sizes);

/// One run of the study, as an engine needs it.
struct BenchRun {
  std::string method, policy;
  int width = 0, height = 0, nodes = 1;
  std::filesystem::path scene;  ///< absolute, on the master
  std::string povray;           ///< resolved on the master
  bool povray_given = false;    ///< --povray given: the same path on every node
  std::string convert;          ///< ImageMagick convert, resolved on the master
  std::filesystem::path dir;    ///< scratch for this run, removed after it
  /// The study's own cost profiles (--out/profiles): what earlier runs of the study measured,
  /// not what renders outside it did.
  std::filesystem::path profile_dir;
  bool quick_start = true;  ///< taskdist's runs: the quick start where it works
};

/// Where the study's runs happen: local slots, or worker ranks under MPI.
class BenchEngine {
 public:
  virtual ~BenchEngine() = default;
  /// The most nodes one run can use; 0: no limit.
  virtual int max_nodes() const = 0;
  /// What a node is, for report.md.
  virtual std::string describe() const = 0;
  virtual BenchSample run(const BenchRun& run) = 0;
};

/// Nodes are local slots: `taskdist render -j N` as a child process; the paper's method as N
/// local processes.
std::unique_ptr<BenchEngine> make_local_bench_engine();

/// The paper's commands for one node: povray writes the full-height PNG `full` of `band` (rows
/// [begin, end)), then convert -extract keeps the band's rows in `part`.
CommandChain paper_band_chain(const std::string& povray, const std::string& convert,
                              const std::filesystem::path& scene, int width, int height,
                              RowRange band, const std::filesystem::path& full,
                              const std::filesystem::path& part);

/// The master's part of the paper's method: `convert PARTS... -append paper.png` in run.dir.
ChainsResult append_parts(const BenchRun& run, const std::vector<std::string>& parts);

/// A sample for `run`, not measured yet (ok = false).
BenchSample sample_for(const BenchRun& run);

/// Fills the phases and peak memory of `sample` from a `taskdist render --report` file; false
/// (with sample.error set) if it cannot.
bool read_render_report(const std::filesystem::path& report, BenchSample& sample);

/// Runs the study on `engine` and writes results.csv, the figures and report.md into `out`.
/// Returns the exit code: 0 when the study completed (failed runs are rows with their reason),
/// 2 for bad input.
int run_bench(const BenchRequest& request, BenchEngine& engine);

}  // namespace taskdist
