// Reads an uncompressed TGA image (POV-Ray's +FT) as it streams in, and hands over only the rows
// of one band, as RGB or RGBA. Memory: one row, whatever the image size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/task.h"

namespace taskdist {

class TgaStream {
 public:
  using RowSink = std::function<void(std::span<const uint8_t> row)>;

  /// Rows in `keep` go to `sink`, top to bottom, converted to RGB (24-bit input) or RGBA (32-bit).
  TgaStream(RowRange keep, RowSink sink);

  /// Feeds more bytes. Returns an error sentence if the data is not a TGA this reader accepts.
  std::optional<std::string> feed(std::span<const uint8_t> data);
  /// True once every row of the image has been read.
  bool complete() const { return header_done_ && row_ == height_; }
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  uint64_t bytes_seen() const { return bytes_seen_; }

 private:
  std::optional<std::string> parse_header();

  const RowRange keep_;
  RowSink sink_;
  std::vector<uint8_t> header_;
  bool header_done_ = false;
  size_t skip_ = 0;            // bytes of the image-id field still to skip
  int width_ = 0, height_ = 0, channels_ = 0;
  int row_ = 0;                // rows completed
  std::vector<uint8_t> pixels_;  // the row being assembled (BGR[A] as read)
  size_t filled_ = 0;
  std::vector<uint8_t> converted_;
  uint64_t bytes_seen_ = 0;
};

}  // namespace taskdist
