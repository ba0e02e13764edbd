// A band of rows, filtered and deflated so that the master can append it to a PNG's IDAT stream
// without decoding it (see ../shared/PNG_FACTS.md for the measurements behind this design).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/encoded_band.h"
#include "core/task.h"

#include "core/error.h"

namespace taskdist {

/// Checks a band that arrived from a worker before it is used: its deflate stream inflates to
/// exactly rows x (1 + width x channels) bytes with the stated Adler-32, every row starting with
/// a valid PNG filter type. The error says what is wrong (a damaged band is rendered again).
std::expected<void, Error> check_band(const EncodedBand& band, int width, int channels);

/// Filters and deflates rows one at a time; memory is one row, zlib's state and the deflated
/// bytes. Rows come top to bottom in one run, or bottom-up in runs (as a bottom-up image gives
/// them): each run top to bottom, each ending where the previous one began. Each run is
/// deflated as a piece of its own (zlib's history reset, so no piece refers to another), and
/// finish() puts the pieces in row order in place. Not thread-safe; one encoder per band.
class BandEncoder {
 public:
  /// `channels` is 3 (RGB) or 4 (RGBA), 8 bits each. `level` is zlib's 0-9.
  BandEncoder(int width, int channels, int level);
  ~BandEncoder();
  BandEncoder(const BandEncoder&) = delete;
  BandEncoder& operator=(const BandEncoder&) = delete;

  /// Image row `y`: a row other than the one after the last starts a new run.
  /// REQUIRES: row.size() == width * channels; each row of the band once, in runs as above
  /// (a CHECK otherwise).
  void add_row(int y, std::span<const uint8_t> row);
  /// Ends the stream (sync flush) and hands the band over, its runs in row order. The encoder is
  /// spent afterwards.
  EncodedBand finish(RowRange rows);
  int rows_added() const { return rows_added_; }

 private:
  void deflate_bytes(const uint8_t* data, size_t size, int flush);
  void end_piece();

  struct Piece {  // one run's deflate stream in deflated_
    size_t bytes = 0;
    uint32_t adler = 1;  // of its filtered rows
    uint64_t raw_bytes = 0;
  };

  const int width_;
  const int channels_;
  z_stream zs_{};
  std::vector<uint8_t> filtered_;
  std::string deflated_;       // every piece, in the order deflated
  std::vector<Piece> pieces_;  // ended pieces, in the order deflated
  Piece piece_;                // the run being deflated
  size_t piece_begin_ = 0;     // where it begins in deflated_
  int next_row_ = -1;          // the row that continues the run; -1: none yet
  int top_row_ = 0;            // the run's first row
  int previous_top_row_ = 0;   // the first row of the run before
  int rows_added_ = 0;
};

}  // namespace taskdist
