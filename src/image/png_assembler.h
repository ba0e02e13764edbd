// Writes a PNG from encoded bands as they arrive, in row order, without ever holding the image:
// a band that arrives before its turn waits in its band file (the journal's), or without one in
// memory up to a budget and then in a spill file; memory does not grow with the picture. The
// file is written under a temporary name and renamed only when complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "image/band_encoder.h"

#include "core/error.h"

namespace taskdist {

/// A band as a PNG of its own (width x its rows), without recompressing: its rows are filtered
/// with Sub, which never looks at the row above, so a band stands alone. For the live view.
std::string band_png(const EncodedBand& band, int width, bool alpha);

class PngAssembler {
 public:
  struct Options {
    int width = 0;
    int height = 0;
    bool alpha = false;
    std::filesystem::path output;       ///< final name; written as "<output>.part-<pid>" first
    std::filesystem::path spill_dir;    ///< where early bands wait when over the budget
    size_t memory_budget = 16u << 20;   ///< bytes of early bands without a band file kept in memory
    /// The row bands give for the image's first: a frame of an animation is rows
    /// [first_row, first_row + height) of the stacked frames (core/animation.h).
    int first_row = 0;
  };

  /// Opens the temporary file and writes the PNG header. The error names the file and reason.
  static std::expected<std::unique_ptr<PngAssembler>, Error> create(const Options& options);
  ~PngAssembler();
  PngAssembler(const PngAssembler&) = delete;
  PngAssembler& operator=(const PngAssembler&) = delete;

  /// Takes a band; writes it and every waiting band that has become contiguous. `band_file`: the
  /// band is also in that band file (band_file.h), where it waits if early (not in memory).
  /// REQUIRES: bands cover [first_row, first_row + height) without overlap.
  std::expected<void, Error> add(EncodedBand band, const std::filesystem::path& band_file = {});
  /// Takes the band in `band_file` (rows `rows`), read only when its turn comes: a resumed job's
  /// journal costs no memory.
  std::expected<void, Error> add_stored(RowRange rows, const std::filesystem::path& band_file);
  /// Closes the zlib stream and the file, syncs it and renames it to the output name.
  /// REQUIRES: rows_written() == height.
  std::expected<void, Error> finish();
  /// Removes the temporary file (and spilled bands); the output name is never touched.
  void discard();

  int rows_written() const { return next_row_ - options_.first_row; }
  size_t bytes_waiting_in_memory() const { return held_bytes_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  explicit PngAssembler(const Options& options);
  std::expected<void, Error> write_chunk(const char type[4], const void* data, size_t size);
  std::expected<void, Error> write_band(const EncodedBand& band);
  std::expected<void, Error> write_bytes(const void* data, size_t size);
  std::unexpected<Error> io_error(const std::string& what) const;

  struct Waiting {
    EncodedBand band;                   // `deflated` empty if spilled
    std::filesystem::path spill_file;   // non-empty if spilled
    bool stored = false;                // spill_file is a band file of the journal: keep it
  };

  // Constant after construction.
  const Options options_;
  const std::filesystem::path temp_path_;

  std::FILE* file_ = nullptr;
  int next_row_ = 0;
  uint32_t adler_ = 1;
  std::map<int, Waiting> waiting_;   // by first row
  size_t held_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace taskdist
