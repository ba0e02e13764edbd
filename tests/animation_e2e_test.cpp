// Animations end to end: taskdist renders POV-Ray's shipped animation examples (and a scene of
// our own whose pixels depend on clock and frame_number) with local slots and under mpirun, and
// every frame is compared, by name and pixel by pixel, with POV-Ray's own render of the same INI
// and options in one povray run. Also: --resume after the master is killed, --video (checked
// with ffprobe), and the options POV-Ray would get wrong, refused with nothing written.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "core/animation.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

const fs::path kExamples = "/usr/share/doc/povray/examples/animations";

const std::map<std::string, std::string> kMpiEnv = {
    {"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"},
    {"OMPI_MCA_rmaps_base_oversubscribe", "1"}};

fs::path example_ini(const std::string& name) {
  for (const auto& e : fs::directory_iterator(kExamples / name)) {
    if (e.path().extension() == ".ini") return e.path();
  }
  ADD_FAILURE() << "no INI file in " << kExamples / name << " (apt-get install povray-examples)";
  return {};
}

// The PNG files in `dir` whose name starts with "out", sorted.
std::vector<std::string> frame_files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("out") && e.path().extension() == ".png") names.push_back(name);
  }
  std::ranges::sort(names);
  return names;
}

// POV-Ray's own render of the animation, in one povray run, into a folder of its own.
fs::path povray_animation(const fs::path& scene, const std::vector<std::string>& options) {
  std::string key = scene.string();
  for (const auto& o : options) key += " " + o;
  static std::map<std::string, fs::path> cache;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const fs::path dir = fresh_dir("povray-animation");
  std::vector<std::string> argv = {"povray", scene.string(), "+L" + scene.parent_path().string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"-D", "+O" + (dir / "out.png").string()});
  const RunResult r = run(argv, {}, 600, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  cache[key] = dir;
  return dir;
}

