#include "image/png_assembler.h"

#include "store/band_file.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace taskdist {
namespace {

constexpr size_t kMaxIdatChunk = 1u << 20;

void put_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The bytes of one PNG chunk: length, type, data, CRC-32.
std::string chunk_bytes(const char type[4], const void* data, size_t size) {
  uint8_t head[8];
  put_u32(head, static_cast<uint32_t>(size));
  std::memcpy(head + 4, type, 4);
  uLong crc = crc32(0, head + 4, 4);
  if (size > 0) crc = crc32(crc, static_cast<const Bytef*>(data), static_cast<uInt>(size));
  uint8_t tail[4];
  put_u32(tail, static_cast<uint32_t>(crc));
  std::string out(reinterpret_cast<const char*>(head), 8);
  out.append(static_cast<const char*>(data), size);
  out.append(reinterpret_cast<const char*>(tail), 4);
  return out;
}

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr uint8_t kSrgbPerceptual = 0;  // POV-Ray's own PNGs say their pixels are sRGB
constexpr uint8_t kZlibHeader[2] = {0x78, 0x01};  // CMF 0x78, FLG 0x01: check bits

std::string ihdr_bytes(int width, int height, bool alpha) {
  uint8_t ihdr[13];
  put_u32(ihdr, static_cast<uint32_t>(width));
  put_u32(ihdr + 4, static_cast<uint32_t>(height));
  ihdr[8] = 8;                  // bits per channel
  ihdr[9] = alpha ? 6 : 2;      // RGBA or RGB
  ihdr[10] = ihdr[11] = ihdr[12] = 0;   // deflate, adaptive filtering, no interlace
  return chunk_bytes("IHDR", ihdr, sizeof ihdr);
}

}  // namespace

std::string band_png(const EncodedBand& band, int width, bool alpha) {
  std::string png(reinterpret_cast<const char*>(kSignature), sizeof kSignature);
  png += ihdr_bytes(width, band.rows.count(), alpha);
  png += chunk_bytes("sRGB", &kSrgbPerceptual, 1);
  std::string idat(reinterpret_cast<const char*>(kZlibHeader), 2);
  idat += band.deflated;
  uint8_t trailer[6] = {0x03, 0x00};  // an empty final block, then the Adler-32
  put_u32(trailer + 2, band.adler);
  idat.append(reinterpret_cast<const char*>(trailer), sizeof trailer);
  png += chunk_bytes("IDAT", idat.data(), idat.size());
  png += chunk_bytes("IEND", nullptr, 0);
  return png;
}

PngAssembler::PngAssembler(const Options& options)
    : options_(options),
      temp_path_(options.output.string() + ".part-" + std::to_string(::getpid())),
      next_row_(options.first_row) {}

PngAssembler::~PngAssembler() {
  if (!finished_) discard();
}

std::unexpected<Error> PngAssembler::io_error(const std::string& what) const {
  return fail("cannot " + what + " '" + temp_path_.string() + "': " + std::strerror(errno));
}

std::expected<std::unique_ptr<PngAssembler>, Error> PngAssembler::create(
    const Options& options) {
  std::unique_ptr<PngAssembler> a(new PngAssembler(options));
  a->file_ = std::fopen(a->temp_path_.c_str(), "wbx");
  if (!a->file_) return a->io_error("create output file");
  if (auto done = a->write_bytes(kSignature, sizeof kSignature); !done) return std::unexpected(done.error());
  const std::string ihdr = ihdr_bytes(options.width, options.height, options.alpha);
  if (auto done = a->write_bytes(ihdr.data(), ihdr.size()); !done) {
    return std::unexpected(done.error());
  }
  if (auto done = a->write_chunk("sRGB", &kSrgbPerceptual, 1); !done) return std::unexpected(done.error());
  // The zlib header of the one stream that the bands continue.
  if (auto done = a->write_chunk("IDAT", kZlibHeader, 2); !done) return std::unexpected(done.error());
  return a;
}

std::expected<void, Error> PngAssembler::write_bytes(const void* data, size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) return io_error("write");
  return {};
}

std::expected<void, Error> PngAssembler::write_chunk(const char type[4], const void* data,
                                                     size_t size) {
  const std::string chunk = chunk_bytes(type, data, size);
  return write_bytes(chunk.data(), chunk.size());
}

