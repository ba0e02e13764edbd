#include "store/band_file.h"

#include <zlib.h>

#include <fstream>

#include <fmt/format.h>

#include "store/durable_file.h"

namespace taskdist {
namespace {

constexpr std::string_view kMagic = "TDBAND1\n";
constexpr size_t kHeaderSize = 8 + 4 * 4 + 8 * 2;  // magic, begin, end, adler, crc, raw, size

void put(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get(const std::string& in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
  }
  return v;
}

uint32_t crc_of(const std::string& data) {
  return static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

}  // namespace

std::string band_file_name(RowRange rows) {
  return fmt::format("band-{:06}-{:06}.tdb", rows.begin + 1, rows.end);
}

std::expected<void, Error> write_band_file(const std::filesystem::path& dir,
                                           const EncodedBand& band) {
  std::string header{kMagic};
  put(header, static_cast<uint32_t>(band.rows.begin), 4);
  put(header, static_cast<uint32_t>(band.rows.end), 4);
  put(header, band.adler, 4);
  put(header, crc_of(band.deflated), 4);
  put(header, band.raw_bytes, 8);
  put(header, band.deflated.size(), 8);
  const auto path = dir / band_file_name(band.rows);
  if (auto written = write_file_durably(path, {header, band.deflated}); !written) {
    return fail(fmt::format("cannot write band file '{}': {}", path.string(), written.error()));
  }
  return {};
}

std::expected<EncodedBand, Error> read_band_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(fmt::format("cannot read band file '{}'", path.string()));
  std::string header(kHeaderSize, '\0');
  in.read(header.data(), static_cast<std::streamsize>(kHeaderSize));
  if (in.gcount() != static_cast<std::streamsize>(kHeaderSize) ||
      header.compare(0, kMagic.size(), kMagic) != 0) {
    return fail(fmt::format("'{}' is not a band file", path.string()));
  }
  EncodedBand band;
  band.rows.begin = static_cast<int>(get(header, 8, 4));
  band.rows.end = static_cast<int>(get(header, 12, 4));
  band.adler = static_cast<uint32_t>(get(header, 16, 4));
  const auto crc = static_cast<uint32_t>(get(header, 20, 4));
  band.raw_bytes = get(header, 24, 8);
  const uint64_t size = get(header, 32, 8);
  // The deflated bytes go straight into the band (one copy of them in memory, not two).
  std::error_code ec;
  const uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec || file_size - kHeaderSize != size) {
    return fail(fmt::format("band file '{}' is truncated", path.string()));
  }
  band.deflated.resize(size);
  in.read(band.deflated.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size) {
    return fail(fmt::format("band file '{}' is truncated", path.string()));
  }
  if (crc_of(band.deflated) != crc || band.rows.end <= band.rows.begin) {
    return fail(fmt::format("band file '{}' is damaged (checksum)", path.string()));
  }
  return band;
}

}  // namespace taskdist