// Same names, same pixels: every frame of `dir` against POV-Ray's render in `reference`.
void expect_same_frames(const fs::path& reference, const fs::path& dir) {
  const std::vector<std::string> want = frame_files(reference);
  ASSERT_FALSE(want.empty()) << "POV-Ray wrote no frame in " << reference;
  EXPECT_EQ(frame_files(dir), want) << "the frame files' names are POV-Ray's";
  for (const std::string& name : want) {
    if (!fs::exists(dir / name)) continue;
    EXPECT_EQ(count_differences(decode_png(dir / name), decode_png(reference / name)), 0)
        << name << " differs from POV-Ray's own frame";
  }
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Renders `scene` with taskdist (`how`: e.g. {"-j", "2"}) and compares with POV-Ray.
void render_and_compare(const fs::path& scene, const std::vector<std::string>& options,
                        const std::vector<std::string>& how, bool mpi = false) {
  const fs::path reference = povray_animation(scene, options);
  const fs::path dir = fresh_dir("animation");
  std::vector<std::string> argv = concat({taskdist_binary().string(), "render", scene.string()},
                                         options);
  argv = concat(argv, concat({"-o", (dir / "out.png").string(), "--quiet", "--report",
                              (dir / "report.json").string()},
                             how));
  if (mpi) argv = concat({"mpirun", "--oversubscribe", "-np", "3"}, argv);
  const RunResult r = run(argv, mpi ? kMpiEnv : std::map<std::string, std::string>{}, 600, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_frames(reference, dir);
  const auto report = read_json(dir / "report.json");
  EXPECT_EQ(report["frames"].size(), frame_files(reference).size()) << "a record per frame";
  EXPECT_FALSE(fs::exists(dir / "out.png")) << "an animation writes frames, not the output name";
  EXPECT_FALSE(fs::exists(dir / "out.png.taskdist")) << "the job folder is removed after success";
}

// POV-Ray's shipped examples, as their INI files give them (antialiasing on: bands start on
// multiples of 32 rows within their frame, 60 rows high), small and with a subset of frames.
TEST(AnimationE2ETest, ShippedExamplesMatchPovRayFrameByFrame) {
  struct Case {
    const char* example;
    std::vector<std::string> options;
  };
  const Case cases[] = {
      {"camera2", {"+W80", "+H60", "+SF1", "+EF6"}},             // cyclic, 30 frames
      {"clockd", {"+W80", "+H60", "+SF3", "+EF11", "+STP2"}},    // cyclic, a subset, a step
      {"float1", {"+W64", "+H48", "+SF45", "+EF51"}},            // 51 frames: two digits
      {"ambient", {"+W48", "+H36"}},                             // all 20 frames
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.example);
    render_and_compare(example_ini(c.example), c.options, {"-j", "2"});
  }
}

TEST(AnimationE2ETest, UnderMpirunFramesAndBandsMatchPovRay) {
  // Many frames for two workers: runs of frames; then three frames for four slots: bands.
  render_and_compare(example_ini("clockd"), {"+W80", "+H60", "+SF1", "+EF8"}, {"--slots", "1"},
                     /*mpi=*/true);
  render_and_compare(example_ini("camera2"), {"+W96", "+H72", "+SF4", "+EF6"}, {"--slots", "2"},
                     /*mpi=*/true);
}

// A scene whose pixels depend on clock, frame_number, initial_frame, final_frame and
// clock_delta; a cyclic animation given on the command line with its own clock range.
fs::path clock_scene() {
  const fs::path dir = fresh_dir("clock-scene");
  const fs::path scene = dir / "clock.pov";
  std::ofstream(scene) << R"(camera { location <0, 0, -4> look_at 0 }
light_source { <3, 5, -4> rgb 1 }
sphere { <clock - 1, 0, 0>, 0.6
  pigment { rgb <frame_number / 12, mod(frame_number, 3) / 2, clock_delta * 4> } }
box { <-2, -1.5, 1>, <2, -1, 2> pigment { rgb <initial_frame / 3, final_frame / 12, 0.3> } }
)";
  return scene;
}

TEST(AnimationE2ETest, OwnSceneWithClockAndFrameNumberMatchesPovRay) {
  const fs::path scene = clock_scene();
  render_and_compare(scene, {"+W48", "+H36", "+KFI2", "+KFF11", "+KC", "+KI0.5", "+KF2"},
                     {"-j", "2"});
  // Few frames, more slots: every frame cut into bands (no antialiasing: any row).
  render_and_compare(scene, {"+W64", "+H48", "+KFI1", "+KFF3"}, {"-j", "4"});
}

TEST(AnimationE2ETest, IniWithFractionsAndOutputFileName) {
  const fs::path dir = fresh_dir("animation-ini");
  const fs::path scene = clock_scene();
  const fs::path ini = dir / "anim.ini";
  std::ofstream(ini) << "Input_File_Name=" << scene.string() << "\nWidth=40\nHeight=30\n"
                     << "Initial_Frame=1\nFinal_Frame=20\nSubset_Start_Frame=0.25 ; frame 5\n"
                     << "Subset_End_Frame=0.5\nOutput_File_Name=" << (dir / "shot.png").string()
                     << "\n";
  const RunResult r = run({taskdist_binary().string(), "render", ini.string(), "-j", "2", "-q"},
                          {}, 300, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("shot")) names.insert(e.path().filename());
  }
  // POV-Ray renders frames int(0.25 * 20) = 5 to int(0.5 * 20) = 10 of this INI.
  EXPECT_EQ(names, (std::set<std::string>{"shot05.png", "shot06.png", "shot07.png", "shot08.png",
                                          "shot09.png", "shot10.png"}));
}

// The rows of the tasks in a report.
std::vector<RowRange> task_rows(const nlohmann::json& report) {
  std::vector<RowRange> rows;
  for (const auto& t : report["tasks"]) {
    const int first = t["first_row"].get<int>();
    rows.push_back({first, first + t["rows"].get<int>()});
  }
  return rows;
}

