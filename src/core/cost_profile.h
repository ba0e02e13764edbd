// What rows of a scene cost to trace, learnt from the bands of earlier runs.
//
// A scene's cost is uneven (an empty sky is cheap, the objects below it are not), and on slow,
// capped nodes every extra band costs a whole POV-Ray start-up and full-size output, so the
// dynamic policy cuts one band per slot there. Cut by row count, the slot that gets the costliest
// rows decides the run (blob.pov at 3200x2400 on 8 emulated nodes at 0.25 CPU: bands of 1.4 to
// 3.5 CPU-s). Cut by predicted cost, the bands finish together.
//
// The profile is kept per scene (its files, options and aspect ratio: see profile_key()) as
// trace CPU seconds per pixel over the height of the image, in fractions of it, so that a run at
// one size predicts another. It is pure data; store/profile_store.h reads and writes it.
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace taskdist {

/// One band's measurement: rows [begin, end) as fractions of the image height, and the CPU
/// seconds per pixel its tracing took.
struct CostSample {
  double begin = 0;
  double end = 0;
  double cpu_per_pixel = 0;
  bool operator==(const CostSample&) const = default;
};

class CostProfile {
 public:
  /// Adds a run's bands, measured on a width x height image (0 x 0: a size not known, as in a
  /// profile of version 1). Of each size the newest kRunsKept runs are kept, and kRunsKeptInAll
  /// runs in all.
  void add_run(std::vector<CostSample> samples, int width = 0, int height = 0);
  bool empty() const { return runs_.empty(); }
  /// The runs (and their bands) that row_costs(width, height) uses.
  int runs(int width, int height) const { return static_cast<int>(used(width, height).size()); }
  int samples(int width, int height) const;
  /// The runs kept of exactly width x height.
  int runs_at(int width, int height) const;
  /// All runs kept, of every size.
  int runs() const { return static_cast<int>(runs_.size()); }

  /// Predicted CPU seconds of each row of a width x height image: a density over the height
  /// that agrees with every band kept (see density()), so bands of several runs cut at other
  /// rows resolve more than any one run does; newer runs win where runs disagree. Runs at this
  /// size only, where there are any: a run at another size carries other errors (its bands'
  /// start-up and output taken off by a model, tracing too short to measure at small sizes),
  /// and a study that goes through its sizes in turn would otherwise plan each size from the
  /// others' runs (blob.pov on 8 emulated hosts: dynamic slower than static at 3200x2400 with
  /// a profile of the smaller sizes, faster with its own). Empty if the profile is.
  std::vector<double> row_costs(int width, int height) const;

  nlohmann::json to_json() const;
  /// The error says what is wrong with the JSON.
  static std::expected<CostProfile, Error> from_json(const nlohmann::json& j);

  static constexpr int kRunsKept = 6;
  static constexpr int kRunsKeptInAll = 24;
  static constexpr int kCells = 256;  ///< resolution of density(), over the height

 private:
  struct Run {
    int width = 0;
    int height = 0;
    std::vector<CostSample> samples;
  };
  /// The runs at width x height if any, else the newest kRunsKept of any size; oldest first.
  std::vector<const Run*> used(int width, int height) const;
  /// CPU seconds per pixel in each of kCells equal slices of the height, from `runs`.
  static std::vector<double> density(const std::vector<const Run*>& runs);

  std::vector<Run> runs_;  // newest last
};

}  // namespace taskdist
