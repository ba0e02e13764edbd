// The bugs the fuzz tests (fuzz_test.cpp) found, one focused test each. "Found by" names the
// fuzz test, its seed and the input's number, as the fuzz run reported it before the fix.
#include <gtest/gtest.h>

#include <fstream>

#include "core/job.h"
#include "exec/scene_pack.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using testing::fresh_dir;

struct SceneDir {
  fs::path dir = fresh_dir("fuzz-regression");
  fs::path scene = dir / "s.pov";
  SceneDir() { std::ofstream(scene) << "sphere { 0, 1 }\n"; }

  JobRequest request(const fs::path& scene_or_ini, std::vector<std::string> args = {}) const {
    JobRequest r;
    r.scene = scene_or_ini.string();
    r.pov_args = std::move(args);
    r.output = (dir / "o.png").string();
    r.povray = "/bin/true";
    return r;
  }
  fs::path ini(const std::string& text) const {
    std::ofstream(dir / "r.ini", std::ios::binary) << text;
    return dir / "r.ini";
  }
};

// Found by FuzzTest.BuildJob, seed 20261122, input 86: '+SC+7\n+V20165' made a two-line message
// (and input 2: a CR from an INI file in the scene's name).
TEST(FuzzRegressionTest, AMessageQuotingANewlineStaysOneLine) {
  const SceneDir d;
  auto job = build_job(d.request(d.scene, {"+W1\n2"}));
  ASSERT_FALSE(job);
  EXPECT_EQ(job.error().message().find('\n'), std::string::npos) << job.error();
  EXPECT_NE(job.error().message().find("'1\\n2'"), std::string::npos) << job.error();

  job = build_job(d.request(d.ini("Input_File_Name=s.pov\rWidth=5\n")));
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("s.pov\\rWidth=5"), std::string::npos) << job.error();
}

// Found by FuzzTest.BuildJob, seed 20261122, input 19: an option with a space in it was handed
// on whole, and POV-Ray reads "+UA +SC40" as two options: the second one renders columns 40 on
// only, which breaks the split into bands.
TEST(FuzzRegressionTest, AnOptionWithWhiteSpaceIsRefusedNotSmuggledToPovray) {
  const SceneDir d;
  for (const char* smuggler : {"+UA +SC40", "Declare=X=1 +SR5", "+A0.3\t+KFF4", "+BS8 +EC9"}) {
    auto job = build_job(d.request(d.scene, {smuggler}));
    ASSERT_FALSE(job) << smuggler;
    EXPECT_NE(job.error().message().find("several options"), std::string::npos) << job.error();
  }
  auto job = build_job(d.request(d.ini("Input_File_Name=s.pov\n+A0.3 +SR10\n")));
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("r.ini:2"), std::string::npos) << job.error();
}

// Found by FuzzTest.BuildJob, seed 20261122, input 383: "Antialias = ..." from an INI file was
// handed on with its spaces, which POV-Ray refuses ("Problem with option setting").
TEST(FuzzRegressionTest, AnIniSettingWithSpacesAroundTheEqualsSignReachesPovrayAsKeyEqualsValue) {
  const SceneDir d;
  auto job = build_job(d.request(d.ini("Input_File_Name = s.pov\nAntialias = on\n+AM2\n")));
  ASSERT_TRUE(job) << job.error();
  EXPECT_EQ(job->pov_options, (std::vector<std::string>{"Antialias=on", "+AM2"}));
}

// Found by FuzzTest.BuildJob, seed 20261122, input 344 (and 185): a NUL byte in an INI file
// made a scene path or an option that the OS and POV-Ray would cut short at the NUL.
TEST(FuzzRegressionTest, ANulByteInAnIniFileIsRefused) {
  const SceneDir d;
  auto job = build_job(d.request(d.ini("Input_File_Name=s.pov\0x\n"s)));
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("NUL byte"), std::string::npos) << job.error();
  EXPECT_NE(job.error().message().find("s.pov\\0x"), std::string::npos) << job.error();

  job = build_job(d.request(d.ini("Input_File_Name=s.pov\nAntialias=0\0-F\n"s)));
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("r.ini:2"), std::string::npos) << job.error();
}

