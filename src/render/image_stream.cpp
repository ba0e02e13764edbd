#include "render/image_stream.h"

#include <algorithm>
#include <cstring>

namespace taskdist {
namespace {

constexpr size_t kBmpHeader = 54;  // file header (14) + BITMAPINFOHEADER (40)
constexpr int kMaxSide = 1 << 20;

uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

ImageRowStream::ImageRowStream(RowRange keep, RowSink sink, size_t max_held_bytes)
    : keep_(keep), sink_(std::move(sink)), max_held_bytes_(max_held_bytes) {}

std::expected<void, Error> ImageRowStream::parse_tga() {
  const uint8_t* h = header_.data();
  const int id_length = h[0];
  const int colormap_type = h[1];
  const int image_type = h[2];
  width_ = h[12] | (h[13] << 8);
  height_ = h[14] | (h[15] << 8);
  const int bpp = h[16];
  if (colormap_type != 0 || image_type != 2) {
    return fail("not an uncompressed true-colour TGA (type " + std::to_string(image_type) + ")");
  }
  if (bpp != 24 && bpp != 32) return fail("unsupported TGA depth " + std::to_string(bpp));
  channels_ = bpp / 8;
  bottom_up_ = (h[17] & 0x20) == 0;
  skip_ = static_cast<size_t>(id_length);
  row_bytes_ = static_cast<size_t>(width_) * channels_;
  pixels_.resize(row_bytes_);
  return {};
}

std::expected<void, Error> ImageRowStream::parse_bmp() {
  const uint8_t* h = header_.data();
  const uint32_t offset = le32(h + 10);
  const uint32_t info_size = le32(h + 14);
  const auto width = static_cast<int32_t>(le32(h + 18));
  const auto height = static_cast<int32_t>(le32(h + 22));
  const int bpp = h[28] | (h[29] << 8);
  const uint32_t compression = le32(h + 30);
  if (info_size < 40 || offset < kBmpHeader) return fail("not a BMP this reader accepts (header)");
  if (compression != 0) return fail("compressed BMP (method " + std::to_string(compression) + ")");
  if (bpp != 24 && bpp != 32) return fail("unsupported BMP depth " + std::to_string(bpp));
  if (width <= 0 || width > kMaxSide || height == 0 || height < -kMaxSide || height > kMaxSide) {
    return fail("BMP has an impossible size");
  }
  width_ = width;
  height_ = height < 0 ? -height : height;
  bottom_up_ = height > 0;
  channels_ = bpp / 8;
  skip_ = offset - kBmpHeader;
  row_bytes_ = static_cast<size_t>(width_) * channels_;
  pixels_.resize((row_bytes_ + 3) & ~size_t{3});  // rows are padded to 4 bytes
  return {};
}

std::expected<void, Error> ImageRowStream::parse_header() {
  const bool bmp = header_[0] == 'B' && header_[1] == 'M';
  if (bmp && header_size_ < kBmpHeader) {
    header_size_ = kBmpHeader;  // read the rest of the BMP header first
    return {};
  }
  if (auto done = bmp ? parse_bmp() : parse_tga(); !done) return done;
  if (width_ <= 0 || height_ <= 0) return fail("the image is empty");
  converted_.resize(row_bytes_);
  header_done_ = true;
  return {};
}

void ImageRowStream::deliver_row(int y) {
  const size_t c = static_cast<size_t>(channels_);
  if (bottom_up_ && !(run_begin_ <= y && y < run_end_)) {
    // The bottom row of the next run up: the run ends at it and reaches up as far as the band
    // and the memory allowed go.
    const auto rows = static_cast<int>(std::max<size_t>(1, max_held_bytes_ / row_bytes_));
    run_end_ = y + 1;
    run_begin_ = std::max(keep_.begin, run_end_ - rows);
    held_.resize(static_cast<size_t>(run_end_ - run_begin_) * row_bytes_);
  }
  uint8_t* out = bottom_up_ ? held_.data() + static_cast<size_t>(y - run_begin_) * row_bytes_
                            : converted_.data();
  for (size_t i = 0; i < row_bytes_; i += c) {  // BGR[A] -> RGB[A]
    out[i] = pixels_[i + 2];
    out[i + 1] = pixels_[i + 1];
    out[i + 2] = pixels_[i];
    if (c == 4) out[i + 3] = pixels_[i + 3];
  }
  ++delivered_;
  if (!bottom_up_) {
    sink_(y, converted_);
  } else if (y == run_begin_) {  // the run's top row: the run is whole
    for (int r = run_begin_; r < run_end_; ++r) {
      sink_(r, {held_.data() + static_cast<size_t>(r - run_begin_) * row_bytes_, row_bytes_});
    }
    if (delivered_ == keep_.count()) {
      held_.clear();
      held_.shrink_to_fit();
    }
  }
}

std::expected<void, Error> ImageRowStream::feed(std::span<const uint8_t> data) {
  bytes_seen_ += data.size();
  size_t pos = 0;
  while (pos < data.size()) {
    if (!header_done_) {
      const size_t take = std::min(data.size() - pos, header_size_ - header_.size());
      header_.insert(header_.end(), data.begin() + static_cast<ptrdiff_t>(pos),
                     data.begin() + static_cast<ptrdiff_t>(pos + take));
      pos += take;
      if (header_.size() == header_size_) {
        if (auto done = parse_header(); !done) return done;
      }
      continue;
    }
    if (skip_ > 0) {
      const size_t take = std::min(skip_, data.size() - pos);
      skip_ -= take;
      pos += take;
      continue;
    }
    if (row_ >= height_) return {};  // trailing bytes (a TGA footer) are ignored
    const int y = bottom_up_ ? height_ - 1 - row_ : row_;
    const bool wanted = y >= keep_.begin && y < keep_.end;
    const size_t take = std::min(pixels_.size() - filled_, data.size() - pos);
    if (wanted) std::memcpy(pixels_.data() + filled_, data.data() + pos, take);
    filled_ += take;
    pos += take;
    if (filled_ == pixels_.size()) {
      filled_ = 0;
      ++row_;
      if (wanted) deliver_row(y);
    }
  }
  return {};
}

}  // namespace taskdist
