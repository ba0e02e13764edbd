#include "core/planner.h"

#include <algorithm>
#include <cmath>

namespace taskdist {
namespace {

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

std::vector<RowRange> static_plan(int rows, int slots, int block) {
  std::vector<RowRange> bands;
  int begin = 0;
  for (int i = 1; i <= slots && begin < rows; ++i) {
    // Ideal boundary i*rows/slots, rounded to the nearest block boundary.
    const long long ideal = static_cast<long long>(rows) * i / slots;
    int end = static_cast<int>((ideal + block / 2) / block * block);
    if (i == slots || end >= rows) end = rows;
    if (end <= begin) continue;
    bands.push_back({begin, end});
    begin = end;
  }
  return bands;
}

int next_dynamic_rows(int remaining, int slots, int block, const CostModel& model,
                      const DynamicSizing& sizing) {
  if (remaining <= 0) return 0;
  if (slots <= 1) return remaining;  // one slot: nothing to balance, one start-up to pay
  int rows = round_up(ceil_div(remaining, 2 * slots), block);
  if (model.measured()) {
    const double min_rows =
        model.overhead_s / (sizing.max_overhead_share * model.row_cost_s);
    const int even_share = round_up(ceil_div(remaining, slots), block);
    const int floor_rows = round_up(static_cast<int>(std::min(min_rows, 1e9)), block);
    rows = std::max(rows, std::min(floor_rows, even_share));
  }
  rows = std::max(rows, block);
  // Never leave a sliver smaller than one block-sized band behind.
  if (remaining - rows < block) rows = remaining;
  return std::min(rows, remaining);
}

}  // namespace taskdist
