// A finished band on disk: written next to the output as soon as it arrives, before the master
// uses it, so that a run that dies (a lost node ends an Open MPI job) loses no finished work.
// Self-describing and checksummed, so a later run can tell a whole band from a torn one.
#pragma once

#include <expected>
#include <filesystem>
#include <string>

#include "core/encoded_band.h"
#include "core/error.h"

namespace taskdist {

/// The file name of `rows` in a band folder: "band-<first>-<last>.tdb", 1-based inclusive rows.
std::string band_file_name(RowRange rows);

/// Writes `band` to `dir` under a temporary name, syncs it and renames it into place. The error
/// names the file and the reason.
std::expected<void, Error> write_band_file(const std::filesystem::path& dir,
                                           const EncodedBand& band);

/// Reads a band written by write_band_file, checking its header and CRC-32.
std::expected<EncodedBand, Error> read_band_file(const std::filesystem::path& path);

}  // namespace taskdist
