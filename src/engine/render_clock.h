// The time as a render job sees it, behind an interface so that tests drive it (a fake clock
// that a fake runner advances) and the task timeout and straggler copies are tested without
// waiting. (Not named Clock: several files alias std::chrono::steady_clock as Clock.)
#pragma once

#include <chrono>

#include "core/elapsed.h"

namespace taskdist {

class RenderClock {
 public:
  virtual ~RenderClock() = default;
  /// Seconds since the program started; never goes back.
  virtual double now_s() const = 0;
};

/// The real time: std::chrono::steady_clock since `origin` (when the program started).
class SteadyRenderClock : public RenderClock {
 public:
  explicit SteadyRenderClock(std::chrono::steady_clock::time_point origin) : origin_(origin) {}
  double now_s() const override {
    return seconds_since(origin_);
  }

 private:
  const std::chrono::steady_clock::time_point origin_;
};

}  // namespace taskdist
