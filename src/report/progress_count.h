// What the progress shows: rows traced out of the image's rows, and the time left. Pure, so the
// terminal line and the live view show the same figure, and it is tested without a render.
#pragma once

#include <optional>
#include <span>

#include "core/task.h"

namespace taskdist {

/// A task in flight as progress sees it: its rows and the share of them traced so far.
struct TracedShare {
  RowRange rows;
  double traced = 0;  ///< 0..1 (clamped)
};

/// Finished rows plus the traced rows of every band in flight. A band and the copies of it
/// (tasks in flight with the same rows) count once, as far as the farthest of them has got.
/// Never more than `rows_total`, never negative.
double rows_traced(int rows_done, int rows_total, std::span<const TracedShare> in_flight);

/// Seconds left at the pace so far, or nothing while too little is traced to tell (under 2%).
/// Never negative: 0 once every row is traced.
std::optional<double> eta_seconds(double rows_traced, int rows_total, double elapsed_s);

}  // namespace taskdist
