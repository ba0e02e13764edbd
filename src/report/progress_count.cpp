#include "report/progress_count.h"

#include <algorithm>
#include <map>
#include <utility>

namespace taskdist {

double rows_traced(int rows_done, int rows_total, std::span<const TracedShare> in_flight) {
  std::map<std::pair<int, int>, double> farthest;  // by the band's rows
  for (const TracedShare& t : in_flight) {
    double& f = farthest[{t.rows.begin, t.rows.end}];
    f = std::max(f, std::clamp(t.traced, 0.0, 1.0));
  }
  double rows = rows_done;
  for (const auto& [band, traced] : farthest) rows += traced * (band.second - band.first);
  return std::clamp(rows, 0.0, static_cast<double>(std::max(0, rows_total)));
}

std::optional<double> eta_seconds(double rows_traced, int rows_total, double elapsed_s) {
  constexpr double kTooLittleToTell = 0.02;
  if (rows_total <= 0 || elapsed_s < 0) return std::nullopt;
  const double share = std::clamp(rows_traced / rows_total, 0.0, 1.0);
  if (share >= 1) return 0.0;
  if (share <= kTooLittleToTell) return std::nullopt;
  return elapsed_s * (1 - share) / share;
}

}  // namespace taskdist
