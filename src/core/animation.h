// POV-Ray's animation options, read the way POV-Ray reads them (../shared/POVRAY_FACTS.md,
// "Animation, in detail"): which frames to render, the names POV-Ray gives their files, and the
// options that make one povray process render some of them with POV-Ray's own clock.
//
// A render of an animation is one tall "stacked" image: frame index k (0-based, in the order
// rendered) holds rows [k * height, (k + 1) * height). Tasks, the journal and the scheduler work
// in these rows; a task is either whole frames or rows of one frame.
#pragma once

#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "core/task.h"

namespace taskdist {

/// The animation options as given, before they are checked (the last one of each wins).
struct AnimationOptions {
  std::optional<std::string> initial_frame, final_frame;  ///< +KFI, +KFF
  std::optional<std::string> initial_clock, final_clock;  ///< +KI, +KF
  std::optional<std::string> subset_start, subset_end;    ///< +SF, +EF (INI: may be fractions)
  bool subset_start_from_ini = false, subset_end_from_ini = false;
  std::optional<bool> cyclic;                             ///< +KC / -KC
  std::optional<std::string> frame_step;                  ///< +STP
  /// Where each was given, for messages ("option '+KFF0'", "a.ini:4: 'Final_Frame=0'").
  std::string where_initial_frame, where_final_frame, where_initial_clock, where_final_clock,
      where_subset_start, where_subset_end, where_frame_step;

  /// Takes one option of the animation group: `key` is its switch name without the sign (KFI,
  /// KFF, KI, KF, SF, EF, KC, STP) or its INI key, upper-case. Returns false if it is none.
  bool take(const std::string& key, const std::string& value, bool enabled, bool from_ini,
            const std::string& where);
};

/// A checked animation: the frames to render, in order.
struct Animation {
  int initial_frame = 1;
  int final_frame = 1;        ///< as given (+KFF)
  std::string initial_clock = "0", final_clock = "1";  ///< as given, handed to POV-Ray as is
  bool cyclic = false;
  int step = 1;
  std::vector<int> frames;    ///< frame numbers rendered, in order (the subset, every step-th)

  /// Digits of frame numbers in file names: those of the final frame (one more with +KC, which
  /// adds a frame).
  int digits() const;
  /// The file POV-Ray writes frame `number` to, for output `output`: its name without the
  /// extension, the number zero-padded to digits(), ".png" (out.png, 5 -> out05.png).
  std::filesystem::path frame_file(const std::filesystem::path& output, int number) const;
  /// The clock POV-Ray gives frame `number`.
  double clock(int number) const;
  /// The options that make one povray render frames [first, last] (numbers in `frames`, in
  /// order) with POV-Ray's own clock and frame numbers: the whole animation's range and clocks,
  /// the subset, the step.
  std::vector<std::string> povray_options(int first, int last) const;
};

/// The animation as JSON (what the master sends its workers, and part of a journal's job) and
/// back; animation_from_json throws nlohmann's exceptions for JSON that is not one.
nlohmann::json animation_to_json(const Animation& animation);
Animation animation_from_json(const nlohmann::json& j);

/// Checks `given`: nullopt if it describes no animation (no option, or the frames (0,0) or
/// (1,1), which POV-Ray renders as a still); an error naming the option and what POV-Ray
/// accepts for an empty or reversed range, a subset outside it, a bad step or clock.
std::expected<std::optional<Animation>, Error> resolve_animation(const AnimationOptions& given);

/// Where frame index `k`'s rows are in the stacked image of frames of `height` rows.
inline RowRange frame_rows(int k, int height) { return {k * height, (k + 1) * height}; }

/// What a task's stacked rows are: whole frames [first, first + count) (`rows` empty), or rows
/// `rows` of the one frame `first`. REQUIRES: `stacked` does not cross a frame boundary unless
/// it covers whole frames.
struct FrameSpan {
  int first = 0;   ///< frame index
  int count = 1;   ///< frames
  RowRange rows;   ///< rows within frame `first`; {0, height} for whole frames
  bool whole_frames = false;
};
FrameSpan frame_span(RowRange stacked, int height);

}  // namespace taskdist
