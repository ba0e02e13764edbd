#include "image/band_encoder.h"
#include "store/band_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

TEST(BandFileTest, RoundTripsAndDetectsDamage) {
  const fs::path dir = testing::fresh_dir("bands");
  EncodedBand band;
  band.rows = {32, 64};
  band.deflated = std::string("\x01\x02\x03 deflated bytes", 18);
  band.adler = 0x12345678;
  band.raw_bytes = 4242;
  ASSERT_TRUE(write_band_file(dir, band));
  const fs::path path = dir / "band-000033-000064.tdb";
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(dir / "band-000033-000064.tdb.part"));
  auto back = read_band_file(path);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->rows, band.rows);
  EXPECT_EQ(back->deflated, band.deflated);
  EXPECT_EQ(back->adler, band.adler);
  EXPECT_EQ(back->raw_bytes, band.raw_bytes);

  // One flipped byte in the payload, then a torn file: both refused.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('X');
  }
  EXPECT_FALSE(read_band_file(path));
  fs::resize_file(path, fs::file_size(path) - 5);
  auto torn = read_band_file(path);
  ASSERT_FALSE(torn);
  EXPECT_NE(torn.error().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace taskdist

namespace taskdist {
namespace {

TEST(BandCheckTest, AcceptsAWholeBandAndNamesEveryKindOfDamage) {
  BandEncoder enc(5, 3, 6);
  std::vector<uint8_t> row(15);
  for (int r = 0; r < 4; ++r) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<uint8_t>(r * 31 + i * 7);
    enc.add_row(10 + r, row);
  }
  const EncodedBand good = enc.finish({10, 14});
  EXPECT_TRUE(check_band(good, 5, 3));
  EXPECT_FALSE(check_band(good, 6, 3)) << "rows of another width";

  EncodedBand flipped = good;
  flipped.deflated[flipped.deflated.size() / 2] ^= 0x10;
  EXPECT_FALSE(check_band(flipped, 5, 3));

  EncodedBand cut = good;
  cut.deflated.resize(cut.deflated.size() / 2);
  const auto cut_error = check_band(cut, 5, 3);
  ASSERT_FALSE(cut_error);
  EXPECT_NE(cut_error.error().message().find("not 64"), std::string::npos) << cut_error.error();

  EncodedBand wrong_sum = good;
  wrong_sum.adler ^= 1;
  EXPECT_EQ(check_band(wrong_sum, 5, 3).error().message(), "its checksum (Adler-32) does not match");
}

}  // namespace
}  // namespace taskdist
