#include "image/png_assembler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "image/band_encoder.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> random_image(int w, int h, int c, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * c);
  // Smooth gradients with noise: like a render, and not trivially compressible.
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int k = 0; k < c; ++k) {
        px[(static_cast<size_t>(y) * w + x) * c + k] =
            static_cast<uint8_t>((x * (k + 1) + y * 3 + rng() % 8) & 0xff);
      }
    }
  }
  return px;
}

EncodedBand encode(const std::vector<uint8_t>& px, int w, int c, RowRange rows, int level = 6) {
  BandEncoder enc(w, c, level);
  const size_t stride = static_cast<size_t>(w) * c;
  for (int y = rows.begin; y < rows.end; ++y) {
    enc.add_row(y, {px.data() + stride * y, stride});
  }
  return enc.finish(rows);
}

void assemble_and_check(int w, int h, int c, std::vector<RowRange> order, size_t budget) {
  const auto px = random_image(w, h, c, 7);
  const fs::path dir = testing::fresh_dir("png");
  PngAssembler::Options o{.width = w, .height = h, .alpha = c == 4, .output = dir / "out.png",
                          .spill_dir = dir, .memory_budget = budget};
  auto a = PngAssembler::create(o);
  ASSERT_TRUE(a) << a.error();
  for (const RowRange& r : order) ASSERT_TRUE((*a)->add(encode(px, w, c, r)));
  EXPECT_FALSE(fs::exists(dir / "out.png")) << "never a half-written output";
  ASSERT_TRUE((*a)->finish());
  const auto img = testing::decode_png(dir / "out.png");
  EXPECT_EQ(img.width, w);
  EXPECT_EQ(img.channels, c);
  EXPECT_TRUE(img.pixels == px) << "decoded pixels differ";
  // Nothing but the output is left: no temp file, no spilled band.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(PngAssemblerTest, InOrderBandsMakeAValidPng) {
  assemble_and_check(97, 64, 3, {{0, 32}, {32, 40}, {40, 64}}, 1 << 20);
}

TEST(PngAssemblerTest, OutOfOrderBandsWaitAndSpill) {
  // Budget 0: every early band goes to disk and comes back.
  assemble_and_check(50, 90, 3, {{60, 90}, {30, 60}, {0, 30}}, 0);
  assemble_and_check(50, 90, 4, {{30, 60}, {0, 1}, {60, 90}, {1, 30}}, 1 << 20);
}

TEST(PngAssemblerTest, ABandEncodedInRunsBottomRunFirstIsTheSameImage) {
  // Given: band 10-69 of an image encoded as a bottom-up image delivers it, runs of 7 rows
  // (the last one short), the bottom run first, each top to bottom; the bands around it whole.
  // Expect: the assembled PNG is the image, and the band checks out as one.
  const int w = 61, h = 80, c = 3;
  const auto px = random_image(w, h, c, 11);
  const size_t stride = static_cast<size_t>(w) * c;
  BandEncoder enc(w, c, 6);
  for (int run_end = 70; run_end > 10; run_end -= 7) {
    for (int y = std::max(10, run_end - 7); y < run_end; ++y) {
      enc.add_row(y, {px.data() + stride * y, stride});
    }
  }
  const EncodedBand runs = enc.finish({10, 70});
  EXPECT_TRUE(check_band(runs, w, c));
  EXPECT_EQ(runs.raw_bytes, encode(px, w, c, {10, 70}).raw_bytes);
  EXPECT_EQ(runs.adler, encode(px, w, c, {10, 70}).adler);
  const fs::path dir = testing::fresh_dir("png");
  auto a = PngAssembler::create({.width = w, .height = h, .alpha = false,
                                 .output = dir / "runs.png", .spill_dir = dir});
  ASSERT_TRUE(a);
  ASSERT_TRUE((*a)->add(encode(px, w, c, {0, 10})));
  ASSERT_TRUE((*a)->add(runs));
  ASSERT_TRUE((*a)->add(encode(px, w, c, {70, h})));
  ASSERT_TRUE((*a)->finish());
  EXPECT_TRUE(testing::decode_png(dir / "runs.png").pixels == px);
  // Runs that are not bottom-up, one above the other, are a caller's bug.
  BandEncoder bad(w, c, 6);
  bad.add_row(20, {px.data(), stride});
  bad.add_row(10, {px.data(), stride});
  EXPECT_DEATH(bad.add_row(5, {px.data(), stride}), "CHECK\\(pieces_.empty\\(\\) \\|\\| next_row_ == previous_top_row_\\) failed");
}

TEST(PngAssemblerTest, LargeBandsSpanSeveralIdatChunks) {
  // Level 0 (stored): 600x700x3 bytes is well over one 1 MiB chunk.
  const int w = 600, h = 700;
  const auto px = random_image(w, h, 3, 3);
  const fs::path dir = testing::fresh_dir("png");
  auto a = PngAssembler::create({.width = w, .height = h, .alpha = false,
                                 .output = dir / "big.png", .spill_dir = dir});
  ASSERT_TRUE(a);
  ASSERT_TRUE((*a)->add(encode(px, w, 3, {0, h}, 0)));
  ASSERT_TRUE((*a)->finish());
  EXPECT_TRUE(testing::decode_png(dir / "big.png").pixels == px);
}

TEST(PngAssemblerTest, DiscardLeavesNothing) {
  const fs::path dir = testing::fresh_dir("png");
  {
    auto a = PngAssembler::create({.width = 8, .height = 8, .alpha = false,
                                   .output = dir / "x.png", .spill_dir = dir, .memory_budget = 0});
    ASSERT_TRUE(a);
    const auto px = random_image(8, 8, 3, 1);
    ASSERT_TRUE((*a)->add(encode(px, 8, 3, {4, 8})));
    (*a)->discard();
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(PngAssemblerTest, UnwritableDirectoryIsNamed) {
  auto a = PngAssembler::create({.width = 8, .height = 8, .alpha = false,
                                 .output = "/proc/no-such-dir/x.png", .spill_dir = "/tmp"});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("/proc/no-such-dir/x.png"), std::string::npos) << a.error();
}

}  // namespace
}  // namespace taskdist
