// Reads what POV-Ray prints on stderr while it renders a band: progress, and, when it fails,
// the lines that say why.
#pragma once

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace taskdist {

class PovrayStderr {
 public:
  /// A run of frames with +STP `step`: POV-Ray counts "Rendering frame K of N" in frames of its
  /// subset (K = 1, 1 + step, ...), not in frames it renders.
  void set_frame_step(int step) { step_ = std::max(1, step); }
  /// Feeds more stderr bytes. Lines end in '\n' or '\r' (progress lines end in '\r').
  void feed(std::string_view data);
  /// The latest progress fraction reported since the last call, if any. A process rendering
  /// several frames ("Rendering frame K of N") reports its progress over all of them.
  std::optional<double> take_progress();
  /// True once POV-Ray has reported every pixel of its band rendered ("Rendered M of M pixels"),
  /// of its last frame.
  bool reported_all_pixels() const { return reported_all_; }
  /// The CPU seconds POV-Ray says its tracing took ("Trace Time: ..." then "using N thread(s)
  /// with X CPU-seconds total"), once it has printed them (the sum over its frames); < 0 before.
  double trace_cpu_s() const { return trace_cpu_s_; }
  /// The frame (0-based, of this process's frames) POV-Ray has begun ("Rendering frame K of
  /// N"): every frame before it is finished and written.
  int frame() const { return frame_; }
  /// True if the text shows a deterministic error (parse error, missing include or file, an
  /// option POV-Ray rejects): rendering the same job elsewhere would fail the same way.
  bool scene_error() const;
  /// POV-Ray's own error lines ("File '...' line N: Parse Error: ..." and what follows), or the
  /// last lines it printed if it printed no recognisable error.
  std::string error_excerpt() const;

 private:
  void on_line(std::string_view line);

  std::string partial_;
  std::deque<std::string> recent_;   // last lines that are not progress
  std::deque<std::string> error_;    // from the first error line on
  bool in_error_ = false;
  bool scene_error_ = false;
  std::optional<double> progress_;
  bool reported_all_ = false;
  bool after_trace_time_ = false;
  double trace_cpu_s_ = -1;
  int step_ = 1;
  int frame_ = 0;   // 0-based frame of this process being rendered
  int frames_ = 1;  // frames this process renders
};

}  // namespace taskdist
