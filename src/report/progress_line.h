// The progress display: one overwriting line on a terminal, a plain line every few seconds
// otherwise, nothing when quiet.
#pragma once

#include <cstdio>

namespace taskdist {

struct ProgressState {
  double rows_done = 0;  ///< rows_traced() of the render (progress_count.h)
  int rows_total = 0;
  int in_flight = 0;
  double elapsed_s = 0;
  int frames_done = 0;   ///< an animation's frames written
  int frames_total = 0;  ///< 0 or 1: a still
};

class ProgressLine {
 public:
  enum class Mode { kTerminal, kPlain, kQuiet };
  /// kTerminal if `out` is a terminal, else kPlain; kQuiet if `quiet`.
  ProgressLine(std::FILE* out, bool quiet);
  /// Shows `state` if it is time to (at most 10 times a second on a terminal, every 2 s
  /// otherwise).
  void update(const ProgressState& state);
  /// Clears a terminal line so that the next output starts clean.
  void finish();
  Mode mode() const { return mode_; }

 private:
  std::FILE* out_;
  Mode mode_;
  double last_shown_ = -1e9;
  bool drawn_ = false;
};

}  // namespace taskdist