// Found by FuzzTest.BuildJob, seed 20261122, input 4: --povray /bin/ (a folder) was accepted,
// since a folder passes access(X_OK); every band then failed to start.
TEST(FuzzRegressionTest, AFolderIsNotAPovrayExecutable) {
  const SceneDir d;
  JobRequest r = d.request(d.scene);
  r.povray = d.dir.string() + "/";
  auto job = build_job(r);
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("not found"), std::string::npos) << job.error();
  EXPECT_EQ(find_executable("/bin/"), std::nullopt);
  EXPECT_NE(find_executable("/bin/true"), std::nullopt);
}

// Found by FuzzTest.ScenePack, seed 20261122, input 7: a mode field changed to 04755 made a
// setuid file (and group/world-writable ones), which pack_scene_dir never packs.
TEST(FuzzRegressionTest, UnpackKeepsNoSetuidOrWritableByOthersBits) {
  const fs::path dst = fresh_dir("fuzz-regression-mode");
  ScenePackWriter w;
  w.add_file("x.pov", "sphere{0,1}", 06777);
  const auto unpacked = unpack_scene(w.take(), dst);
  ASSERT_TRUE(unpacked) << unpacked.error().message();
  EXPECT_EQ(fs::status(dst / "x.pov").permissions(), fs::perms(0755));
}

// Found by FuzzTest.ScenePack, seed 20261122, input 3014 (a pack built from entries): beside a
// link "q" to ".", a link to "q/.." reads as inside the folder but leads to its parent.
TEST(FuzzRegressionTest, UnpackRefusesALinkThatLeavesThroughAnotherLink) {
  for (const bool q_first : {true, false}) {
    SCOPED_TRACE(q_first ? "q first" : "q last");
    const fs::path box = fresh_dir("fuzz-regression-link"), dst = box / "dst";
    fs::create_directory(dst);
    ScenePackWriter w;
    if (q_first) w.add_link("q", ".");
    w.add_link("x.pov", "q/..");
    if (!q_first) w.add_link("q", ".");
    const auto unpacked = unpack_scene(w.take(), dst);
    ASSERT_FALSE(unpacked);
    const std::string err = unpacked.error().message();
    EXPECT_NE(err.find("refused scene entry 'x.pov'"), std::string::npos) << err;
    EXPECT_FALSE(fs::is_symlink(dst / "x.pov")) << "the escaping link is removed";
  }
}

// Found beside the test above: with such a link in place, a file entry of the same name was
// written through it, outside the folder.
TEST(FuzzRegressionTest, UnpackNeverWritesThroughALinkOfThePack) {
  const fs::path box = fresh_dir("fuzz-regression-write"), dst = box / "dst";
  fs::create_directory(dst);
  ScenePackWriter w;
  w.add_link("q", ".");
  w.add_link("p", "q/../evil");
  w.add_file("p", "written outside");
  const auto unpacked = unpack_scene(w.take(), dst);
  ASSERT_FALSE(unpacked);
  const std::string err = unpacked.error().message();
  EXPECT_NE(err.find("refused scene entry 'p'"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(box / "evil"));
}

// Found by FuzzTest.ScenePack, seed 20261122, input 404: a damaged name with a newline made a
// two-line message.
TEST(FuzzRegressionTest, AnUnpackMessageQuotingANewlineStaysOneLine) {
  const fs::path dst = fresh_dir("fuzz-regression-name");
  ScenePackWriter w;
  w.add_link("a\nb", "/etc/passwd");
  const auto unpacked = unpack_scene(w.take(), dst);
  ASSERT_FALSE(unpacked);
  const std::string err = unpacked.error().message();
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_NE(err.find("'a\\nb'"), std::string::npos) << err;
}

}  // namespace
}  // namespace taskdist
