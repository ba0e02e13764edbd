#include "render/image_stream.h"

#include <gtest/gtest.h>

#include <map>

namespace taskdist {
namespace {

// Pixel (x, y) of every test image: B = x, G = y, R = x + y, A = 200.
void push_row(std::vector<uint8_t>& out, int w, int y, int channels, size_t padding) {
  for (int x = 0; x < w; ++x) {
    out.push_back(static_cast<uint8_t>(x));
    out.push_back(static_cast<uint8_t>(y));
    out.push_back(static_cast<uint8_t>(x + y));
    if (channels == 4) out.push_back(200);
  }
  out.insert(out.end(), padding, 0xEE);
}

std::vector<uint8_t> make_tga(int w, int h, int channels, bool top_down = true) {
  std::vector<uint8_t> t(18, 0);
  t[0] = 3;  // a 3-byte image id field, to be skipped
  t[2] = 2;
  t[12] = static_cast<uint8_t>(w);
  t[13] = static_cast<uint8_t>(w >> 8);
  t[14] = static_cast<uint8_t>(h);
  t[15] = static_cast<uint8_t>(h >> 8);
  t[16] = static_cast<uint8_t>(channels * 8);
  t[17] = static_cast<uint8_t>((top_down ? 0x20 : 0) | (channels == 4 ? 8 : 0));
  for (char c : std::string("id!")) t.push_back(static_cast<uint8_t>(c));
  for (int i = 0; i < h; ++i) push_row(t, w, top_down ? i : h - 1 - i, channels, 0);
  return t;
}

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

// A BMP as POV-Ray writes it (bottom-up unless `top_down`), with a 2-byte gap before the pixels.
std::vector<uint8_t> make_bmp(int w, int h, int channels, bool top_down = false) {
  std::vector<uint8_t> b(56, 0);
  b[0] = 'B';
  b[1] = 'M';
  put32(b, 10, 56);
  put32(b, 14, 40);
  put32(b, 18, static_cast<uint32_t>(w));
  put32(b, 22, static_cast<uint32_t>(top_down ? -h : h));
  b[26] = 1;
  b[28] = static_cast<uint8_t>(channels * 8);
  const size_t row = static_cast<size_t>(w) * channels;
  const size_t padding = ((row + 3) & ~size_t{3}) - row;
  for (int i = 0; i < h; ++i) push_row(b, w, top_down ? i : h - 1 - i, channels, padding);
  put32(b, 2, static_cast<uint32_t>(b.size()));
  return b;
}

using Rows = std::vector<std::vector<uint8_t>>;

// Feeds `image` in pieces of `piece` bytes; returns the rows handed over.
Rows read_band(const std::vector<uint8_t>& image, RowRange keep, size_t piece,
               bool* band_done_early = nullptr) {
  Rows rows;
  int next = keep.begin;  // rows come in runs, each top to bottom
  ImageRowStream s(keep, [&](int y, std::span<const uint8_t> r) {
    EXPECT_EQ(y, next) << "top-down input is one run";
    next = y + 1;
    rows.emplace_back(r.begin(), r.end());
  });
  for (size_t at = 0; at < image.size(); at += piece) {
    const size_t n = std::min(piece, image.size() - at);
    EXPECT_TRUE(s.feed({image.data() + at, n}));
    if (band_done_early && s.band_complete() && !s.complete()) *band_done_early = true;
  }
  EXPECT_TRUE(s.complete());
  EXPECT_TRUE(s.band_complete());
  return rows;
}

void expect_band(const Rows& rows, RowRange keep, int w, int channels) {
  ASSERT_EQ(rows.size(), static_cast<size_t>(keep.count()));
  for (int i = 0; i < keep.count(); ++i) {
    const auto& r = rows[static_cast<size_t>(i)];
    const int y = keep.begin + i;
    ASSERT_EQ(r.size(), static_cast<size_t>(w * channels));
    for (int x = 0; x < w; ++x) {
      const size_t p = static_cast<size_t>(x * channels);
      EXPECT_EQ(r[p], static_cast<uint8_t>(x + y)) << "R at " << x << "," << y;
      EXPECT_EQ(r[p + 1], y);
      EXPECT_EQ(r[p + 2], x);
      if (channels == 4) {
        EXPECT_EQ(r[p + 3], 200);
      }
    }
  }
}

TEST(ImageRowStreamTest, KeepsOnlyTheBandsRowsAsRgbEvenFedByteByByte) {
  expect_band(read_band(make_tga(5, 7, 3), {2, 5}, 1), {2, 5}, 5, 3);
}

TEST(ImageRowStreamTest, ReadsAlpha) {
  expect_band(read_band(make_tga(2, 2, 4), {1, 2}, 1000), {1, 2}, 2, 4);
  expect_band(read_band(make_bmp(3, 4, 4), {1, 3}, 7), {1, 3}, 3, 4);
}

TEST(ImageRowStreamTest, BottomUpImagesGiveTheBandTopToBottomBeforeTheRestArrives) {
  bool early = false;
  expect_band(read_band(make_bmp(5, 9, 3), {6, 9}, 3, &early), {6, 9}, 5, 3);  // padded rows
  EXPECT_TRUE(early) << "the bottom band of a bottom-up image is complete before the image";
  expect_band(read_band(make_tga(4, 6, 3, /*top_down=*/false), {0, 6}, 5), {0, 6}, 4, 3);
  early = false;
  expect_band(read_band(make_bmp(6, 5, 3, /*top_down=*/true), {0, 2}, 4, &early), {0, 2}, 6, 3);
  EXPECT_TRUE(early);
}

TEST(ImageRowStreamTest, ABottomUpBandComesInRunsThatHoldNoMoreThanAllowed) {
  // Given: rows 3-19 of a bottom-up BMP 7 pixels wide (21 bytes a row), at most 64 bytes held.
  // Expect: runs of 3 rows (one of 2 at the top), the bottom run first, each top to bottom;
  // every row once, with the right pixels.
  const int w = 7;
  const auto bmp = make_bmp(w, 24, 3);
  std::vector<std::vector<int>> runs;
  std::map<int, std::vector<uint8_t>> by_row;
  ImageRowStream s({3, 20}, [&](int y, std::span<const uint8_t> r) {
    if (runs.empty() || y != runs.back().back() + 1) runs.emplace_back();
    runs.back().push_back(y);
    EXPECT_FALSE(by_row.contains(y)) << "row " << y << " twice";
    by_row[y].assign(r.begin(), r.end());
  }, 64);
  ASSERT_TRUE(s.feed(bmp));
  EXPECT_TRUE(s.band_complete());
  const std::vector<std::vector<int>> expected = {
      {17, 18, 19}, {14, 15, 16}, {11, 12, 13}, {8, 9, 10}, {5, 6, 7}, {3, 4}};
  EXPECT_EQ(runs, expected);
  Rows rows;
  for (auto& [y, r] : by_row) rows.push_back(r);
  expect_band(rows, {3, 20}, w, 3);
  // A row wider than the limit is a run of its own.
  runs.clear();
  by_row.clear();
  ImageRowStream one_row({3, 6}, [&](int y, std::span<const uint8_t>) {
    runs.push_back({y});
  }, 1);
  ASSERT_TRUE(one_row.feed(bmp));
  EXPECT_EQ(runs, (std::vector<std::vector<int>>{{5}, {4}, {3}}));
}

TEST(ImageRowStreamTest, RejectsWhatItCannotRead) {
  auto rle = make_tga(2, 2, 3);
  rle[2] = 10;
  ImageRowStream s({0, 2}, [](int, std::span<const uint8_t>) {});
  EXPECT_FALSE(s.feed(rle));
  auto rle_bmp = make_bmp(2, 2, 3);
  rle_bmp[30] = 1;
  ImageRowStream s2({0, 2}, [](int, std::span<const uint8_t>) {});
  auto err = s2.feed(rle_bmp);
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message().find("compressed BMP"), std::string::npos);
  auto deep = make_bmp(2, 2, 3);
  deep[28] = 16;
  ImageRowStream s3({0, 2}, [](int, std::span<const uint8_t>) {});
  EXPECT_FALSE(s3.feed(deep));
}

TEST(ImageRowStreamTest, IncompleteDataIsNotComplete) {
  auto tga = make_tga(4, 4, 3);
  tga.resize(tga.size() - 1);
  ImageRowStream s({0, 4}, [](int, std::span<const uint8_t>) {});
  ASSERT_TRUE(s.feed(tga));
  EXPECT_FALSE(s.complete());
  EXPECT_FALSE(s.band_complete());
  auto bmp = make_bmp(4, 4, 3);
  bmp.resize(bmp.size() - 1);  // the last row in the file is the image's top row
  ImageRowStream s2({0, 4}, [](int, std::span<const uint8_t>) {});
  ASSERT_TRUE(s2.feed(bmp));
  EXPECT_FALSE(s2.band_complete());
}

}  // namespace
}  // namespace taskdist
