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
/// A first guess of a band's overhead before any band has finished: POV-Ray's fixed start-up
/// and shutdown (~0.65 s, mostly sleeping) plus writing its full-size output (~100 ns a pixel,
/// measured on blob.pov at 3200x2400 with the buffer in memory; ../shared/POVRAY_FACTS.md).
double prior_band_overhead_s(int width, int height);

struct CostModel {
  /// Seconds a band costs beyond its tracing (POV-Ray start-up, writing its full-size output).
  double overhead_s = 0;
  /// Seconds of tracing per row, on average over the rows traced so far.
  double row_cost_s = 0;
  bool measured() const { return row_cost_s > 0 && overhead_s > 0; }
};

struct DynamicSizing {
  /// A band's tracing should take at least this many band overheads.
  double min_work_per_overhead = 0.5;
  /// Take this share of the computed fair share, leaving room to balance the tail.
  double safety = 0.6;
};

/// What the dynamic policy knows when a slot asks for work.
struct DynamicState {
  int total_rows = 0;
  int remaining = 0;          ///< unassigned rows; the cursor is at a block boundary
  int slots = 1;
  int block = 32;
  CostModel model;            ///< row_cost_s == 0 while nothing has been traced
  /// For every other slot: predicted seconds until it can take a band (0: idle now).
  std::vector<double> busy_s;
};

/// Rows for the next band of the dynamic policy.
/// - One slot: everything (nothing to balance, one start-up to pay).
/// - Before any tracing was seen: total/(2*slots) rows (factoring's first batch), so early bands
///   amortise POV-Ray's fixed start-up.
/// - Then: the band that lets every slot finish at the same time, given the other slots'
///   predicted busy time, the mean row cost and the per-band overhead, times `safety`; never so
///   small that overhead dominates it, and everything when what would be left costs less to
///   trace than one band overhead.
/// The result is a multiple of `block`, or `remaining`.
int next_dynamic_rows(const DynamicState& state, const DynamicSizing& sizing = {});

}  // namespace taskdist
