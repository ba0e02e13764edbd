// Band sizing: pure arithmetic, no I/O and no clock.
#pragma once

#include <vector>

#include "core/task.h"

namespace taskdist {

/// The paper's split: `slots` bands of about rows/slots each, covering [0, rows). Boundaries are
/// rounded to multiples of `grain` (Job::row_grain(): POV-Ray's render block size where
/// antialiasing method 1 needs it, else 1). May return fewer bands than slots for small images.
std::vector<RowRange> static_plan(int rows, int slots, int grain);

/// Like static_plan, with band i's share of the rows proportional to `weights[i]` (> 0), e.g.
/// the speed of the slot that will render it.
std::vector<RowRange> weighted_plan(int rows, const std::vector<double>& weights, int grain);

/// POV-Ray 3.7's wall time around a band's work, nearly all of it its front end's polling timers
/// (a 16x16 render of blob.pov: 0.68-0.77 s of wall, 0.02 s of CPU; ../shared/POVRAY_FACTS.md),
/// and the same with the quick start (render/quick_start.h, bench/quick_start.sh: 0.06-0.07 s).
constexpr double kPovrayStartupWallS = 0.65;
constexpr double kQuickStartupWallS = 0.06;

/// What a band costs beyond tracing its rows, by where it lies (../shared/POVRAY_FACTS.md and
/// measurements of blob.pov at 3200x2400 with +WT1): POV-Ray's start-up, mostly sleeping; its
/// full-size image buffer; and writing its full-size output, up to the band's rows, read from the
/// nearer end (POV-Ray writes TGA top-down and BMP bottom-up; taskdist stops it once the band's
/// rows are in).
struct BandOverhead {
  double startup_wall_s = kPovrayStartupWallS;
  /// A povray process's own CPU, whatever the band: loading its libraries, reading its options
  /// and the scene, its threads (a one-row band of blob.pov at 200x150: 0.07-0.08 CPU-s in all,
  /// bench/quick_start.sh part 1).
  double process_cpu_s = 0.06;
  double buffer_cpu_per_pixel = 13e-9;   ///< per pixel of the whole image
  double output_cpu_per_pixel = 120e-9;  ///< per pixel written before the band is in
  /// CPU seconds of `band` of a width x height image beyond its tracing: start-up + output.
  double cpu_s(RowRange band, int width, int height) const {
    return startup_cpu_s(width, height) + output_cpu_s(band, width, height);
  }
  /// The part of cpu_s() before tracing: the process and its image buffer.
  double startup_cpu_s(int width, int height) const {
    return process_cpu_s + buffer_cpu_per_pixel * static_cast<double>(width) * height;
  }
  /// The part of cpu_s() spent writing the output.
  double output_cpu_s(RowRange band, int width, int height) const;
};

/// One band per slot, cut so that every slot is predicted to finish at the same time: slot i
/// needs (the trace cost of its rows + BandOverhead::cpu_s) / speeds[i] + the start-up.
/// `row_costs`: predicted trace CPU seconds of each row, its size the image's height. Slots in
/// order take bands from the top, band i for slot i; a slot too slow to help gets an empty one
/// (and the plan may end before the last slots). Boundaries fall on multiples of `grain`.
std::vector<RowRange> balanced_plan(const std::vector<double>& row_costs,
                                    const std::vector<double>& speeds, int grain, int width,
                                    const BandOverhead& overhead = {});

/// A first guess of a band's overhead before any band has finished: POV-Ray's fixed start-up
/// (`startup_wall_s`: kPovrayStartupWallS, or kQuickStartupWallS with the quick start) plus
/// writing its full-size output up to the band's last row, read from the nearer end: at most
/// half the image, at ~100 ns a pixel (measured on blob.pov at 3200x2400 with the buffer in
/// memory; ../shared/POVRAY_FACTS.md).
double prior_band_overhead_s(int width, int height, double startup_wall_s = kPovrayStartupWallS);

/// What the dynamic policy has learnt about the job so far.
struct CostModel {
  /// Seconds a band costs beyond its tracing (POV-Ray start-up, writing its full-size output).
  double overhead_s = 0;
  /// Seconds of tracing per row, on average over the rows traced so far.
  double row_cost_s = 0;
};

struct DynamicSizing {
  /// Share of the image that the first wave (one band per slot) covers before anything is known.
  double first_wave_share = 0.7;
  /// The same for an animation: all of it (runs of frames/slots frames, at most
  /// max_frames_per_task). Frames of a scene cost alike more often than its rows do, a run pays
  /// POV-Ray's start-up once, and at the tail an idle slot takes the frames a run has not begun
  /// (Scheduler: split_runs), so the tail is balanced frame by frame without a copy.
  double first_wave_share_frames = 1.0;
  /// Where rows are cheap, a band's tracing should take at least this many band overheads.
  /// With the quick start a band's overhead is mostly its full-size output: CPU that competes
  /// with the tracing of the other slots, not sleep as POV-Ray's start-up was. At 1 the quick
  /// start made blob.pov 3200x2400 -j2 cut 6 bands instead of 4 and take 6.4 s instead of 5.4 s
  /// (bench/quick_start.sh part 3); at 2 it cuts 4 there and still cuts small bands where the
  /// output is cheap.
  double min_work_per_overhead = 2.0;
  /// An animation: a task renders at most this many frames, which bounds what a retry or a
  /// straggler's copy renders again and keeps the tail balanced; POV-Ray's fixed start-up
  /// (~0.7 s, mostly sleeping) is still paid only once per 8 frames.
  int max_frames_per_task = 8;
};

/// What the dynamic policy knows when a slot asks for work.
struct DynamicState {
  int total_rows = 0;
  int remaining = 0;          ///< unassigned rows; the cursor is at a multiple of grain
  int slots = 1;
  int block = 32;             ///< the smallest band (POV-Ray's render block size)
  int grain = 32;             ///< band boundaries fall on multiples of it (Job::row_grain())
  /// An animation's frame height (0: a still): a band of a frame or more is whole frames, and a
  /// smaller one an equal share of a frame that ends at the frame's end at the latest.
  int unit = 0;
  CostModel model;            ///< row_cost_s == 0 while nothing has been traced
  /// Predicted cost of each row (any unit; a CostProfile's), indexed like first_row; null or
  /// too short: unknown, and bands are cut by rows.
  const std::vector<double>* row_costs = nullptr;
};

/// The next batch of the dynamic policy: up to `slots` equal bands starting at `first_row`
/// (factoring, with a floor where rows are cheap):
/// - one slot: everything in one band (nothing to balance, one start-up to pay);
/// - the first batch, before anything was traced: first_wave_share of the image;
/// - later batches: bands of half an even share of the rows left, so early bands amortise
///   POV-Ray's fixed start-up and late bands balance the tail; but, once costs are measured, at
///   least min_work_per_overhead band overheads of tracing at the mean row cost, capped at an
///   even share of what is left;
/// - a batch that would leave less than a band for every slot shares everything evenly.
/// With row costs, each band takes the share of the cost left that the rows above would be of
/// the rows left: bands over costly rows are shorter.
/// Bands start on multiples of `grain` (relative to `first_row`, itself a multiple).
std::vector<RowRange> next_dynamic_batch(int first_row, const DynamicState& state,
                                         const DynamicSizing& sizing = {});

}  // namespace taskdist
