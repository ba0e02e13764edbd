#include "image/band_encoder.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace taskdist {

BandEncoder::BandEncoder(int width, int channels, int level)
    : width_(width), channels_(channels),
      filtered_(1 + static_cast<size_t>(width) * channels) {
  // Raw deflate (negative window bits): the master writes the zlib header and trailer once.
  if (deflateInit2(&zs_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib deflateInit2 failed");
  }
}

BandEncoder::~BandEncoder() { deflateEnd(&zs_); }

void BandEncoder::add_row(int y, std::span<const uint8_t> row) {
  if (y != next_row_) {  // a new run
    if (next_row_ >= 0) end_piece();
    top_row_ = y;
  }
  next_row_ = y + 1;
  // Filter "Sub" (type 1) on every row: it never looks at the row above, which for a band's
  // first row lives in another band, and it is cheap; on rendered images it compresses about as
  // well as adaptive filtering (PNG_FACTS.md).
  const size_t n = row.size();
  uint8_t* out = filtered_.data();
  out[0] = 1;
  const size_t bpp = static_cast<size_t>(channels_);
  for (size_t i = 0; i < bpp && i < n; ++i) out[1 + i] = row[i];
  for (size_t i = bpp; i < n; ++i) out[1 + i] = static_cast<uint8_t>(row[i] - row[i - bpp]);
  piece_.adler = static_cast<uint32_t>(adler32(piece_.adler, out, static_cast<uInt>(n + 1)));
  piece_.raw_bytes += n + 1;
  deflate_bytes(out, n + 1, Z_NO_FLUSH);
  ++rows_added_;
}

void BandEncoder::deflate_bytes(const uint8_t* data, size_t size, int flush) {
  zs_.next_in = const_cast<Bytef*>(data);
  zs_.avail_in = static_cast<uInt>(size);
  uint8_t chunk[64 * 1024];
  do {
    zs_.next_out = chunk;
    zs_.avail_out = sizeof(chunk);
    const int rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("zlib deflate failed");
    deflated_.append(reinterpret_cast<const char*>(chunk), sizeof(chunk) - zs_.avail_out);
  } while (zs_.avail_out == 0 || zs_.avail_in > 0);
}

std::expected<void, Error> check_band(const EncodedBand& band, int width, int channels) {
  const uint64_t row_bytes = 1 + static_cast<uint64_t>(width) * static_cast<uint64_t>(channels);
  const uint64_t expected = row_bytes * static_cast<uint64_t>(std::max(0, band.rows.count()));
  if (band.raw_bytes != expected) {
    return fail("the band holds " + std::to_string(band.raw_bytes) + " bytes of rows, not " +
                std::to_string(expected));
  }
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return fail("zlib inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(band.deflated.data()));
  zs.avail_in = static_cast<uInt>(band.deflated.size());
  std::vector<uint8_t> chunk(std::max<uint64_t>(row_bytes, 64 * 1024));
  uint64_t total = 0;
  uint32_t adler = 1;
  std::optional<std::string> error;
  while (!error) {
    zs.next_out = chunk.data();
    zs.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&zs, Z_SYNC_FLUSH);
    const size_t got = chunk.size() - zs.avail_out;
    for (size_t i = 0; i < got; ++i) {  // the filter type byte of each row: 0..4
      if ((total + i) % row_bytes == 0 && chunk[i] > 4) error = "a row has an invalid filter type";
    }
    adler = static_cast<uint32_t>(adler32(adler, chunk.data(), static_cast<uInt>(got)));
    total += got;
    if (rc == Z_STREAM_END || (rc == Z_BUF_ERROR && zs.avail_in == 0) ||
        (rc == Z_OK && zs.avail_in == 0 && got < chunk.size())) {
      break;
    }
    if (rc != Z_OK) error = std::string("its deflate stream is damaged (") +
                            (zs.msg ? zs.msg : "zlib error") + ")";
  }
  inflateEnd(&zs);
  if (error) return fail(*error);
  if (total != expected) {
    return fail("it inflates to " + std::to_string(total) + " bytes, not " +
                std::to_string(expected));
  }
  if (adler != band.adler) return fail("its checksum (Adler-32) does not match");
  return {};
}

void BandEncoder::end_piece() {
  // A sync flush ends on a byte boundary without a final block: the next piece can follow
  // directly, and the master closes the whole stream with one empty final block. The reset
  // clears zlib's history, so the next piece, which goes before this one, never refers to it.
  // Each run ends where the previous one began (REQUIRES of add_row).
  CHECK(pieces_.empty() || next_row_ == previous_top_row_);
  previous_top_row_ = top_row_;
  deflate_bytes(nullptr, 0, Z_SYNC_FLUSH);
  if (deflateReset(&zs_) != Z_OK) throw std::runtime_error("zlib deflateReset failed");
  piece_.bytes = deflated_.size() - piece_begin_;
  piece_begin_ = deflated_.size();
  pieces_.push_back(piece_);
  piece_ = Piece{};
}

EncodedBand BandEncoder::finish(RowRange rows) {
  end_piece();
  EncodedBand band;
  band.rows = rows;
  // The pieces lie bottom run first: reversing all the bytes, then each piece's, puts them in
  // row order in place (no second copy of the band).
  if (pieces_.size() > 1) std::reverse(deflated_.begin(), deflated_.end());
  size_t at = 0;
  for (auto p = pieces_.rbegin(); p != pieces_.rend(); ++p) {
    if (pieces_.size() > 1) {
      std::reverse(deflated_.begin() + static_cast<std::ptrdiff_t>(at),
                   deflated_.begin() + static_cast<std::ptrdiff_t>(at + p->bytes));
    }
    at += p->bytes;
    band.adler = static_cast<uint32_t>(
        adler32_combine(band.adler, p->adler, static_cast<z_off_t>(p->raw_bytes)));
    band.raw_bytes += p->raw_bytes;
  }
  band.deflated = std::move(deflated_);
  pieces_.clear();
  return band;
}

}  // namespace taskdist
