#include "render/tga_stream.h"

#include <gtest/gtest.h>

namespace taskdist {
namespace {

std::vector<uint8_t> make_tga(int w, int h, int channels, bool top_down = true) {
  std::vector<uint8_t> t;
  t.reserve(18 + 3 + static_cast<size_t>(w) * h * channels);
  t.resize(18, 0);
  t[0] = 3;  // a 3-byte image id field, to be skipped
  t[2] = 2;
  t[12] = static_cast<uint8_t>(w);
  t[13] = static_cast<uint8_t>(w >> 8);
  t[14] = static_cast<uint8_t>(h);
  t[15] = static_cast<uint8_t>(h >> 8);
  t[16] = static_cast<uint8_t>(channels * 8);
  t[17] = static_cast<uint8_t>((top_down ? 0x20 : 0) | (channels == 4 ? 8 : 0));
  for (char c : std::string("id!")) t.push_back(static_cast<uint8_t>(c));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      t.push_back(static_cast<uint8_t>(x));        // B
      t.push_back(static_cast<uint8_t>(y));        // G
      t.push_back(static_cast<uint8_t>(x + y));    // R
      if (channels == 4) t.push_back(200);         // A
    }
  }
  return t;
}

TEST(TgaStreamTest, KeepsOnlyTheBandsRowsAsRgbEvenFedByteByByte) {
  const auto tga = make_tga(5, 7, 3);
  std::vector<std::vector<uint8_t>> rows;
  TgaStream s({2, 5}, [&](std::span<const uint8_t> r) { rows.emplace_back(r.begin(), r.end()); });
  for (uint8_t b : tga) ASSERT_FALSE(s.feed({&b, 1}));
  EXPECT_TRUE(s.complete());
  ASSERT_EQ(rows.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const int y = 2 + i;
    EXPECT_EQ(rows[static_cast<size_t>(i)][0], y);          // R of x=0
    EXPECT_EQ(rows[static_cast<size_t>(i)][1], y);          // G
    EXPECT_EQ(rows[static_cast<size_t>(i)][2], 0);          // B
    EXPECT_EQ(rows[static_cast<size_t>(i)][3 * 4], 4 + y);  // R of x=4
  }
}

TEST(TgaStreamTest, ReadsAlpha) {
  const auto tga = make_tga(2, 2, 4);
  std::vector<uint8_t> row;
  TgaStream s({1, 2}, [&](std::span<const uint8_t> r) { row.assign(r.begin(), r.end()); });
  ASSERT_FALSE(s.feed(tga));
  ASSERT_EQ(row.size(), 8u);
  EXPECT_EQ(row[3], 200);
  EXPECT_EQ(s.channels(), 4);
}

TEST(TgaStreamTest, RejectsWhatItCannotRead) {
  auto tga = make_tga(2, 2, 3, /*top_down=*/false);
  TgaStream s({0, 2}, [](std::span<const uint8_t>) {});
  auto err = s.feed(tga);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("bottom-up"), std::string::npos);
  auto rle = make_tga(2, 2, 3);
  rle[2] = 10;
  TgaStream s2({0, 2}, [](std::span<const uint8_t>) {});
  EXPECT_TRUE(s2.feed(rle));
}

TEST(TgaStreamTest, IncompleteDataIsNotComplete) {
  auto tga = make_tga(4, 4, 3);
  tga.resize(tga.size() - 1);
  TgaStream s({0, 4}, [](std::span<const uint8_t>) {});
  ASSERT_FALSE(s.feed(tga));
  EXPECT_FALSE(s.complete());
}

}  // namespace
}  // namespace taskdist
