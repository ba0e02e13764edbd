#include "core/pov_options.h"

#include <gtest/gtest.h>

namespace taskdist {
namespace {

TEST(PovOptionsTest, ReadsSizeFromSwitchesAndSettings) {
  EXPECT_EQ(classify_pov_option("+W800").kind, PovOptionKind::kWidth);
  EXPECT_EQ(classify_pov_option("+W800").value, "800");
  EXPECT_EQ(classify_pov_option("-h600").kind, PovOptionKind::kHeight);
  EXPECT_EQ(classify_pov_option("Width=800").kind, PovOptionKind::kWidth);
  EXPECT_EQ(classify_pov_option("height = 600").value, "600");
}

TEST(PovOptionsTest, TellsWorkThreadsFromWidth) {
  EXPECT_EQ(classify_pov_option("+WT2").kind, PovOptionKind::kThreads);
  EXPECT_EQ(classify_pov_option("+WL2").kind, PovOptionKind::kPassThrough);
}

TEST(PovOptionsTest, PassesQualityOptionsThrough) {
  for (const char* o : {"+A0.3", "+AM2", "+Q9", "-J", "Declare=X=1", "Antialias=on", "+R3"}) {
    EXPECT_EQ(classify_pov_option(o).kind, PovOptionKind::kPassThrough) << o;
  }
}

TEST(PovOptionsTest, RefusesOptionsThatBreakTheSplitWithAReason) {
  for (const char* o : {"+SR10", "+ER20", "+SC1", "+EC5", "Start_Row=3", "End_Column=0.5"}) {
    const PovOption opt = classify_pov_option(o);
    EXPECT_EQ(opt.kind, PovOptionKind::kRefused) << o;
    EXPECT_NE(opt.reason.find("rows"), std::string::npos) << o;
  }
  EXPECT_NE(classify_pov_option("+Oimage.png").reason.find("-o"), std::string::npos);
  EXPECT_NE(classify_pov_option("+KFF10").reason.find("animation"), std::string::npos);
  EXPECT_NE(classify_pov_option("Final_Frame=10").reason.find("animation"), std::string::npos);
  EXPECT_EQ(classify_pov_option("+FN16").kind, PovOptionKind::kRefused);
  EXPECT_EQ(classify_pov_option("+Iscene.pov").kind, PovOptionKind::kRefused);
  EXPECT_EQ(classify_pov_option("-D").kind, PovOptionKind::kPassThrough);
  EXPECT_EQ(classify_pov_option("+D").kind, PovOptionKind::kRefused);
}

TEST(PovOptionsTest, LibraryPathKeepsItsValue) {
  const PovOption opt = classify_pov_option("+L/usr/share/povray/include");
  EXPECT_EQ(opt.kind, PovOptionKind::kLibraryPath);
  EXPECT_EQ(opt.value, "/usr/share/povray/include");
}

TEST(PovOptionsTest, RecognisesWhatLooksLikeAnOption) {
  EXPECT_TRUE(looks_like_pov_option("+W8"));
  EXPECT_TRUE(looks_like_pov_option("-UA"));
  EXPECT_TRUE(looks_like_pov_option("Width=8"));
  EXPECT_FALSE(looks_like_pov_option("scene.pov"));
  EXPECT_FALSE(looks_like_pov_option("+5"));
  EXPECT_FALSE(looks_like_pov_option("=5"));
}

TEST(PovOptionsTest, ChecksDimensions) {
  int v = 0;
  EXPECT_FALSE(check_dimension("width", "640", &v));
  EXPECT_EQ(v, 640);
  for (const char* bad : {"0", "-5", "abc", "12x", "", "65536", "99999999999"}) {
    EXPECT_TRUE(check_dimension("width", bad, &v)) << bad;
  }
  EXPECT_NE(check_dimension("width", "0", &v)->find("between 1 and 65535"), std::string::npos);
  EXPECT_NE(check_dimension("width", "abc", &v)->find("whole number"), std::string::npos);
}

}  // namespace
}  // namespace taskdist
