// The cluster engine end to end on this machine: the real mpirun starts the real taskdist on
// three ranks (master + two worker nodes), which drive the real povray. Images are compared pixel
// by pixel with one full povray render.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "store/band_file.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

const std::map<std::string, std::string> kMpiEnv = {
    {"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"},
    {"OMPI_MCA_rmaps_base_oversubscribe", "1"}};

RunResult mpirun(int ranks, const std::vector<std::string>& taskdist_args) {
  std::vector<std::string> argv = {"mpirun", "--oversubscribe", "-np", std::to_string(ranks),
                                   taskdist_binary().string()};
  argv.insert(argv.end(), taskdist_args.begin(), taskdist_args.end());
  return run(argv, kMpiEnv, 300);
}

TEST(MpiTest, ThreeRanksRenderPixelIdenticalImages) {
  const std::vector<std::string> opts = {"+A0.3", "+AM1"};
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, opts));
  const fs::path dir = fresh_dir("mpi");
  for (const char* policy : {"dynamic", "static"}) {
    SCOPED_TRACE(policy);
    const fs::path out = dir / fmt::format("{}.png", policy);
    const RunResult r = mpirun(3, {"render", blob_scene().string(), "+W640", "+H480", "+A0.3",
                                   "+AM1", "-o", out.string(), "--slots", "2", "--policy", policy});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);
    EXPECT_NE(r.err.find("2 worker ranks"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("parallel part"), std::string::npos) << r.out;
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()),
              policy == std::string("dynamic") ? 1 : 2)
        << "only the images are left";
  }
}

