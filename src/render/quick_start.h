// The quick start: the preload library (quick_start_preload.c, embedded in taskdist) that takes
// POV-Ray's polling timers (about 0.7 s of wall time, almost no CPU) off every band, written
// where a node renders. Its first bands on a node are its check: see prepare_quick_start.
#pragma once

#include <filesystem>
#include <string>

namespace taskdist {

/// Whether a node's povray runs with the quick start.
struct QuickStart {
  std::filesystem::path library;  ///< the preload to put in LD_PRELOAD; empty: off
  /// On: an earlier band in this process showed that povray loads it (its first cut wait).
  /// Otherwise the next bands are the check: each leaves a proof file in its folder
  /// (kQuickStartProof) if povray loaded the library, and the first to end decides
  /// (judge_quick_start).
  bool proven = false;
  std::string why_off;            ///< when off on a node that wanted it: what failed, and where
};

/// The file a band's povray leaves in the band's folder once the preload has cut a wait.
constexpr const char* kQuickStartProof = "quick-start-proof";

/// Writes the preload into `dir` (the scratch folder of a job on this node). Off, with why_off,
/// when it cannot be written or `dir` is on a noexec filesystem (the loader would refuse it), or
/// when an earlier band of `povray` in this process showed that it does not load it.
QuickStart prepare_quick_start(const std::filesystem::path& povray,
                               const std::filesystem::path& dir);

/// A band that ran with an unproven preload ended well in `band_dir`: whether povray loaded it
/// (the proof file). The verdict is kept for later jobs of `povray` in this process. Returns
/// why it is off, or empty when it works.
std::string judge_quick_start(const std::filesystem::path& povray,
                              const std::filesystem::path& band_dir);

/// The environment entry that loads `library` before any LD_PRELOAD already set.
std::string preload_environment(const std::filesystem::path& library);

/// The one line a run prints when a node that wanted the quick start runs without it.
std::string quick_start_off_line(const std::string& where, const std::string& why_off);

}  // namespace taskdist
