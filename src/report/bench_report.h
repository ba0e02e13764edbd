// The scaling study's results: per-combination statistics, results.csv, gnuplot figures in the
// style of the paper's Figures 7, 9 and 10, and report.md tying them to the machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace taskdist {

/// One run of one combination.
struct BenchSample {
  std::string method;   ///< "taskdist" or "paper"
  std::string policy;   ///< "dynamic", "static", or "-" for the paper's method
  int width = 0, height = 0, nodes = 1;
  bool ok = false;
  std::string error;    ///< why it failed, if it did
  double seq1_s = 0, parallel_s = 0, seq2_s = 0, total_s = 0;
  uint64_t master_peak_rss_bytes = 0;
  uint64_t worker_peak_rss_bytes = 0;  ///< the largest of any renderer (or convert) on a node
};

struct Stats {
  double mean = 0, median = 0, min = 0, max = 0;
};

/// One row of results.csv: a combination over its repeats.
struct BenchRow {
  std::string method, policy;
  int width = 0, height = 0, nodes = 1;
  int runs = 0, ok_runs = 0;
  std::string status;  ///< "ok", or the first failure
  Stats seq1, parallel, seq2, total;
  double speedup = 0, efficiency = 0;          ///< against the same method/policy on 1 node
  double seq1_pct = 0, parallel_pct = 0, seq2_pct = 0;  ///< shares of the median total
  uint64_t master_peak_rss_bytes = 0;          ///< the largest over the repeats
  uint64_t worker_peak_rss_bytes = 0;          ///< the largest over the repeats
};

std::vector<BenchRow> aggregate(const std::vector<BenchSample>& samples);

/// The column names of results.csv, in order.
std::vector<std::string> csv_columns();
std::expected<void, Error> write_csv(const std::vector<BenchRow>& rows,
                                     const std::filesystem::path& path);

/// Writes the figures' data and a gnuplot script into `dir` and runs gnuplot: fig7_phases.png,
/// fig9_speedup.png (with the paper's own speedups from `paper_csv`), fig10_shares.png,
/// efficiency.png. The error says what failed.
std::expected<void, Error> write_plots(const std::vector<BenchRow>& rows,
                                       const std::filesystem::path& dir,
                                       const std::filesystem::path& paper_csv);

/// report.md: the machine, the command, what a node is (`nodes`), the table and the figures.
std::expected<void, Error> write_report(const std::vector<BenchRow>& rows,
                                        const std::filesystem::path& dir,
                                        const std::string& command, const std::string& nodes);

/// Writes `text` into `path`; the error names the file.
std::expected<void, Error> write_text(const std::filesystem::path& path, const std::string& text);

/// Median of `values` (0 if empty).
double median(std::vector<double> values);

}  // namespace taskdist
