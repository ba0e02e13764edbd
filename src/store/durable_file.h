// Files that are whole or absent: written under a temporary name, synced, renamed into place.
// The journal's bands and job file and the cost profiles are all written this way.
#pragma once

#include <expected>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "core/error.h"

namespace taskdist {

/// Writes `parts` one after the other to `path` + `temp_suffix`, syncs the data (fdatasync) and
/// renames it to `path`: the file is whole or absent. The error is the reason (strerror); the
/// caller names the file. A temporary file left by a process killed mid-write keeps its suffix
/// (".part" by default), so a later run can recognise and remove it.
std::expected<void, Error> write_file_durably(const std::filesystem::path& path,
                                              std::initializer_list<std::string_view> parts,
                                              std::string_view temp_suffix = ".part");

/// A temporary suffix no other writer uses at the same time, in this process or another
/// (".part-<pid>-<n>"): for files that several runs may write at once, like a cost profile.
std::string unique_temp_suffix();

/// Syncs a folder's entries (a rename in it survives a crash); best effort.
void sync_dir(const std::filesystem::path& dir);

}  // namespace taskdist
