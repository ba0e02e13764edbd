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
  int rows = 0;
  if (st.model.row_cost_s <= 0) {
    rows = round_up(ceil_div(st.total_rows, 2 * st.slots), st.block);
  } else {
    const double r = st.model.row_cost_s;
    const double o = st.model.overhead_s;
    double busy = 0;
    for (double b : st.busy_s) busy += b;
    // Seconds of work per slot from now on, if every slot pays one more band overhead.
    const double share = (busy + remaining * r + o * st.slots) / st.slots;
    const double fair_rows = std::max(0.0, (share - o) / r) * sizing.safety;
    const double min_rows = sizing.min_work_per_overhead * o / r;
    const double want = std::max(fair_rows, min_rows);
    rows = want >= remaining ? remaining : round_up(static_cast<int>(want), st.block);
    if ((remaining - rows) * r < 0.5 * o) rows = remaining;
  }
  rows = std::max(rows, st.block);
  if (remaining - rows < st.block) rows = remaining;
  return std::min(rows, remaining);
}

}  // namespace taskdist
