#include "core/planner.h"

#include <algorithm>
#include <cmath>

namespace taskdist {
namespace {

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

double prior_band_overhead_s(int width, int height) {
  return 0.65 + 1.0e-7 * static_cast<double>(width) * height;
}

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

int next_dynamic_rows(const DynamicState& st, const DynamicSizing& sizing) {
  const int remaining = st.remaining;
  if (remaining <= 0) return 0;
  if (st.slots <= 1) return remaining;
  // Factoring: half of an even share of what is left. The cost of rows not traced yet is
  // unknown (an empty sky says nothing about the object below it), so this does not depend on it.
  const int base = st.model.row_cost_s <= 0 ? st.total_rows : remaining;
  int rows = round_up(ceil_div(base, 2 * st.slots), st.block);
  if (st.model.row_cost_s > 0 && st.model.overhead_s > 0) {
    // Where rows are cheap, bigger bands: a band should trace for at least
    // min_work_per_overhead overheads, but never take more than an even share of what is left.
    const double floor_rows =
        sizing.min_work_per_overhead * st.model.overhead_s / st.model.row_cost_s;
    const int even_share = round_up(ceil_div(remaining, st.slots), st.block);
    rows = std::max(rows, std::min(even_share, round_up(static_cast<int>(
                                                            std::min(floor_rows, 1e9)),
                                                        st.block)));
  }
  rows = std::max(rows, st.block);
  if (remaining - rows < st.block) rows = remaining;  // no sliver left behind
  return std::min(rows, remaining);
}

}  // namespace taskdist
