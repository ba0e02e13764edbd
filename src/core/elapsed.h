// Seconds on the steady clock, as the reports and timeouts count them.
#pragma once

#include <chrono>

namespace taskdist {

/// Seconds from `start` to now, on the steady clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace taskdist
