#include "core/pov_options.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test_support.h"

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

TEST(PovOptionsTest, TellsWhatAnOptionDoesToAntialiasing) {
  EXPECT_EQ(antialias_switch("+A"), true);
  EXPECT_EQ(antialias_switch("+a0.3"), true);
  EXPECT_EQ(antialias_switch("-A0.3"), false);
  EXPECT_EQ(antialias_switch("Antialias=On"), true);
  EXPECT_EQ(antialias_switch(" antialias = off"), false);
  for (const char* o : {"+AM2", "+AG2.2", "Antialias_Threshold=0.3", "Antialias_Method=1", "+W800",
                        "Declare=A=1"}) {
    EXPECT_EQ(antialias_switch(o), std::nullopt) << o;
  }
}

TEST(PovOptionsTest, FindsAntialiasingInPovraysOwnIniFiles) {
  // Given: INI files as POV-Ray reads them before the command line.
  namespace fs = std::filesystem;
  const fs::path dir = testing::fresh_dir("default-ini");
  auto ini = [&](const char* name, const char* text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  };
  const fs::path quiet = ini("quiet.ini", "; Antialias=on\nWidth=800\n+W800 -A +Q9\n[other]\n");
  const fs::path on = ini("on.ini", "Library_Path=/usr/share/povray-3.7\nAntialias = On ;yes\n");
  const fs::path switch_on = ini("switch.ini", "+W800 +A0.3\n");
  const fs::path names_another = ini("names.ini", "Width=800\nquality.ini\n");
  const fs::path includes = ini("includes.ini", "Include_Ini = quality.ini\n");
  const fs::path spaced = ini("spaced.ini", "Width = 800\nLibrary_Path = a b\n+W8 Declare=X=1\n");
  const fs::path mixed = ini("mixed.ini", "Declare=X=1 +A\n");
  // Expect: only files that may turn it on count; missing files do not.
  EXPECT_FALSE(ini_files_may_antialias({quiet, dir / "missing.ini"}));
  EXPECT_TRUE(ini_files_may_antialias({dir / "missing.ini", on}));
  EXPECT_TRUE(ini_files_may_antialias({quiet, switch_on}));
  EXPECT_TRUE(ini_files_may_antialias({names_another}));
  EXPECT_TRUE(ini_files_may_antialias({includes})) << "taskdist does not read the included one";
  EXPECT_FALSE(ini_files_may_antialias({spaced})) << "settings with spaces, as Debian's";
  EXPECT_TRUE(ini_files_may_antialias({mixed}));
  EXPECT_FALSE(ini_files_may_antialias({"/etc/povray/3.7/povray.ini"})) << "Debian's own";
  if (::geteuid() != 0) {  // root reads anything
    ::chmod(quiet.c_str(), 0);
    EXPECT_TRUE(ini_files_may_antialias({quiet})) << "a file that cannot be read may say anything";
  }
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
  EXPECT_EQ(classify_pov_option("+FN16").kind, PovOptionKind::kRefused);
  EXPECT_EQ(classify_pov_option("+Iscene.pov").kind, PovOptionKind::kRefused);
  EXPECT_EQ(classify_pov_option("-D").kind, PovOptionKind::kPassThrough);
  EXPECT_EQ(classify_pov_option("+D").kind, PovOptionKind::kRefused);
}

TEST(PovOptionsTest, AnimationOptionsAreReadWithTheirKey) {
  const struct {
    const char* option;
    const char* key;
    const char* value;
    bool enabled;
  } cases[] = {{"+KFI1", "KFI", "1", true},           {"+KFF51", "KFF", "51", true},
               {"+KI0.5", "KI", "0.5", true},         {"+KF-1", "KF", "-1", true},
               {"+SF3", "SF", "3", true},             {"+EF9", "EF", "9", true},
               {"+KC", "KC", "", true},               {"-KC", "KC", "", false},
               {"+STP2", "STP", "2", true},           {"Final_Frame=20", "FINAL_FRAME", "20", true},
               {"Subset_Start_Frame=0.25", "SUBSET_START_FRAME", "0.25", false},
               {"Cyclic_Animation=on", "CYCLIC_ANIMATION", "on", true},
               {"Frame_Step=3", "FRAME_STEP", "3", false}};
  for (const auto& c : cases) {
    const PovOption opt = classify_pov_option(c.option);
    EXPECT_EQ(opt.kind, PovOptionKind::kAnimation) << c.option;
    EXPECT_EQ(opt.key, c.key) << c.option;
    EXPECT_EQ(opt.value, c.value) << c.option;
    if (opt.key == "KC" || opt.key == "CYCLIC_ANIMATION") {
      EXPECT_EQ(opt.enabled, c.enabled) << c.option;
    }
  }
  // A clock value for a still is POV-Ray's +K, not an animation option.
  EXPECT_EQ(classify_pov_option("+K0.5").kind, PovOptionKind::kPassThrough);
  EXPECT_EQ(classify_pov_option("Output_File_Name=frames/a.png").kind, PovOptionKind::kOutputName);
  EXPECT_EQ(classify_pov_option("Output_File_Name=frames/a.png").value, "frames/a.png");
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
  EXPECT_TRUE(check_dimension("width", "640", &v));
  EXPECT_EQ(v, 640);
  for (const char* bad : {"0", "-5", "abc", "12x", "", "65536", "99999999999"}) {
    EXPECT_FALSE(check_dimension("width", bad, &v)) << bad;
  }
  EXPECT_NE(check_dimension("width", "0", &v).error().message().find("between 1 and 65535"), std::string::npos);
  EXPECT_NE(check_dimension("width", "abc", &v).error().message().find("whole number"), std::string::npos);
}

}  // namespace
}  // namespace taskdist
