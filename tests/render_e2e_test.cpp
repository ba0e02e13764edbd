// End-to-end: the real taskdist binary drives the real povray; every image is compared pixel by
// pixel with one full povray render of the same scene and options.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/pov_options.h"
#include "exec/subprocess.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

fs::path skewed_scene() { return source_dir() / "scenes" / "skewed.pov"; }

struct Case {
  const char* scene;
  int width;
  int height;
  bool antialias;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.scene << ' ' << c.width << 'x' << c.height << (c.antialias ? " +A0.3 +AM1" : "");
}

// Each case runs with the quick start (the default) and with --no-quick-start.
using QuickStartCase = std::tuple<Case, bool>;

std::string case_name(const ::testing::TestParamInfo<QuickStartCase>& info) {
  const auto& [c, quick_start] = info.param;
  return std::string(c.scene) + "_" + std::to_string(c.width) + "x" + std::to_string(c.height) +
         (c.antialias ? "_aa" : "_noaa") + (quick_start ? "" : "_no_quick_start");
}

class RenderMatchesFullRender : public ::testing::TestWithParam<QuickStartCase> {};

TEST_P(RenderMatchesFullRender, ForEverySlotCountAndPolicy) {
  const auto& [c, quick_start] = GetParam();
  const fs::path scene = std::string(c.scene) == "blob" ? blob_scene() : skewed_scene();
  const std::vector<std::string> opts =
      c.antialias ? std::vector<std::string>{"+A0.3", "+AM1"} : std::vector<std::string>{};
  const Image reference = decode_png(reference_render(scene, c.width, c.height, opts));
  const fs::path dir = fresh_dir("e2e");
  bool cut_between_blocks = false;  // a band boundary that is no multiple of the block size
  std::string boundaries;           // every run's, for the message
  for (int slots : {1, 2, 3}) {
    for (const char* policy : {"static", "dynamic"}) {
      SCOPED_TRACE(fmt::format("-j{} --policy {}", slots, policy));
      const fs::path out = dir / fmt::format("j{}-{}.png", slots, policy);
      std::vector<std::string> argv = {taskdist_binary().string(), "render", scene.string(),
                                       "+W" + std::to_string(c.width),
                                       "+H" + std::to_string(c.height)};
      argv.insert(argv.end(), opts.begin(), opts.end());
      argv.insert(argv.end(), {"-o", out.string(), "-j", std::to_string(slots), "--policy", policy,
                               "--quiet", "--report", out.string() + ".json"});
      if (!quick_start) argv.push_back("--no-quick-start");
      const RunResult r = run(argv);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(count_differences(decode_png(out), reference), 0);
      const auto report = read_json(out.string() + ".json");
      for (const auto& t : report["tasks"]) {
        const int first = t["first_row"].get<int>();
        if (c.antialias) {
          EXPECT_EQ(first % 32, 0) << "method 1 needs bands on render blocks";
        }
        cut_between_blocks = cut_between_blocks || first % 32 != 0;
        boundaries += fmt::format(" {}", first);
      }
      boundaries += fmt::format(" (-j{} {});", slots, policy);
    }
  }
  // Without antialiasing bands may start on any row (and the dynamic policy's do here), unless
  // this machine's own povray.ini may turn it on.
  const bool may_cut_anywhere = !c.antialias && !ini_files_may_antialias(default_ini_files());
  EXPECT_EQ(cut_between_blocks, may_cut_anywhere) << "bands started on rows" << boundaries;
}

INSTANTIATE_TEST_SUITE_P(Scenes, RenderMatchesFullRender,
                         ::testing::Combine(::testing::Values(Case{"blob", 640, 480, false},
                                                              Case{"blob", 640, 480, true},
                                                              Case{"blob", 1024, 768, false},
                                                              Case{"blob", 1024, 768, true},
                                                              Case{"skewed", 640, 480, false},
                                                              Case{"skewed", 640, 480, true},
                                                              Case{"skewed", 1024, 768, false},
                                                              Case{"skewed", 1024, 768, true}),
                                            ::testing::Bool()),
                         case_name);