std::expected<void, Error> PngAssembler::write_band(const EncodedBand& band) {
  const char* p = band.deflated.data();
  size_t left = band.deflated.size();
  while (left > 0) {
    const size_t n = std::min(left, kMaxIdatChunk);
    if (auto done = write_chunk("IDAT", p, n); !done) return done;
    p += n;
    left -= n;
  }
  adler_ = static_cast<uint32_t>(
      adler32_combine(adler_, band.adler, static_cast<z_off_t>(band.raw_bytes)));
  next_row_ = band.rows.end;
  return {};
}

std::expected<void, Error> PngAssembler::add_stored(RowRange rows,
                                                   const std::filesystem::path& band_file) {
  if (rows.begin == next_row_) {
    auto band = read_band_file(band_file);
    if (!band) return std::unexpected(band.error());
    return add(std::move(*band), band_file);
  }
  Waiting w;
  w.band.rows = rows;
  w.spill_file = band_file;
  w.stored = true;
  waiting_.emplace(rows.begin, std::move(w));
  return {};
}

std::expected<void, Error> PngAssembler::add(EncodedBand band,
                                            const std::filesystem::path& band_file) {
  if (band.rows.begin != next_row_) {
    // Early: wait in its band file, read again when its turn comes (the page cache has it);
    // without one, in memory while the budget allows, else in a spill file.
    Waiting w;
    if (!band_file.empty()) {
      w.spill_file = band_file;
      w.stored = true;
      band.deflated.clear();
      band.deflated.shrink_to_fit();
    } else if (held_bytes_ + band.deflated.size() > options_.memory_budget) {
      w.spill_file = options_.spill_dir / ("band-" + std::to_string(band.rows.begin) + ".deflate");
      std::ofstream out(w.spill_file, std::ios::binary);
      out.write(band.deflated.data(), static_cast<std::streamsize>(band.deflated.size()));
      if (!out) return fail("cannot spill a band to '" + w.spill_file.string() + "'");
      band.deflated.clear();
      band.deflated.shrink_to_fit();
    } else {
      held_bytes_ += band.deflated.size();
    }
    w.band = std::move(band);
    const int first = w.band.rows.begin;
    waiting_.emplace(first, std::move(w));
    return {};
  }
  if (auto done = write_band(band); !done) return done;
  // Flush every waiting band that is now contiguous.
  for (auto it = waiting_.find(next_row_); it != waiting_.end(); it = waiting_.find(next_row_)) {
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    if (w.stored) {
      auto stored = read_band_file(w.spill_file);
      if (!stored) return std::unexpected(stored.error());
      w.band = std::move(*stored);
    } else if (!w.spill_file.empty()) {
      std::ifstream in(w.spill_file, std::ios::binary);
      w.band.deflated.assign(std::istreambuf_iterator<char>(in), {});
      std::error_code ec;
      std::filesystem::remove(w.spill_file, ec);
    } else {
      held_bytes_ -= w.band.deflated.size();
    }
    if (auto done = write_band(w.band); !done) return done;
  }
  return {};
}

std::expected<void, Error> PngAssembler::finish() {
  if (rows_written() != options_.height) {
    return fail("internal error: only " + std::to_string(rows_written()) + " of " +
                std::to_string(options_.height) + " rows were assembled");
  }
  // An empty final fixed-Huffman block (03 00), then the Adler-32 of all filtered bytes.
  uint8_t trailer[6] = {0x03, 0x00};
  put_u32(trailer + 2, adler_);
  if (auto done = write_chunk("IDAT", trailer, sizeof trailer); !done) return done;
  if (auto done = write_chunk("IEND", nullptr, 0); !done) return done;
  if (std::fflush(file_) != 0) return io_error("write");
  if (::fsync(::fileno(file_)) != 0) return io_error("sync");
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    return io_error("close");
  }
  file_ = nullptr;
  std::error_code ec;
  std::filesystem::rename(temp_path_, options_.output, ec);
  if (ec) {
    return fail("cannot rename '" + temp_path_.string() + "' to '" + options_.output.string() +
                "': " + ec.message());
  }
  finished_ = true;
  return {};
}

void PngAssembler::discard() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  std::filesystem::remove(temp_path_, ec);
  for (auto& [row, w] : waiting_) {
    if (!w.spill_file.empty() && !w.stored) std::filesystem::remove(w.spill_file, ec);
  }
  waiting_.clear();
  held_bytes_ = 0;
}

}  // namespace taskdist
