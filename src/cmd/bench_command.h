// `taskdist bench`: the paper's scaling study on this machine — every size x node count x
// policy x method, interleaved, with the paper's own method measured beside ours.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  std::string command_line;           ///< for the report
};

/// "800x600" -> {800, 600}; nullopt unless both are 1..65535.
std::optional<std::pair<int, int>> parse_size(std::string_view text);

/// Runs the study and writes results.csv, the figures and report.md into `out`. Returns the exit
/// code: 0 when the study completed (failed runs are rows with their reason), 2 for bad input.
int run_bench(const BenchRequest& request);

}  // namespace taskdist
