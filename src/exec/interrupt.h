// SIGINT/SIGTERM/SIGHUP turned into a readable file descriptor (self-pipe), so that the runner's
// poll loop wakes up and can stop every child cleanly.
#pragma once

namespace taskdist {

class InterruptSignal {
 public:
  /// Installs the handlers (once per process).
  static void install();
  /// Readable once a signal arrived; -1 before install().
  static int fd();
  /// The first signal received, or 0.
  static int received();
  /// Sleeps `seconds`, waking early for a signal. False if a signal came (before or during).
  static bool sleep(double seconds);
};

}  // namespace taskdist
