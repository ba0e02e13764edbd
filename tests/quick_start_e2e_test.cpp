// The quick start (render/quick_start.h): the preload that cuts POV-Ray's polling timers, what
// it touches and what it leaves alone, and the fallback where it cannot load. The pixel tests of
// render_e2e_test.cpp run with it on and off.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

fs::path preload() { return TASKDIST_PRELOAD; }

// How many times `needle` occurs in `text`.
int occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(QuickStartTest, ThePreloadCutsPovraysWaitsAndLeavesItsPixelsAndOtherProgramsAlone) {
  const fs::path dir = fresh_dir("quick-start-preload");
  const fs::path proof = dir / "proof";
  const std::map<std::string, std::string> env = {
      {"LD_PRELOAD", preload().string()}, {"TASKDIST_QUICK_START_PROOF", proof.string()}};
  // Not POV-Ray: a 50 ms sleep is left whole, and nothing is cut.
  const auto before = std::chrono::steady_clock::now();
  RunResult r = run({"sleep", "0.05"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(50));
  EXPECT_FALSE(fs::exists(proof)) << "the preload cut a wait in a program that is not povray";
  // POV-Ray: its waits are cut (the proof), and its image is POV-Ray's own.
  const fs::path out = dir / "blob.png";
  r = run({"povray", "+I" + blob_scene().string(), "+W64", "+H48", "-D", "+O" + out.string()}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(proof)) << "the preload cut none of povray's waits";
  EXPECT_EQ(count_differences(decode_png(out), decode_png(reference_render(blob_scene(), 64, 48, {}))),
            0);
}

// A povray wrapper that logs LD_PRELOAD and its arguments on every start.
fs::path logging_povray(const fs::path& dir, const fs::path& log, const std::string& before = "") {
  return write_script(dir, "povray-logging",
                      fmt::format("echo \"$LD_PRELOAD | $*\" >> '{}'\n{}exec povray \"$@\"\n",
                                  log.string(), before));
}

TEST(QuickStartTest, EveryBandRunsWithThePreloadAndNoneWithNoQuickStart) {
  const fs::path dir = fresh_dir("quick-start-bands");
  const Image reference = decode_png(reference_render(blob_scene(), 320, 240, {}));
  for (const bool quick_start : {true, false}) {
    SCOPED_TRACE(quick_start ? "default" : "--no-quick-start");
    const fs::path log = dir / fmt::format("log-{}", quick_start);
    const fs::path out = dir / fmt::format("out-{}.png", quick_start);
    std::vector<std::string> argv = {taskdist_binary().string(), "render", blob_scene().string(),
                                     "+W320", "+H240", "-o", out.string(), "-j2", "-q",
                                     "--povray", logging_povray(dir, log).string(), "--report",
                                     out.string() + ".json"};
    if (!quick_start) argv.push_back("--no-quick-start");
    const RunResult r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);
    const std::string starts = read_file(log);
    const auto tasks = static_cast<int>(read_json(out.string() + ".json").at("tasks").size());
    // No render of its own: the first bands are the check.
    EXPECT_EQ(occurrences(starts, "\n"), tasks) << starts;
    EXPECT_EQ(occurrences(starts, "povray-quick-start.so"), quick_start ? tasks : 0) << starts;
  }
}

TEST(QuickStartTest, WherePovrayDoesNotLoadItTheRenderSaysSoOnceAndIsTheSame) {
  const fs::path dir = fresh_dir("quick-start-unloaded");
  // What a static binary, a setuid one or a site that strips LD_PRELOAD amounts to.
  const fs::path log = dir / "log";
  const fs::path wrapper = logging_povray(dir, log, "unset LD_PRELOAD\n");
  const fs::path out = dir / "out.png";
  const RunResult r = run({taskdist_binary().string(), "render", blob_scene().string(), "+W640",
                           "+H480", "-o", out.string(), "-j2", "-q", "--povray", wrapper.string(),
                           "--no-profile", "--report", out.string() + ".json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "taskdist: quick start is off on this machine: povray did not load it, or has none "
            "of the waits it shortens (a static or setuid binary, LD_PRELOAD ignored, or another "
            "POV-Ray build); each band pays POV-Ray's full start-up (about 0.7 s)\n");
  EXPECT_EQ(count_differences(decode_png(out), decode_png(reference_render(blob_scene(), 640, 480, {}))),
            0);
  // The first bands had it (they were the check); the bands after the first ended, not.
  const std::string starts = read_file(log);
  const int tasks = static_cast<int>(read_json(out.string() + ".json").at("tasks").size());
  EXPECT_GE(occurrences(starts, "povray-quick-start.so"), 1) << starts;
  EXPECT_LT(occurrences(starts, "povray-quick-start.so"), tasks) << starts;
}

TEST(QuickStartTest, InANoexecTempFolderItFallsBackAndSaysWhy) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a noexec tmpfs needs root";
  const fs::path tmp = fresh_dir("quick-start-noexec");
  ASSERT_EQ(::mount("tmpfs", tmp.c_str(), "tmpfs", MS_NOEXEC, "size=64m"), 0) << strerror(errno);
  const fs::path out = fresh_dir("quick-start-noexec-out") / "out.png";
  const RunResult r = run({taskdist_binary().string(), "render", blob_scene().string(), "+W160",
                           "+H120", "-o", out.string(), "-j2", "-q"},
                          {{"TMPDIR", tmp.string()}});
  const bool empty = fs::is_empty(tmp);
  ::umount(tmp.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(occurrences(r.err, "quick start is off on this machine: "), 1) << r.err;
  EXPECT_NE(r.err.find("is on a noexec filesystem"), std::string::npos) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), decode_png(reference_render(blob_scene(), 160, 120, {}))),
            0);
  EXPECT_TRUE(empty) << "the scratch folder was left behind";
}

TEST(QuickStartTest, APovrayThatFailsAloneIsReportedAsItselfNotAsTheQuickStart) {
  const fs::path out = fresh_dir("quick-start-false") / "out.png";
  const RunResult r = run({taskdist_binary().string(), "render", blob_scene().string(), "+W64",
                           "+H48", "-o", out.string(), "-q", "--povray", "/bin/false"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("quick start"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("povray exited with code 1"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace taskdist
