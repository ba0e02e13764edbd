// The race without a browser: its side-by-side picture (both images, the times below), and what
// it says when that picture cannot be made.
#include <gtest/gtest.h>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

RunResult race(const fs::path& dir) {
  return run({taskdist_binary().string(), "race", blob_scene().string(), "+W320", "+H240", "+A0.3",
              "--solo", "1", "--team", "2", "--hold", "0", "-o", (dir / "race").string()});
}

TEST(RaceTest, ThePictureShowsBothImagesSideBySideWithTheCaptionBelow) {
  const fs::path dir = fresh_dir("race-picture");
  const RunResult r = race(dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("side-by-side"), std::string::npos) << r.err;
  const Image solo = decode_png(dir / "race" / "blob-solo.png");
  const Image team = decode_png(dir / "race" / "blob-team.png");
  const Image both = opaque_rgb(decode_png(dir / "race" / "blob-race.png"));
  // Given 320x240 images: 640 wide, with the caption's strip below them.
  ASSERT_EQ(both.width, 640);
  ASSERT_GT(both.height, 240);
  ASSERT_EQ(both.channels, solo.channels);
  EXPECT_EQ(count_differences(crop(both, 0, 0, 320, 240), solo), 0);
  EXPECT_EQ(count_differences(crop(both, 320, 0, 320, 240), team), 0);
  // The caption is written (white on black), not an empty strip.
  EXPECT_GT(count_bright_pixels(both, 240), 100);
  EXPECT_NE(r.out.find("speedup"), std::string::npos) << r.out;
}

TEST(RaceTest, SaysOnStderrWhenThePictureCannotBeMadeAndGoesOn) {
  const fs::path dir = fresh_dir("race-no-picture");
  // Given a folder where the picture would go, convert cannot write it.
  fs::create_directories(dir / "race" / "blob-race.png");
  const RunResult r = race(dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("could not make the side-by-side picture"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("convert exited with 1: convert"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("no side-by-side picture"), std::string::npos) << r.out;
  EXPECT_EQ(count_differences(decode_png(dir / "race" / "blob-solo.png"),
                              decode_png(dir / "race" / "blob-team.png")),
            0);
  EXPECT_TRUE(fs::is_directory(dir / "race" / "blob-race.png"));  // left as it was
}

}  // namespace
}  // namespace taskdist