TEST(RenderTest, AlphaChannelMatchesAFullRender) {
  const std::vector<std::string> opts = {"+UA"};
  const Image reference = decode_png(reference_render(skewed_scene(), 320, 240, opts));
  ASSERT_EQ(reference.channels, 4);
  const fs::path out = fresh_dir("alpha") / "a.png";
  const RunResult r = run({taskdist_binary().string(), "render", skewed_scene().string(), "+W320",
                           "+H240", "+UA", "-o", out.string(), "-j2", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
}

TEST(RenderTest, IniFileSetsSceneAndSize) {
  const fs::path dir = fresh_dir("ini");
  std::ofstream(dir / "job.ini") << "Input_File_Name=" << blob_scene().string()
                                 << "\nWidth=160\nHeight=120\nAntialias=on\nAntialias_Threshold=0.3\n";
  const fs::path out = dir / "ini.png";
  const RunResult r =
      run({taskdist_binary().string(), "render", (dir / "job.ini").string(), "-o", out.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Image reference = decode_png(
      reference_render(blob_scene(), 160, 120, {"Antialias=on", "Antialias_Threshold=0.3"}));
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
}

TEST(RenderTest, FindsIncludesBesideTheSceneFromAnyDirectory) {
  const fs::path scene_dir = fresh_dir("scene with include");  // spaces: POV-Ray needs quotes
  std::ofstream(scene_dir / "colours.inc") << "#declare Tint = rgb <0.9, 0.4, 0.1>;\n";
  std::ofstream(scene_dir / "scene.pov")
      << "#include \"colours.inc\"\ncamera { location <0,0,-4> look_at 0 }\n"
         "light_source { <2,3,-4> rgb 1 }\nsphere { 0, 1 pigment { Tint } }\n";
  const fs::path elsewhere = fresh_dir("elsewhere");
  const RunResult r = run({taskdist_binary().string(), "render", (scene_dir / "scene.pov").string(),
                           "+W96", "+H64", "-o", "out.png", "-j2", "-q"},
                          {}, 120, elsewhere);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Image reference = decode_png(reference_render(scene_dir / "scene.pov", 96, 64, {}));
  EXPECT_EQ(count_differences(decode_png(elsewhere / "out.png"), reference), 0);
}

TEST(RenderTest, ReportHasThePhasesTasksAndPeakMemory) {
  const fs::path dir = fresh_dir("report");
  const RunResult r = run({taskdist_binary().string(), "render", blob_scene().string(), "+W320",
                           "+H240", "-o", (dir / "o.png").string(), "-j2", "--report",
                           (dir / "run.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("first sequential part"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("second sequential part"), std::string::npos);
  EXPECT_NE(r.err.find("taskdist: rows traced"), std::string::npos) << "plain progress lines: " << r.err;
  std::ifstream in(dir / "run.json");
  const auto doc = nlohmann::json::parse(in);
  const double seq1 = doc.at("seq1_s"), par = doc.at("parallel_s"), seq2 = doc.at("seq2_s");
  EXPECT_GE(seq1, 0);
  EXPECT_GT(par, 0);
  EXPECT_GE(seq2, 0);
  EXPECT_NEAR(seq1 + par + seq2, doc.at("total_s").get<double>(), 1e-6);
  EXPECT_GT(doc.at("master_peak_rss_bytes").get<long long>(), 0);
  int rows = 0;
  for (const auto& t : doc.at("tasks")) {
    for (const char* k : {"slot", "first_row", "last_row", "start_s", "end_s", "povray_wall_s",
                          "povray_cpu_s", "bytes"}) {
      EXPECT_TRUE(t.contains(k)) << k;
    }
    EXPECT_GT(t.at("povray_cpu_s").get<double>(), 0);
    rows += t.at("rows").get<int>();
  }
  EXPECT_EQ(rows, 240);
}

TEST(RenderTest, TheMastersMemoryDoesNotGrowWithThePicture) {
  // Given: flat shapes at 5120x3840, whose raw pixels (56 MiB) are 3.5 times the bound, on 2
  // slots: the second band of the first batch lies in the lower half and is read bottom-up.
  // Expect: the master's peak RSS stays within 16 MiB (it held that band's raw rows whole: 30
  // MiB), and the image is a full povray render's. (The scene's bands deflate to a few KiB: the
  // deflated bytes of the bands in flight, which the master does hold, are not what is tested.)
  constexpr int kWidth = 5120, kHeight = 3840;
  constexpr uint64_t kBound = 16u << 20;
  static_assert(uint64_t{kWidth} * kHeight * 3 > 3 * kBound);
  const fs::path scene = source_dir() / "scenes" / "flat.pov";
  const fs::path dir = fresh_dir("memory");
  const fs::path out = dir / "out.png";
  const RunResult r = run({taskdist_binary().string(), "render", scene.string(),
                           "+W" + std::to_string(kWidth), "+H" + std::to_string(kHeight), "-j2",
                           "--no-profile", "-o", out.string(), "--quiet", "--report",
                           (dir / "run.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = read_json(dir / "run.json");
  const auto peak = report.at("master_peak_rss_bytes").get<uint64_t>();
  EXPECT_LE(peak, kBound) << "master peak RSS " << peak / (1 << 20) << " MiB; tasks:\n"
                          << report.at("tasks").dump(1);
  std::cout << "master peak RSS " << peak << " bytes\n";
  // What held memory before: a band read bottom-up (the lower half) whose rows alone are over
  // half the bound. Make sure the run still has one.
  bool large_bottom_up = false;
  for (const auto& t : report.at("tasks")) {
    const int first = t.at("first_row"), end = t.at("last_row").get<int>() + 1;
    const uint64_t bytes = static_cast<uint64_t>(end - first) * kWidth * 3;
    large_bottom_up |= kHeight - first < end && bytes > kBound / 2;
  }
  EXPECT_TRUE(large_bottom_up) << report.at("tasks").dump(1);
  const Image image = decode_png(out);
  ASSERT_EQ(image.width, kWidth);
  ASSERT_EQ(image.height, kHeight);
  EXPECT_EQ(count_differences(image, decode_png(reference_render(scene, kWidth, kHeight, {}))), 0);
}

TEST(RenderTest, QuietPrintsNothing) {
  const fs::path dir = fresh_dir("quiet");
  const RunResult r = run({taskdist_binary().string(), "render", blob_scene().string(), "+W64",
                           "+H48", "-o", (dir / "o.png").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST(RenderTest, InterruptStopsEveryPovrayAndLeavesNothing) {
  const fs::path tmp = fresh_dir("sigint-tmp");
  const fs::path out_dir = fresh_dir("sigint-out");
  setenv("TMPDIR", tmp.c_str(), 1);
  auto p = Subprocess::spawn({taskdist_binary().string(), "render", blob_scene().string(), "+W1600",
                              "+H1200", "-o", (out_dir / "o.png").string(), "-j2", "-q"},
                             out_dir);
  unsetenv("TMPDIR");
  ASSERT_TRUE(p) << p.error();
  // Wait until the render is under way: povray children running.
  std::vector<pid_t> povrays;
  for (int i = 0; i < 200 && povrays.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    povrays = descendants(p->pid());
  }
  ASSERT_GE(povrays.size(), 1u) << "no povray started";
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  povrays = descendants(p->pid());
  ::kill(p->pid(), SIGINT);
  const ExitStatus s = p->reap();
  EXPECT_TRUE(s.exited);
  EXPECT_EQ(s.code, 130);
  for (pid_t pid : povrays) EXPECT_FALSE(process_alive(pid)) << "povray " << pid << " left running";
  EXPECT_TRUE(fs::is_empty(out_dir)) << "no output, no partial file, no job directory";
  EXPECT_TRUE(fs::is_empty(tmp)) << "no temporary files";
}

}  // namespace
}  // namespace taskdist

namespace taskdist {
namespace {

using namespace taskdist::testing;

TEST(CostProfileE2eTest, ASecondRenderStartsFromWhatTheFirstMeasured) {
  // Given: a scene whose cost sits in its bottom rows, rendered twice with -j2.
  // Expect: the first run keeps a profile; the second starts from it (report and timing table
  // say so); both images are pixel-identical to a full render. --no-profile reads and writes nothing; a damaged profile
  // is named, ignored and replaced.
  // The reports go into the scene's own folder: they must not change the scene's identity.
  const Image reference =
      decode_png(reference_render(source_dir() / "scenes" / "skewed.pov", 640, 480, {}));
  const fs::path dir = fresh_dir("profile-e2e");
  fs::create_directories(dir / "scene");
  const fs::path scene = dir / "scene" / "skewed.pov";
  fs::copy_file(source_dir() / "scenes" / "skewed.pov", scene);
  const fs::path profiles = dir / "profiles";
  auto render = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> argv = {taskdist_binary().string(), "render", scene.string(),
                                     "+W640", "+H480", "-j2", "-o", (dir / name).string(),
                                     "--report", (dir / "scene" / (name + ".json")).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  };
  RunResult first = render("first.png", {"--profile-dir", profiles.string(), "--quiet"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(count_differences(decode_png(dir / "first.png"), reference), 0);
  auto report = read_json(dir / "scene" / "first.png.json");
  EXPECT_EQ(report["cost_profile"]["earlier_runs"].get<int>(), 0);
  const fs::path file = report["cost_profile"]["file"].get<std::string>();
  EXPECT_EQ(file.parent_path(), profiles);
  ASSERT_TRUE(fs::exists(file));

  RunResult second = render("second.png", {"--profile-dir", profiles.string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(count_differences(decode_png(dir / "second.png"), reference), 0);
  report = read_json(dir / "scene" / "second.png.json");
  EXPECT_EQ(report["cost_profile"]["earlier_runs"].get<int>(), 1);
  EXPECT_NE(second.out.find("cost profile: "), std::string::npos) << second.out;
  // How the bands are cut follows from costs measured on this machine, so it is not asserted
  // here: SchedulerTest.RowCostsShortenDynamicBandsOverCostlyRows and CostProfileTest check the
  // cut from given costs.

  const auto before = fs::last_write_time(file);
  RunResult off = render("off.png", {"--profile-dir", profiles.string(), "--quiet", "--no-profile"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_TRUE(read_json(dir / "scene" / "off.png.json")["cost_profile"].is_null());
  EXPECT_EQ(fs::last_write_time(file), before) << "--no-profile writes nothing";

  std::ofstream(file) << "{ not json";
  RunResult damaged = render("damaged.png", {"--profile-dir", profiles.string(), "--quiet"});
  ASSERT_EQ(damaged.exit_code, 0) << damaged.err;
  EXPECT_NE(damaged.err.find("ignored the cost profile " + file.string() + ": not valid JSON"),
            std::string::npos)
      << damaged.err;
  EXPECT_EQ(count_differences(decode_png(dir / "damaged.png"), reference), 0);
  EXPECT_EQ(read_json(dir / "scene" / "damaged.png.json")["cost_profile"]["earlier_runs"].get<int>(), 0);
  EXPECT_TRUE(read_json(file).contains("runs")) << "replaced by this run's profile";
}

}  // namespace
}  // namespace taskdist
