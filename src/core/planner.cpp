#include "core/planner.h"

#include <algorithm>
#include <cmath>

namespace taskdist {
namespace {

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

double prior_band_overhead_s(int width, int height, double startup_wall_s) {
  return startup_wall_s + 0.5e-7 * static_cast<double>(width) * height;
}

double BandOverhead::output_cpu_s(RowRange band, int width, int height) const {
  const double rows_written = std::min(band.end, height - band.begin);
  return output_cpu_per_pixel * width * rows_written;
}

std::vector<RowRange> balanced_plan(const std::vector<double>& row_costs,
                                    const std::vector<double>& speeds, int grain, int width,
                                    const BandOverhead& overhead) {
  const int rows = static_cast<int>(row_costs.size());
  if (rows == 0 || speeds.empty()) return {};
  std::vector<double> prefix(row_costs.size() + 1, 0);
  for (size_t r = 0; r < row_costs.size(); ++r) prefix[r + 1] = prefix[r] + row_costs[r];
  auto seconds = [&](int begin, int end, double speed) {
    return (prefix[static_cast<size_t>(end)] - prefix[static_cast<size_t>(begin)] +
            overhead.cpu_s({begin, end}, width, rows)) /
               std::max(speed, 1e-3) +
           overhead.startup_wall_s;
  };
  // The bands of a makespan: each slot in turn takes as many grains of rows as fit in it.
  auto cut = [&](double makespan) {
    std::vector<RowRange> bands;
    int begin = 0;
    for (size_t i = 0; i < speeds.size() && begin < rows; ++i) {
      int lo = 0, hi = ceil_div(rows - begin, grain);  // grains that fit: lo yes, beyond hi no
      while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        const int end = std::min(rows, begin + mid * grain);
        if (seconds(begin, end, speeds[i]) <= makespan) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      if (lo == 0) {
        bands.push_back({begin, begin});
        continue;
      }
      const int end = std::min(rows, begin + lo * grain);
      bands.push_back({begin, end});
      begin = end;
    }
    return std::pair{bands, begin >= rows};
  };
  double fastest = 0;
  for (double s : speeds) fastest = std::max(fastest, s);
  double lo = 0, hi = seconds(0, rows, fastest);  // one slot for everything always fits
  for (int i = 0; i < 50 && hi - lo > 1e-4 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (cut(mid).second ? hi : lo) = mid;
  }
  auto [bands, covered] = cut(hi);
  if (!covered) return weighted_plan(rows, speeds, grain);  // not expected: hi always fits
  return bands;
}

std::vector<RowRange> static_plan(int rows, int slots, int grain) {
  return weighted_plan(rows, std::vector<double>(static_cast<size_t>(std::max(slots, 0)), 1.0),
                       grain);
}

std::vector<RowRange> weighted_plan(int rows, const std::vector<double>& weights, int grain) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<RowRange> bands;
  int begin = 0;
  double cumulative = 0;
  for (size_t i = 0; i < weights.size() && begin < rows; ++i) {
    // Ideal boundary at the cumulative share, rounded to the nearest multiple of the grain.
    cumulative += weights[i];
    const auto ideal = static_cast<long long>(std::llround(rows * cumulative / total));
    int end = static_cast<int>((ideal + grain / 2) / grain * grain);
    if (i + 1 == weights.size() || end >= rows) end = rows;
    if (end <= begin) continue;
    bands.push_back({begin, end});
    begin = end;
  }
  return bands;
}

namespace {

// The batch of next_dynamic_batch with a cost per row: each band gets the share of the cost
// left that `rows` is of the rows left (at least min_work_per_overhead band overheads of it),
// so that bands over costly rows are shorter.
std::vector<RowRange> cut_by_cost(int first_row, int end_all, int rows, const DynamicState& st,
                                  const DynamicSizing& sizing) {
  const std::vector<double>& cost = *st.row_costs;
  double left = 0;
  for (int r = first_row; r < end_all; ++r) left += cost[static_cast<size_t>(r)];
  const int remaining = end_all - first_row;
  double band_cost = left * std::min(1.0, static_cast<double>(rows) / remaining);
  if (st.model.overhead_s > 0) {
    band_cost = std::max(band_cost, std::min(left / st.slots,
                                              sizing.min_work_per_overhead * st.model.overhead_s));
  }
  const bool last_batch = static_cast<long long>(rows) * st.slots >= remaining;
  if (last_batch) band_cost = left / st.slots;
  if (!(band_cost > 0)) return {};  // nothing known to be costly: the caller cuts by rows
  std::vector<RowRange> batch;
  int begin = first_row;
  for (int i = 0; i < st.slots && begin < end_all; ++i) {
    int end = begin;
    double sum = 0;
    // Whole grains while the band is short of its cost (the grain that crosses it goes in if
    // it is more than half needed); at least a block's worth of rows.
    while (end < end_all) {
      const int next = std::min(end_all, end + st.grain);
      double grain_cost = 0;
      for (int r = end; r < next; ++r) grain_cost += cost[static_cast<size_t>(r)];
      if (end - begin >= st.block && sum + 0.5 * grain_cost > band_cost) break;
      sum += grain_cost;
      end = next;
    }
    if (i + 1 == st.slots && last_batch) end = end_all;
    if (end_all - end < st.block) end = end_all;  // no sliver left behind
    batch.push_back({begin, end});
    begin = end;
  }
  return batch;
}

}  // namespace

std::vector<RowRange> next_dynamic_batch(int first_row, const DynamicState& st,
                                         const DynamicSizing& sizing) {
  const int remaining = st.remaining;
  if (remaining <= 0) return {};
  // One slot: one band (nothing to balance, one start-up); an animation's frames in a few runs,
  // so that frames are written as the render goes, never cut into bands.
  if (st.slots <= 1 && st.unit == 0) return {{first_row, first_row + remaining}};
  int rows = 0;
  int smallest_band = st.block;  // what the next batch could not go below
  if (st.model.row_cost_s <= 0) {
    // The first batch, before anything is known: a share of the image, split evenly.
    const double share = st.unit > 0 ? sizing.first_wave_share_frames : sizing.first_wave_share;
    rows = round_up(static_cast<int>(std::lround(share * st.total_rows / st.slots)), st.grain);
  } else {
    // Factoring: half of an even share of what is left. The cost of rows not traced yet is
    // unknown (an empty sky says nothing about the object below it), so this does not depend
    // on it. Where rows are cheap, bigger bands: at least min_work_per_overhead overheads of
    // tracing at the mean row cost, but never more than an even share of what is left.
    rows = round_up(ceil_div(remaining, 2 * st.slots), st.grain);
    const double floor_rows =
        sizing.min_work_per_overhead * st.model.overhead_s / st.model.row_cost_s;
    const int even_share = round_up(ceil_div(remaining, st.slots), st.grain);
    smallest_band = std::max(st.block, std::min(even_share, round_up(static_cast<int>(
                                                                std::min(floor_rows, 1e9)),
                                                            st.grain)));
    rows = std::max(rows, smallest_band);
  }
  rows = std::max(rows, round_up(st.block, st.grain));
  // If what this batch would leave is less than one band, this is the last batch: share
  // everything evenly instead of leaving a sliver.
  if (remaining - rows * st.slots < smallest_band) {
    rows = std::max(round_up(st.block, st.grain), round_up(ceil_div(remaining, st.slots), st.grain));
  }
  const int end_all = first_row + remaining;
  if (st.unit > 0 && st.slots <= 1) rows = std::max(rows, st.unit);
  if (st.unit > 0 && rows >= st.unit) {
    // Whole frames: one povray renders them all, its start-up paid once.
    const long frames = std::clamp(std::lround(static_cast<double>(rows) / st.unit), 1L,
                                   static_cast<long>(std::max(1, sizing.max_frames_per_task)));
    rows = static_cast<int>(frames) * st.unit;
  } else if (st.unit > 0) {
    // Part of a frame: an equal share of it, on the grain (the batch cuts at frame ends).
    rows = std::min(st.unit, round_up(ceil_div(st.unit, ceil_div(st.unit, rows)), st.grain));
  }
  if (st.row_costs != nullptr && (st.unit == 0 || rows < st.unit) &&
      static_cast<int>(st.row_costs->size()) >= end_all) {
    if (auto batch = cut_by_cost(first_row, end_all, rows, st, sizing); !batch.empty()) {
      return batch;
    }
  }
  std::vector<RowRange> batch;
  int begin = first_row;
  for (int i = 0; i < st.slots && begin < end_all; ++i) {
    int end = std::min(begin + rows, end_all);
    if (end_all - end < st.block) end = end_all;  // no sliver left behind
    // Part of a frame never crosses into the next: the rest of the frame is a band of its own.
    if (st.unit > 0 && rows < st.unit) end = std::min(end, (begin / st.unit + 1) * st.unit);
    batch.push_back({begin, end});
    begin = end;
  }
  return batch;
}

}  // namespace taskdist
