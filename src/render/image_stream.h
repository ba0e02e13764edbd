// Reads POV-Ray's uncompressed output (TGA +FT or BMP +FB, 24- or 32-bit, rows top-down or
// bottom-up) as it streams in, and hands over only the rows of one band, as RGB or RGBA, in runs of
// consecutive rows, each run top to bottom. Top-down input is one run and needs one row of
// memory. Bottom-up input delivers the band's rows last first: it is cut into runs of at most
// `max_held_bytes` of rows, each held until its top row arrives and handed over bottom run first,
// so memory is one run, whatever the size of the band.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/task.h"

#include "core/error.h"

namespace taskdist {

class ImageRowStream {
 public:
  /// Image row `y` and its pixels. Each row of the band comes once; consecutive calls with
  /// consecutive rows form a run.
  using RowSink = std::function<void(int y, std::span<const uint8_t> row)>;
  static constexpr size_t kDefaultMaxHeldBytes = size_t{256} << 10;

  /// Rows in `keep` go to `sink` converted to RGB (24-bit input) or RGBA (32-bit), in runs as
  /// above; a run holds at least one row, however wide.
  ImageRowStream(RowRange keep, RowSink sink, size_t max_held_bytes = kDefaultMaxHeldBytes);

  /// Feeds more bytes. Returns an error sentence if the data is not an image this reader accepts.
  std::expected<void, Error> feed(std::span<const uint8_t> data);
  /// True once every row of the image has been read.
  bool complete() const { return header_done_ && row_ == height_; }
  /// True once every row of `keep` has gone to the sink (the rest of the image is not needed).
  bool band_complete() const { return header_done_ && delivered_ == keep_.count(); }
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  uint64_t bytes_seen() const { return bytes_seen_; }

 private:
  std::expected<void, Error> parse_header();
  std::expected<void, Error> parse_tga();
  std::expected<void, Error> parse_bmp();
  /// Converts the row just read (image row `y`, one of `keep`) and hands it on, or holds it.
  void deliver_row(int y);

  const RowRange keep_;
  RowSink sink_;
  const size_t max_held_bytes_;
  std::vector<uint8_t> header_;
  size_t header_size_ = 18;    // TGA's; grows to 54 once the data is known to be a BMP
  bool header_done_ = false;
  bool bottom_up_ = false;
  size_t skip_ = 0;            // bytes between the header and the first row, still to skip
  int width_ = 0, height_ = 0, channels_ = 0;
  int row_ = 0;                // rows completed, in file order
  int delivered_ = 0;          // rows of `keep` handed to the sink
  std::vector<uint8_t> pixels_;  // the row being assembled (BGR[A] as read, then row padding)
  size_t filled_ = 0;
  size_t row_bytes_ = 0;       // width * channels, without padding
  std::vector<uint8_t> converted_;
  // Bottom-up input: the run being read, converted, in image order; rows [run_begin_, run_end_).
  std::vector<uint8_t> held_;
  int run_begin_ = 0, run_end_ = 0;
  uint64_t bytes_seen_ = 0;
};

}  // namespace taskdist