TEST(AnimationE2ETest, KilledMasterThenResumeRendersOnlyWhatIsMissing) {
  const fs::path ini = example_ini("float1");
  // Forty frames for two slots: runs of frames that end at different moments.
  const std::vector<std::string> options = {"+W160", "+H120", "+SF1", "+EF40"};
  const fs::path reference = povray_animation(ini, options);
  const fs::path dir = fresh_dir("animation-resume");
  const std::vector<std::string> argv =
      concat(concat({taskdist_binary().string(), "render", ini.string()}, options),
             {"-o", (dir / "out.png").string(), "-j", "2", "--quiet"});
  Background first(argv, dir, "first");
  // Killed once at least two frames are journaled (a frame's record in frames/).
  const fs::path frames_dir = dir / "out.png.taskdist" / "frames";
  std::optional<ExitStatus> status;
  for (int i = 0; i < 6000 && !(status = first.poll()); ++i) {
    std::error_code ec;
    int recorded = 0;
    for (const auto& e : fs::directory_iterator(frames_dir, ec)) recorded += e.is_regular_file();
    if (recorded >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(status) << "the render ended before two frames were journaled: " << first.err();
  ::kill(first.pid(), SIGKILL);  // the master this test started
  first.wait();
  std::set<int> journaled;
  for (const auto& e : fs::directory_iterator(frames_dir)) {
    int k = -1;
    ASSERT_EQ(std::sscanf(e.path().filename().c_str(), "frame-%d.json", &k), 1);
    journaled.insert(k);
  }
  ASSERT_GE(journaled.size(), 2u);
  std::vector<RowRange> bands;
  for (const auto& e : fs::directory_iterator(dir / "out.png.taskdist" / "bands")) {
    int a = 0, b = 0;
    if (std::sscanf(e.path().filename().c_str(), "band-%d-%d.tdb", &a, &b) == 2) {
      bands.push_back({a - 1, b});
    }
  }
  const RunResult r = run(concat(argv, {"--resume", "--report", (dir / "resumed.json").string()}),
                          {}, 600, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_frames(reference, dir);
  const auto report = read_json(dir / "resumed.json");
  std::set<int> reused;
  for (const auto& f : report["frames"]) {
    if (f["reused"].get<bool>()) reused.insert(f["index"].get<int>());
  }
  EXPECT_EQ(reused, journaled) << "every journaled frame is left as it was";
  for (const RowRange t : task_rows(report)) {
    for (int k : journaled) {
      EXPECT_FALSE(t.begin < (k + 1) * 120 && k * 120 < t.end)
          << "frame index " << k << " was finished and rendered again";
    }
    for (const RowRange b : bands) {
      EXPECT_FALSE(t.begin < b.end && b.begin < t.end) << "a journaled band was rendered again";
    }
  }
  EXPECT_FALSE(fs::exists(dir / "out.png.taskdist"));
}

// A run of frames writes each frame as POV-Ray finishes it, not when the run ends.
TEST(AnimationE2ETest, ARunOfFramesWritesEachFrameAsItIsRendered) {
  const fs::path dir = fresh_dir("animation-stream");
  const RunResult r = run({taskdist_binary().string(), "render", clock_scene().string(), "+W64",
                           "+H48", "+KFI1", "+KFF6", "-o", (dir / "out.png").string(), "-j", "1",
                           "--quiet", "--report", (dir / "report.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = read_json(dir / "report.json");
  std::map<int, double> written;  // frame index -> when its file was in place
  for (const auto& f : report["frames"]) written[f["index"].get<int>()] = f["done_s"].get<double>();
  int runs = 0;
  for (const auto& t : report["tasks"]) {
    const FrameSpan span = frame_span({t["first_row"].get<int>(),
                                       t["first_row"].get<int>() + t["rows"].get<int>()}, 48);
    if (!span.whole_frames || span.count < 2) continue;
    ++runs;
    for (int k = span.first; k + 1 < span.first + span.count; ++k) {
      EXPECT_LT(written.at(k), t["end_s"].get<double>())
          << "frame index " << k << " was written only when its run ended";
    }
  }
  EXPECT_GT(runs, 0) << "one slot renders runs of several frames: " << report["tasks"].dump();
}

TEST(AnimationE2ETest, VideoHoldsEveryFrame) {
  const fs::path dir = fresh_dir("animation-video");
  const RunResult r = run({taskdist_binary().string(), "render", clock_scene().string(), "+W41",
                           "+H31", "+KFI1", "+KFF7", "-o", (dir / "out.png").string(), "-j", "2",
                           "--quiet", "--video", (dir / "clock.mp4").string(), "--fps", "12"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const RunResult probe = run({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                               "-show_entries", "stream=nb_read_frames,r_frame_rate", "-of",
                               "csv=p=0", (dir / "clock.mp4").string()});
  ASSERT_EQ(probe.exit_code, 0) << probe.err;
  EXPECT_EQ(probe.out, "12/1,7\n") << "12 frames a second, 7 frames";
  EXPECT_EQ(frame_files(dir).size(), 7u);
}

TEST(AnimationE2ETest, AFailedEncodeKeepsEveryFrame) {
  const fs::path dir = fresh_dir("animation-video-fails");
  const fs::path bin = fresh_dir("fake-ffmpeg");
  write_script(bin, "ffmpeg", "echo 'Unknown encoder libx264' >&2\nexit 1\n");
  const std::string path = bin.string() + ":" + std::getenv("PATH");
  const RunResult r = run({taskdist_binary().string(), "render", clock_scene().string(), "+W40",
                           "+H30", "+KFI1", "+KFF4", "-o", (dir / "out.png").string(), "-j", "2",
                           "--quiet", "--video", (dir / "clock.mp4").string(), "--report",
                           (dir / "run.json").string()},
                          {{"PATH", path}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(read_json(dir / "run.json")["frames"].size(), 4u) << "the report is written too";
  EXPECT_NE(r.err.find("ffmpeg failed (exit code 1): Unknown encoder libx264; the frames are all "
                       "written"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(frame_files(dir).size(), 4u);
  EXPECT_FALSE(fs::exists(dir / "clock.mp4"));
  EXPECT_FALSE(fs::exists(dir / "out.png.taskdist")) << "every frame is written: no journal";
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".part-"), std::string::npos) << e.path();
  }
}

TEST(AnimationE2ETest, RefusesWhatPovRayWouldGetWrongAndWritesNothing) {
  const struct {
    std::vector<std::string> options;
    const char* says;
  } cases[] = {
      {{"+KFI5", "+KFF3"}, "option '+KFF3': the animation's frames 5-3 are reversed"},
      {{"+KFI5", "+KFF5"}, "option '+KFF5': an animation of the one frame 5 is refused"},
      {{"+KFF5", "+SF7"}, "option '+SF7': frame 7 is outside the animation's frames 1-5"},
      {{"+KFF5", "+SF4", "+EF2"}, "option '+EF2': the frame subset 4-2 is empty"},
      {{"+KFF5", "+STP0"}, "option '+STP0': the frame step must be a whole number of at least 1"},
      {{"+KFI-1", "+KFF3"}, "option '+KFI-1': a frame number must be a whole number"},
      {{"--video", "x.mp4"}, "--video needs an animation"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    const fs::path dir = fresh_dir("animation-refused");
    const RunResult r = run(concat({taskdist_binary().string(), "render", clock_scene().string(),
                                    "-o", (dir / "out.png").string()},
                                   c.options),
                            {}, 60, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_empty(dir)) << "nothing is written";
  }
}

}  // namespace
}  // namespace taskdist
