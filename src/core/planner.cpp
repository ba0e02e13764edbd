#include "core/planner.h"

#include <algorithm>
#include <cmath>

namespace taskdist {
namespace {

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

double prior_band_overhead_s(int width, int height) {
  return 0.65 + 0.5e-7 * static_cast<double>(width) * height;
}

std::vector<RowRange> static_plan(int rows, int slots, int block) {
  return weighted_plan(rows, std::vector<double>(static_cast<size_t>(std::max(slots, 0)), 1.0),
                       block);
}

std::vector<RowRange> weighted_plan(int rows, const std::vector<double>& weights, int block) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<RowRange> bands;
  int begin = 0;
  double cumulative = 0;
  for (size_t i = 0; i < weights.size() && begin < rows; ++i) {
    // Ideal boundary at the cumulative share, rounded to the nearest block boundary.
    cumulative += weights[i];
    const auto ideal = static_cast<long long>(std::llround(rows * cumulative / total));
    int end = static_cast<int>((ideal + block / 2) / block * block);
    if (i + 1 == weights.size() || end >= rows) end = rows;
    if (end <= begin) continue;
    bands.push_back({begin, end});
    begin = end;
  }
  return bands;
}

std::vector<RowRange> next_dynamic_batch(int first_row, const DynamicState& st,
                                         const DynamicSizing& sizing) {
  const int remaining = st.remaining;
  if (remaining <= 0) return {};
  if (st.slots <= 1) return {{first_row, first_row + remaining}};
  int rows = 0;
  int smallest_band = st.block;  // what the next batch could not go below
  if (st.model.row_cost_s <= 0) {
    // The first batch, before anything is known: a share of the image, split evenly.
    rows = round_up(
        static_cast<int>(std::lround(sizing.first_wave_share * st.total_rows / st.slots)),
        st.block);
  } else {
    // Factoring: half of an even share of what is left. The cost of rows not traced yet is
    // unknown (an empty sky says nothing about the object below it), so this does not depend
    // on it. Where rows are cheap, bigger bands: at least min_work_per_overhead overheads of
    // tracing at the mean row cost, but never more than an even share of what is left.
    rows = round_up(ceil_div(remaining, 2 * st.slots), st.block);
    const double floor_rows =
        sizing.min_work_per_overhead * st.model.overhead_s / st.model.row_cost_s;
    const int even_share = round_up(ceil_div(remaining, st.slots), st.block);
    smallest_band = std::max(st.block, std::min(even_share, round_up(static_cast<int>(
                                                                std::min(floor_rows, 1e9)),
                                                            st.block)));
    rows = std::max(rows, smallest_band);
  }
  rows = std::max(rows, st.block);
  // If what this batch would leave is less than one band, this is the last batch: share
  // everything evenly instead of leaving a sliver.
  if (remaining - rows * st.slots < smallest_band) {
    rows = std::max(st.block, round_up(ceil_div(remaining, st.slots), st.block));
  }
  std::vector<RowRange> batch;
  int begin = first_row;
  const int end_all = first_row + remaining;
  for (int i = 0; i < st.slots && begin < end_all; ++i) {
    int end = std::min(begin + rows, end_all);
    if (end_all - end < st.block) end = end_all;  // no sliver left behind
    batch.push_back({begin, end});
    begin = end;
  }
  return batch;
}

}  // namespace taskdist
