#include "render/tga_stream.h"

#include <algorithm>
#include <cstring>

namespace taskdist {

TgaStream::TgaStream(RowRange keep, RowSink sink) : keep_(keep), sink_(std::move(sink)) {}

std::optional<std::string> TgaStream::parse_header() {
  const uint8_t* h = header_.data();
  const int id_length = h[0];
  const int colormap_type = h[1];
  const int image_type = h[2];
  width_ = h[12] | (h[13] << 8);
  height_ = h[14] | (h[15] << 8);
  const int bpp = h[16];
  const int descriptor = h[17];
  if (colormap_type != 0 || image_type != 2) {
    return "not an uncompressed true-colour TGA (type " + std::to_string(image_type) + ")";
  }
  if (bpp != 24 && bpp != 32) return "unsupported TGA depth " + std::to_string(bpp);
  if ((descriptor & 0x20) == 0) return "TGA rows are stored bottom-up; expected top-down";
  if (width_ <= 0 || height_ <= 0) return "TGA has an empty image";
  channels_ = bpp / 8;
  skip_ = static_cast<size_t>(id_length);
  pixels_.resize(static_cast<size_t>(width_) * channels_);
  converted_.resize(pixels_.size());
  header_done_ = true;
  return std::nullopt;
}

std::optional<std::string> TgaStream::feed(std::span<const uint8_t> data) {
  bytes_seen_ += data.size();
  size_t pos = 0;
  while (pos < data.size()) {
    if (!header_done_) {
      const size_t take = std::min(data.size() - pos, size_t{18} - header_.size());
      header_.insert(header_.end(), data.begin() + static_cast<ptrdiff_t>(pos),
                     data.begin() + static_cast<ptrdiff_t>(pos + take));
      pos += take;
      if (header_.size() == 18) {
        if (auto err = parse_header()) return err;
      }
      continue;
    }
    if (skip_ > 0) {
      const size_t take = std::min(skip_, data.size() - pos);
      skip_ -= take;
      pos += take;
      continue;
    }
    if (row_ >= height_) return std::nullopt;  // trailing bytes (a TGA footer) are ignored
    const bool wanted = row_ >= keep_.begin && row_ < keep_.end;
    const size_t take = std::min(pixels_.size() - filled_, data.size() - pos);
    if (wanted) std::memcpy(pixels_.data() + filled_, data.data() + pos, take);
    filled_ += take;
    pos += take;
    if (filled_ == pixels_.size()) {
      if (wanted) {
        const size_t n = pixels_.size();
        const size_t c = static_cast<size_t>(channels_);
        for (size_t i = 0; i < n; i += c) {  // BGR[A] -> RGB[A]
          converted_[i] = pixels_[i + 2];
          converted_[i + 1] = pixels_[i + 1];
          converted_[i + 2] = pixels_[i];
          if (c == 4) converted_[i + 3] = pixels_[i + 3];
        }
        sink_(converted_);
      }
      filled_ = 0;
      ++row_;
    }
  }
  return std::nullopt;
}

}  // namespace taskdist
