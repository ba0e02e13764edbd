// Classification of POV-Ray 3.7 options: which ones taskdist reads, which it passes to every band
// unchanged, and which it refuses because they would break the split into row bands.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace taskdist {

/// What taskdist does with one POV-Ray option.
enum class PovOptionKind {
  kPassThrough,     ///< handed to every band unchanged (+A0.3, +AM2, +Q9, Declare=..., ...)
  kWidth,           ///< +W / Width=
  kHeight,          ///< +H / Height=
  kBlockSize,       ///< +BS / Render_Block_Size=
  kThreads,         ///< +WT / Work_Threads=
  kAlpha,           ///< +UA / -UA / Output_Alpha=
  kLibraryPath,     ///< +L / Library_Path= (passed through, and resolved to an absolute path)
  kMaxImageBuffer,  ///< +MI / Max_Image_Buffer_Memory= (passed through; taskdist then sets none)
  kInputFile,       ///< Input_File_Name= (only accepted inside an INI file)
  kAnimation,       ///< +KFI +KFF +KI +KF +SF +EF +KC +STP and their INI keys (core/animation.h)
  kOutputName,      ///< Output_File_Name= (the output, unless -o names one)
  kRefused,         ///< breaks the split, or is taskdist's to set: `reason` says why
};

struct PovOption {
  PovOptionKind kind = PovOptionKind::kPassThrough;
  std::string text;    ///< the option as handed on: as given, a setting as Key=Value
  std::string value;   ///< the value part, for the kinds that carry one
  bool enabled = true; ///< for switches: '+' or an INI value of on/true/yes/1
  std::string reason;  ///< for kRefused: a sentence for the user
  std::string key;     ///< upper-case: the switch's letters ("KFI") or the setting's key
};

/// True if `arg` looks like a POV-Ray option: "+X...", "-X...", or "Key=Value".
bool looks_like_pov_option(std::string_view arg);

/// Classifies a command-line switch ("+W800") or an INI-style setting ("Width=800"). Refuses an
/// option with a NUL byte, and one handed on with white space in it (POV-Ray would split it).
PovOption classify_pov_option(std::string_view arg);

/// What `option` (a switch or a setting) does to antialiasing: true if it turns it on ("+A",
/// "+A0.3", "Antialias=on"), false if it turns it off ("-A", "Antialias=off"), nullopt if it does
/// neither ("+AM2" sets the method, "Antialias_Threshold=0.3" the threshold: neither switches).
std::optional<bool> antialias_switch(std::string_view option);

/// True if `option` makes POV-Ray read another INI file ("Include_Ini=more.ini"), which taskdist
/// does not read: it may say anything, antialiasing included.
bool includes_ini(std::string_view option);

/// POV-Ray's own INI files, which it reads before the command line: $POVINI, the user's
/// ~/.povray/3.7/povray.ini and ~/.povrayrc, the system's /etc/povray/3.7/povray.ini and
/// /usr/local/etc/povray/3.7/povray.ini, and the older /etc/povray.ini and
/// /usr/local/etc/povray.ini. It reads the first that exists; these are all of them.
std::vector<std::filesystem::path> default_ini_files();

/// True if any of `ini_files` that exists may turn antialiasing on: a line that turns it on, or
/// one that is no setting (it may name another INI file). A file that cannot be read counts too.
bool ini_files_may_antialias(const std::vector<std::filesystem::path>& ini_files);

/// Parses a size value (width or height): a whole number in [1, kMaxDimension].
/// Returns an error sentence naming `what` otherwise.
std::expected<void, Error> check_dimension(std::string_view what, std::string_view value,
                                           int* out);

/// A path option for POV-Ray ("+L", "+I"): POV-Ray re-parses its command line, so a path with
/// spaces must be quoted. REQUIRES: the path contains no double quote (build_job refuses those).
std::string pov_path_option(std::string_view prefix, const std::string& path);

/// The largest width or height taskdist accepts (documented in --help).
inline constexpr int kMaxDimension = 65535;  // POV-Ray's TGA header holds 16 bits

}  // namespace taskdist
