// The quick start: the preload library (quick_start_preload.c, embedded in taskdist) that takes
// POV-Ray's polling timers (about 0.7 s of wall time, almost no CPU) off every band, written
// where a node renders and checked once in each taskdist process before any band uses it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace taskdist {

/// Whether a node's povray runs with the quick start.
struct QuickStart {
  std::filesystem::path library;  ///< the preload to put in LD_PRELOAD; empty: off
  std::string why_off;            ///< when off on a node that wanted it: what failed, and where
  bool on() const { return !library.empty(); }
};

/// Writes the preload into `dir` (the scratch folder of a job on this node) and returns it once
/// a check proved that `povray` loads it and renders right with it: a tiny render of a known
/// image whose every pixel is compared, during which the preload must have shortened a wait.
/// The check runs once per povray and scratch location in this process (taskdist bench runs
/// many jobs); it is bounded in time. On any failure the quick start is off, and why_off says
/// why (another POV-Ray build, a static binary, LD_PRELOAD ignored, a noexec folder), except
/// when povray fails without the preload too: its bands will say why.
QuickStart prepare_quick_start(const std::filesystem::path& povray,
                               const std::filesystem::path& dir);

/// The environment entry that loads `library` before any LD_PRELOAD already set.
std::string preload_environment(const std::filesystem::path& library);

/// The one line a run prints when a node that wanted the quick start runs without it.
std::string quick_start_off_line(const std::string& where, const std::string& why_off);

}  // namespace taskdist
