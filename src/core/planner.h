// Band sizing: pure arithmetic, no I/O and no clock.
#pragma once

#include <vector>

#include "core/task.h"

namespace taskdist {

/// The paper's split: `slots` bands of about rows/slots each, covering [0, rows). Boundaries are
/// rounded to multiples of `block` (POV-Ray's render block size), so that antialiasing method 1
/// gives the same pixels as a full render. May return fewer bands than slots for small images.
std::vector<RowRange> static_plan(int rows, int slots, int block);

/// What the dynamic policy has learnt about the job so far.
struct CostModel {
  /// Seconds a band costs beyond its tracing (POV-Ray start-up, writing its full-size output).
  double overhead_s = 0;
  /// Seconds of tracing per row, in the most expensive region seen so far.
  double row_cost_s = 0;
  bool measured() const { return row_cost_s > 0 && overhead_s > 0; }
};

struct DynamicSizing {
  /// Largest acceptable share of a band's time spent on overhead, once costs are measured.
  double max_overhead_share = 0.25;
};

/// Rows for the next band of the dynamic policy, taken from `remaining` unassigned rows (the
/// cursor is at a block boundary). Factoring: each band is about remaining/(2*slots) rows, so
/// early bands amortise the fixed start-up cost and late bands balance the tail; once costs are
/// measured, no band is so small that overhead exceeds `max_overhead_share` of it, and no band is
/// larger than an even share of what is left. A result is a multiple of `block`, or `remaining`.
int next_dynamic_rows(int remaining, int slots, int block, const CostModel& model,
                      const DynamicSizing& sizing = {});

}  // namespace taskdist
