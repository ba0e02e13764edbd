// Bad input: each case checks the exit code, the message, and that nothing was written.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

constexpr int kUsage = 2;
constexpr int kRenderFailed = 1;

RunResult taskdist(std::vector<std::string> args, const std::map<std::string, std::string>& env = {},
                   const fs::path& cwd = {}) {
  args.insert(args.begin(), {taskdist_binary().string(), "render"});
  return run(args, env, 120, cwd);
}

void expect_error(const RunResult& r, int code, const std::string& message) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << "stderr was: " << r.err;
}

TEST(BadInputTest, PovrayMissingNamesThePackage) {
  const fs::path dir = fresh_dir("nopov");
  const RunResult r = taskdist({blob_scene().string(), "-o", (dir / "o.png").string()},
                               {{"PATH", dir.string()}});
  expect_error(r, kUsage, "apt-get install povray");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, SceneMissing) {
  const fs::path dir = fresh_dir("noscene");
  expect_error(taskdist({(dir / "missing.pov").string(), "-o", (dir / "o.png").string()}), kUsage,
               "missing.pov' not found");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, ParseErrorIsShownOnceAndStopsTheJob) {
  const fs::path dir = fresh_dir("parse");
  std::ofstream(dir / "bad.pov") << "camera { location <0,0,-3> look_at 0 }\n"
                                    "light_source { <1,1,-1> rgb 1 }\n"
                                    "sphere { 0, 1 pigment { rgb 1 } }\n"
                                    "foo\n";
  const RunResult r = taskdist({(dir / "bad.pov").string(), "+W640", "+H480", "-j3", "--policy",
                                "dynamic", "-o", (dir / "o.png").string()});
  expect_error(r, kRenderFailed, "bad.pov' line 4: Parse Error");
  size_t count = 0;
  for (size_t at = r.err.find("Parse Error"); at != std::string::npos;
       at = r.err.find("Parse Error", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << r.err;
  EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a scene error is not retried";
  EXPECT_FALSE(fs::exists(dir / "o.png"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1)
      << "only the scene is left";
}

TEST(BadInputTest, MissingIncludeIsASceneError) {
  const fs::path dir = fresh_dir("include");
  std::ofstream(dir / "inc.pov") << "#include \"nothere.inc\"\n";
  expect_error(taskdist({(dir / "inc.pov").string(), "-o", (dir / "o.png").string()}),
               kRenderFailed, "Parse Error: Cannot");
  EXPECT_NE(taskdist({(dir / "inc.pov").string(), "-o", (dir / "o.png").string()}).err.find("nothere.inc"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "o.png"));
}

TEST(BadInputTest, AnOptionPovrayRejectsStopsTheJobOnce) {
  const fs::path dir = fresh_dir("badopt");
  const RunResult r = taskdist({blob_scene().string(), "+W64", "+H64", "-j2", "Quality=hello", "-o",
                                (dir / "o.png").string()});
  expect_error(r, kRenderFailed, "Problem with option setting");
  EXPECT_NE(r.err.find("Quality=hello"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a deterministic error is not retried";
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, BadSizes) {
  const fs::path dir = fresh_dir("size");
  const std::string out = (dir / "o.png").string();
  expect_error(taskdist({blob_scene().string(), "+W0", "-o", out}), kUsage,
               "width (+W) must be between 1 and 65535 pixels, got 0");
  expect_error(taskdist({blob_scene().string(), "+H-5", "-o", out}), kUsage,
               "height (+H) must be between 1 and 65535 pixels, got -5");
  expect_error(taskdist({blob_scene().string(), "+Wabc", "-o", out}), kUsage,
               "width (+W) must be a whole number of pixels, got 'abc'");
  expect_error(taskdist({blob_scene().string(), "Height=70000", "-o", out}), kUsage,
               "height (+H) must be between 1 and 65535");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, OutputDirectoryMissing) {
  const fs::path dir = fresh_dir("outdir");
  expect_error(taskdist({blob_scene().string(), "-o", (dir / "nope" / "o.png").string()}), kUsage,
               "does not exist");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, OutputDirectoryUnwritable) {
  const fs::path dir = fresh_dir("readonly");
  bool mounted = false;
  if (::geteuid() == 0) {
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", MS_RDONLY, "size=64k") == 0;
    if (!mounted) GTEST_SKIP() << "cannot mount a read-only tmpfs here";
  } else {
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  }
  const RunResult r = taskdist({blob_scene().string(), "+W32", "+H32", "-o", (dir / "o.png").string()});
  if (mounted) ::umount(dir.c_str());
  fs::permissions(dir, fs::perms::owner_all);
  expect_error(r, kUsage, "is not writable");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, ZeroSlots) {
  const fs::path dir = fresh_dir("j0");
  expect_error(taskdist({blob_scene().string(), "-j", "0", "-o", (dir / "o.png").string()}), kUsage,
               "--jobs");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, OptionsThatBreakTheSplitAreRefusedWithAReason) {
  const fs::path dir = fresh_dir("refused");
  const std::string out = (dir / "o.png").string();
  expect_error(taskdist({blob_scene().string(), "+SR10", "-o", out}), kUsage,
               "option '+SR10' is not accepted: taskdist sets the rows");
  expect_error(taskdist({blob_scene().string(), "+Oother.png", "-o", out}), kUsage, "-o OUT.png");
  expect_error(taskdist({blob_scene().string(), "+KFI10", "+KFF10", "-o", out}), kUsage,
               "option '+KFF10': an animation of the one frame 10 is refused");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(BadInputTest, HelpDocumentsExitCodes) {
  const RunResult r = run({taskdist_binary().string(), "render", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--policy"), std::string::npos);
}

}  // namespace
}  // namespace taskdist