TEST(MpiTest, BandsFailingOnOneNodeAreRenderedOnAnother) {
  // Given: povray fails on every band of worker rank 2 (a wrapper that fails there only).
  // Expect: the bands go to rank 1; the image is whole and exact; the failures are reported.
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {}));
  const fs::path dir = fresh_dir("mpi-fail");
  const fs::path wrapper = write_script(
      dir, "povray-failing-on-rank-2",
      "if [ \"$OMPI_COMM_WORLD_RANK\" = 2 ]; then echo 'injected failure' >&2; exit 1; fi\n"
      "exec povray \"$@\"\n");
  const fs::path out = dir / "out.png";
  const RunResult r = mpirun(3, {"render", blob_scene().string(), "+W640", "+H480", "-o",
                                 out.string(), "--slots", "1", "--povray", wrapper.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_NE(r.err.find("failed on"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(rank 2)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("injected failure"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("(rank 1) slot 1 (povray exited"), std::string::npos) << r.err;
}

TEST(MpiTest, ANodeWherePovrayDoesNotLoadTheQuickStartSaysSoAndRendersWithoutIt) {
  // Given: rank 2's povray never sees LD_PRELOAD (as a static binary or a site's policy would).
  // Expect: one line names rank 2 and why; both nodes render; the image is exact.
  const fs::path dir = fresh_dir("mpi-quick-start");
  const fs::path wrapper = write_script(
      dir, "povray-unloading-on-rank-2",
      "if [ \"$OMPI_COMM_WORLD_RANK\" = 2 ]; then unset LD_PRELOAD; fi\nexec povray \"$@\"\n");
  const fs::path out = dir / "out.png";
  const RunResult r = mpirun(3, {"render", blob_scene().string(), "+W320", "+H240", "-o",
                                 out.string(), "--slots", "1", "--povray", wrapper.string(),
                                 "--report", (dir / "report.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), decode_png(reference_render(blob_scene(), 320, 240, {}))),
            0);
  const auto line = r.err.find("quick start is off on ");
  ASSERT_NE(line, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("quick start is off", line + 1), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(rank 2): povray did not load it", line), std::string::npos) << r.err;
  const auto report = read_json(dir / "report.json");
  std::set<int> slots;
  for (const auto& t : report.at("tasks")) slots.insert(t.at("slot").get<int>());
  EXPECT_EQ(slots.size(), 2u) << "both nodes render";
}

TEST(MpiTest, LostRankIsNamedAndReceivedBandsAreOnDisk) {
  // Given: worker rank 2 is killed (SIGKILL) while it renders its first band, once rank 1 has
  // delivered one.
  // Expect: the job ends (Open MPI 4.1 ends it), taskdist names rank 2 as lost, leaves no image,
  // and every band it received is on disk, whole.
  const fs::path dir = fresh_dir("mpi-lost");
  // Rank 2 waits until the master has saved a band from rank 1, then kills its own worker rank.
  const fs::path wrapper = write_script(
      dir, "povray-killing-rank-2",
      fmt::format("if [ \"$OMPI_COMM_WORLD_RANK\" = 2 ]; then\n"
                  "  for i in $(seq 1 1200); do\n"
                  "    ls '{}'/out.png.taskdist/bands/*.tdb >/dev/null 2>&1 && break\n"
                  "    sleep 0.1\n"
                  "  done\n"
                  "  kill -9 $PPID; exit 1\n"
                  "fi\n"
                  "exec povray \"$@\"\n",
                  dir.string()));
  const fs::path out = dir / "out.png";
  const RunResult r = mpirun(3, {"render", blob_scene().string(), "+W1024", "+H768", "-o",
                                 out.string(), "--slots", "1", "--povray", wrapper.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("lost worker node"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(rank 2)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  int bands = 0;
  const fs::path job_dir = dir / "out.png.taskdist";
  EXPECT_NE(r.err.find(job_dir.string()), std::string::npos) << "the message names it";
  for (const auto& f : fs::directory_iterator(job_dir / "bands")) {
    auto band = read_band_file(f.path());
    EXPECT_TRUE(band) << band.error();
    ++bands;
  }
  EXPECT_GE(bands, 1) << r.err;
  EXPECT_NE(r.err.find(fmt::format("{} finished bands", bands)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
}

// Processes that are direct or indirect children of `pid` and run povray.
std::vector<pid_t> povray_under(pid_t pid) {
  std::vector<pid_t> found;
  for (pid_t p : descendants(pid)) {
    if (read_file(fmt::format("/proc/{}/comm", p)).starts_with("povray")) found.push_back(p);
  }
  return found;
}

TEST(MpiTest, AStoppedWorkerRankIsLostItsBandsGoElsewhereAndTheJobEnds) {
  // Given: worker rank 2 and its povray children are stopped (SIGSTOP, as a frozen node) while
  // it renders a band, with --node-timeout 3 and no straggler copies.
  // Expect: rank 2 is declared lost after 3 s, its band is rendered by rank 1, the image is
  // written pixel-identical, and taskdist ends the MPI job itself (MPI_Finalize would wait for
  // the stopped rank forever): mpirun exits 4 within node-timeout + 10 s of the stop, naming the
  // node, and no process of the run is left.
  const double node_timeout = 3;
  const Image reference = decode_png(reference_render(blob_scene(), 800, 600, {}));
  const fs::path dir = fresh_dir("mpi-stopped");
  const fs::path out = dir / "out.png";
  const fs::path report = dir / "run.json";
  std::vector<std::string> argv = {"env", "OMPI_ALLOW_RUN_AS_ROOT=1",
                                   "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "mpirun",
                                   "--oversubscribe", "-np", "3", taskdist_binary().string(),
                                   "render", blob_scene().string(), "+W800", "+H600", "-o",
                                   out.string(), "--slots", "1", "--no-duplicates",
                                   "--node-timeout", fmt::format("{:g}", node_timeout),
                                   "--report", report.string()};
  Background mpirun_bg(argv, dir, "mpirun");
  const pid_t rank2 = mpi_rank_pid(mpirun_bg.pid(), 2);
  ASSERT_GT(rank2, 0) << "rank 2 did not start";
  // Stop it while a povray of its own renders a band.
  std::vector<pid_t> stopped;
  for (int i = 0; i < 3000 && stopped.empty(); ++i) {
    stopped = povray_under(rank2);
    if (stopped.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(stopped.empty()) << "rank 2 never ran povray\n" << mpirun_bg.err();
  ::kill(rank2, SIGSTOP);  // a rank this test started (through mpirun)
  for (pid_t p : povray_under(rank2)) ::kill(p, SIGSTOP);
  stopped = descendants(rank2);
  stopped.push_back(rank2);
  const auto stop_time = std::chrono::steady_clock::now();

  const ExitStatus status = mpirun_bg.wait(node_timeout + 60);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_time).count();
  const std::string err = mpirun_bg.err();
  EXPECT_EQ(exit_code(status), 4) << "the image is fine, a node was lost\n" << err;
  EXPECT_LE(took, node_timeout + 10) << err;
  EXPECT_NE(err.find("lost worker node"), std::string::npos) << err;
  EXPECT_NE(err.find("(rank 2)"), std::string::npos) << err;
  EXPECT_NE(err.find("to other nodes"), std::string::npos) << "its band was handed out again\n"
                                                           << err;
  EXPECT_NE(err.find("MPI_Abort"), std::string::npos) << err;
  ASSERT_TRUE(fs::exists(out)) << err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  const auto j = read_json(report);
  ASSERT_EQ(j["lost_nodes"].size(), 1u) << j.dump(1);
  EXPECT_NE(j["lost_nodes"][0].get<std::string>().find("(rank 2)"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "out.png.taskdist")) << "the job folder is removed";
  // Nothing of the run lives on: the stopped rank and its povray processes were killed too.
  for (int i = 0; i < 100; ++i) {
    if (std::ranges::none_of(stopped, process_alive)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (pid_t p : stopped) EXPECT_FALSE(process_alive(p)) << "process " << p << " lives on";
}

TEST(MpiTest, SceneErrorStopsTheJobWithPovRaysMessageAndTheNode) {
  const fs::path dir = fresh_dir("mpi-scene-error");
  std::ofstream(dir / "broken.pov") << "camera { location <0,0,-3> look_at 0 }\nsphere { 0, 1 \n";
  const RunResult r = mpirun(3, {"render", (dir / "broken.pov").string(), "+W160", "+H120", "-o",
                                 (dir / "out.png").string(), "--slots", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Parse Error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(rank "), std::string::npos) << "names the node: " << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.png"));
}

TEST(MpiTest, SharedDirRendersFromTheScenesOwnPath) {
  const Image reference = decode_png(reference_render(blob_scene(), 320, 240, {}));
  const fs::path dir = fresh_dir("mpi-shared");
  const fs::path out = dir / "out.png";
  const RunResult r = mpirun(3, {"render", blob_scene().string(), "+W320", "+H240", "-o",
                                 out.string(), "--shared-dir"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("shipping"), std::string::npos) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
}

TEST(MpiTest, MasterSlotsRenderBesideTheWorkersAndTheReportSaysWhere) {
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {}));
  const fs::path dir = fresh_dir("mpi-master-slots");
  const fs::path out = dir / "out.png";
  const fs::path report = dir / "run.json";
  const RunResult r = mpirun(2, {"render", blob_scene().string(), "+W640", "+H480", "-o",
                                 out.string(), "--slots", "1", "--master-slots", "1",
                                 "--report", report.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  std::ifstream in(report);
  const auto json = nlohmann::json::parse(in);
  std::set<std::string> places;
  for (const auto& t : json.at("tasks")) places.insert(t.at("where").get<std::string>());
  bool master = false, worker = false;
  for (const auto& p : places) {
    master |= p.find("(master)") != std::string::npos;
    worker |= p.find("(rank 1)") != std::string::npos;
  }
  EXPECT_TRUE(master && worker) << "bands ran on the master and on rank 1: " << json.dump();
}

TEST(MpiTest, SceneDirShipsTheFolderAboveTheScene) {
  // Given: a scene that includes "../inc/colors.inc" from the folder above its own.
  // Expect: shipping only the scene's folder makes the include missing on the nodes (a scene
  // error); --scene-dir with the folder above renders it.
  const fs::path dir = fresh_dir("mpi-scene-dir");
  fs::create_directories(dir / "scenes");
  fs::create_directories(dir / "inc");
  std::ofstream(dir / "inc" / "colors.inc") << "#declare Tint = rgb <1, 0.5, 0.2>;\n";
  std::ofstream(dir / "scenes" / "tinted.pov")
      << "#include \"../inc/colors.inc\"\n"
         "camera { location <0, 0, -4> look_at 0 }\n"
         "light_source { <2, 4, -3> rgb 1 }\n"
         "sphere { 0, 1 pigment { Tint } }\n";
  const fs::path scene = dir / "scenes" / "tinted.pov";
  const RunResult narrow = mpirun(3, {"render", scene.string(), "+W160", "+H120", "-o",
                                      (dir / "narrow.png").string(), "--slots", "1"});
  EXPECT_EQ(narrow.exit_code, 1) << narrow.err;
  EXPECT_NE(narrow.err.find("colors.inc"), std::string::npos) << narrow.err;
  const fs::path out = dir / "wide.png";
  const RunResult wide = mpirun(3, {"render", scene.string(), "+W160", "+H120", "-o", out.string(),
                                    "--slots", "1", "--scene-dir", dir.string()});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_EQ(count_differences(decode_png(out),
                              decode_png(reference_render(scene, 160, 120, {}))),
            0);
}

TEST(MpiTest, RefusesAnOversizedSceneFolderAndLetsTheWorkersGo) {
  const fs::path dir = fresh_dir("mpi-big");
  fs::copy_file(blob_scene(), dir / "blob.pov");
  std::ofstream(dir / "huge.dat") << std::string(2 << 20, 'x');
  const RunResult r = mpirun(3, {"render", (dir / "blob.pov").string(), "-o",
                                 (dir / "out.png").string(), "--scene-limit", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("more than 1 MiB"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.png"));
}

// Lines of `log` (written by the povray wrapper below): "RANK ARGS...".
std::set<std::string> ranks_in(const fs::path& log) {
  std::ifstream in(log);
  std::set<std::string> ranks;
  for (std::string line; std::getline(in, line);) ranks.insert(line.substr(0, line.find(' ')));
  return ranks;
}

TEST(MpiTest, BenchUnderMpiRunsBothMethodsOnTheFirstNWorkerRanks) {
  // Given: 3 ranks (the master and 2 worker nodes) and a povray that logs the rank it runs on.
  // Expect: the study completes with every row ok, node peak RSS measured, the report says
  // nodes are worker ranks; runs on 2 nodes use rank 2, a study on 1 node never does.
  const fs::path dir = fresh_dir("mpi-bench");
  const fs::path log = dir / "ranks.log";
  const fs::path wrapper = write_script(
      dir, "povray",
      "echo \"$OMPI_COMM_WORLD_RANK $*\" >> " + log.string() + "\nexec /usr/bin/povray \"$@\"\n");
  const fs::path out = dir / "study";
  RunResult r = mpirun(3, {"bench", "--sizes", "200x150", "--nodes", "1,2", "--repeat", "1",
                           "--out", out.string(), "--povray", wrapper.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream csv(out / "results.csv");
  std::string header;
  std::getline(csv, header);
  ASSERT_NE(header.find("worker_peak_rss_mib"), std::string::npos) << header;
  int rows = 0;
  for (std::string line; std::getline(csv, line);) {
    ++rows;
    EXPECT_NE(line.find("\"ok\""), std::string::npos) << line;
    const double worker_mib = std::stod(line.substr(line.rfind(',') + 1));
    EXPECT_GT(worker_mib, 1.0) << "a povray's peak RSS: " << line;
  }
  EXPECT_EQ(rows, 6);  // 2 node counts x (dynamic, static, paper)
  std::ifstream report_in(out / "report.md");
  const std::string report{std::istreambuf_iterator<char>(report_in), {}};
  EXPECT_NE(report.find("Nodes are worker ranks under MPI"), std::string::npos) << report;
  EXPECT_NE(report.find("| paper | - | 200x150 | 2 |"), std::string::npos) << report;
  EXPECT_EQ(ranks_in(log), (std::set<std::string>{"1", "2"}));

  fs::remove(log);
  r = mpirun(3, {"bench", "--sizes", "200x150", "--nodes", "1", "--repeat", "1", "--out",
                 (dir / "one").string(), "--povray", wrapper.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ranks_in(log), (std::set<std::string>{"1"}));

  r = mpirun(3, {"bench", "--sizes", "200x150", "--nodes", "3", "--out", (dir / "x").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only 2 worker ranks"), std::string::npos) << r.err;
}

TEST(MpiTest, RaceUnderMpiRunsOneNodeAgainstTheOthersAtOnce) {
  // Given: 4 ranks (the master and 3 worker nodes), a povray wrapper that logs its rank and when
  // it starts and ends. Expect: the solo side renders on rank 1 only, the team side on ranks 2
  // and 3 only, both at once; both images are pixel-identical to a full render, twice (--loop
  // is not used: a playlist of the same scene twice, so the nodes serve a second race).
  const Image reference = decode_png(reference_render(blob_scene(), 320, 240, {}));
  const fs::path dir = fresh_dir("mpi-race");
  const fs::path log = dir / "povray.log";
  const fs::path wrapper = write_script(
      dir, "povray-logging",
      fmt::format("echo \"start $OMPI_COMM_WORLD_RANK $(date +%s.%N)\" >> '{0}'\n"
                  // The solo node's band ends only after the team has started one: "at once"
                  // by construction, whatever the machine's speed (bounded: 60 s).
                  "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then\n"
                  "  for i in $(seq 1 600); do\n"
                  "    grep -q '^start [23] ' '{0}' && break; sleep 0.1\n"
                  "  done\n"
                  "fi\n"
                  "povray \"$@\"; rc=$?\n"
                  "echo \"end $OMPI_COMM_WORLD_RANK $(date +%s.%N)\" >> '{0}'\n"
                  "exit $rc\n",
                  log.string()));
  const RunResult r = mpirun(4, {"race", blob_scene().string(), blob_scene().string(), "+W320",
                                 "+H240", "--hold", "0", "-o", (dir / "race").string(),
                                 "--povray", wrapper.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("one node ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("against 2 nodes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("race 2: blob.pov"), std::string::npos) << r.out;
  EXPECT_EQ(count_differences(decode_png(dir / "race" / "blob-solo.png"), reference), 0);
  EXPECT_EQ(count_differences(decode_png(dir / "race" / "blob-team.png"), reference), 0);
  EXPECT_GT(decode_png(dir / "race" / "blob-race.png").width, 600);
  std::ifstream in(log);
  std::string what;
  int rank = 0;
  double at = 0;
  std::set<int> ranks;
  double solo_first_end = 1e300, team_first_start = 1e300;
  while (in >> what >> rank >> at) {
    ranks.insert(rank);
    if (what == "end" && rank == 1) solo_first_end = std::min(solo_first_end, at);
    if (what == "start" && rank != 1) team_first_start = std::min(team_first_start, at);
  }
  EXPECT_EQ(ranks, (std::set<int>{1, 2, 3})) << "solo on rank 1, the team on ranks 2 and 3";
  EXPECT_LT(team_first_start, solo_first_end) << "the team started before the solo band ended";
}

TEST(MpiTest, RaceUnderMpiNeedsTwoWorkerNodes) {
  const fs::path dir = fresh_dir("mpi-race-small");
  const RunResult r = mpirun(2, {"race", blob_scene().string(), "-o", (dir / "race").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("a race needs at least 2 worker ranks"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace taskdist
