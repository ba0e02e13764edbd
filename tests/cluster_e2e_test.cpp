// The emulated cluster end to end (root only): tools/cluster brings up three worker hosts in
// network namespaces with their own sshd; mpirun starts taskdist across them over ssh; the
// worker hosts cannot see the scene's folder, so the render proves that shipping works. After
// `down`, nothing the tool made may be left.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

fs::path cluster_tool() { return source_dir() / "tools" / "cluster"; }

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Empty if the finished ("ok") bands of a run report cover rows [0, height) exactly once; else
// what is wrong.
std::string rows_rendered_once(const nlohmann::json& report, int height) {
  std::vector<std::pair<int, int>> bands;
  for (const auto& t : report["tasks"]) {
    if (t["outcome"] == "ok") {
      bands.emplace_back(t["first_row"].get<int>(), t["last_row"].get<int>());
    }
  }
  std::sort(bands.begin(), bands.end());
  int next = 0;
  for (const auto& [first, last] : bands) {
    if (first != next) return fmt::format("a band starts at row {}, expected {}", first, next);
    next = last + 1;
  }
  return next == height ? "" : fmt::format("the bands end at row {}, not {}", next, height);
}

// Brings the cluster down however the test ends.
struct ClusterGuard {
  ~ClusterGuard() { run({cluster_tool().string(), "down"}); }
};

TEST(ClusterTest, RendersAcrossThreeHostsThatCannotSeeTheSceneAndLeavesNothingBehind) {
  if (::geteuid() != 0) GTEST_SKIP() << "the emulated cluster needs root";
  const fs::path scene_dir = fresh_dir("cluster-scene");
  const fs::path out_dir = fresh_dir("cluster-out");
  fs::copy_file(blob_scene(), scene_dir / "blob.pov");
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3", "+AM1"}));

  std::vector<std::string> sshd_pids;
  {
    ClusterGuard guard;
    RunResult up = run({cluster_tool().string(), "up", "3", "--cpu-of", "node3=0.5", "--hide",
                        scene_dir.string()});
    ASSERT_EQ(up.exit_code, 0) << up.err;
    for (int i = 1; i <= 3; ++i) {
      sshd_pids.push_back(read_all(fmt::format("/run/taskdist-cluster/node{}.sshd.pid", i)));
    }
    // The worker hosts are other machines: their own names, and no scene folder.
    RunResult name = run({cluster_tool().string(), "ssh", "node2", "hostname"});
    EXPECT_EQ(name.out, "node2\n") << name.err;
    RunResult look = run({cluster_tool().string(), "ssh", "node2", "test", "-e",
                          (scene_dir / "blob.pov").string()});
    EXPECT_EQ(look.exit_code, 1) << "node2 must not see the scene: " << look.err;

    const fs::path out = out_dir / "blob.png";
    RunResult r = run({cluster_tool().string(), "mpirun", taskdist_binary().string(), "render",
                       (scene_dir / "blob.pov").string(), "+W640", "+H480", "+A0.3", "+AM1",
                       "-o", out.string(), "--slots", "1"},
                      {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("shipping the scene folder"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("3 worker ranks"), std::string::npos) << r.err;
    // node3 read its CPU quota (half a core) and reported it.
    EXPECT_NE(r.err.find("0.50-1.00 of a core each"), std::string::npos) << r.err;
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);

    // Again, with what that run measured (a cost profile). How many bands that plans depends on
    // the CPU speeds measured, so what is checked is what holds for any plan: the profile grows
    // by one run each time, the finished bands cover every row exactly once, and the pixels are
    // those of a full render.
    const fs::path profiles = out_dir / "profiles";
    for (int runs = 0; runs < 2; ++runs) {
      const fs::path report = out_dir / fmt::format("run{}.json", runs);
      RunResult again = run({cluster_tool().string(), "mpirun", taskdist_binary().string(),
                             "render", (scene_dir / "blob.pov").string(), "+W640", "+H480",
                             "+A0.3", "+AM1", "-o", out.string(), "--slots", "1", "--quiet",
                             "--report", report.string(), "--profile-dir", profiles.string()},
                            {}, 300);
      ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
      const auto j = read_json(report);
      EXPECT_EQ(j["cost_profile"]["earlier_runs"].get<int>(), runs);
      EXPECT_EQ(rows_rendered_once(j, 480), "") << j["tasks"].dump(1);
      EXPECT_EQ(count_differences(decode_png(out), reference), 0);
    }

    // The static policy gives each node one equal band, by construction: every host renders.
    const fs::path report = out_dir / "static.json";
    RunResult fixed = run({cluster_tool().string(), "mpirun", taskdist_binary().string(), "render",
                           (scene_dir / "blob.pov").string(), "+W640", "+H480", "+A0.3", "+AM1",
                           "-o", out.string(), "--slots", "1", "--quiet", "--policy", "static",
                           "--report", report.string(), "--no-profile"},
                          {}, 300);
    ASSERT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
    const auto j = read_json(report);
    EXPECT_EQ(rows_rendered_once(j, 480), "") << j["tasks"].dump(1);
    std::multiset<std::string> hosts;
    for (const auto& t : j["tasks"]) {
      if (t["outcome"] == "ok") hosts.insert(t["where"].get<std::string>());
    }
    EXPECT_EQ(hosts, (std::multiset<std::string>{"node1 (rank 1) slot 1", "node2 (rank 2) slot 1",
                                                 "node3 (rank 3) slot 1"}))
        << j["tasks"].dump(1);
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);

    RunResult down = run({cluster_tool().string(), "down"});
    EXPECT_EQ(down.exit_code, 0) << down.err;
  }

  // Nothing left: namespaces, links, cgroups, state, processes, mounts, Open MPI session dirs.
  RunResult netns = run({"ip", "netns", "list"});
  EXPECT_EQ(netns.out.find("td-"), std::string::npos) << netns.out;
  RunResult links = run({"ip", "-o", "link", "show"});
  EXPECT_EQ(links.out.find("tdbr0"), std::string::npos) << links.out;
  EXPECT_EQ(links.out.find("tdv-"), std::string::npos) << links.out;
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/cpu/taskdist-cluster"));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/taskdist-cluster"));
  EXPECT_FALSE(fs::exists("/run/taskdist-cluster"));
  for (const auto& pid : sshd_pids) {
    EXPECT_FALSE(process_alive(std::stoi(pid))) << "sshd " << pid << " still runs";
  }
  EXPECT_EQ(read_all("/proc/mounts").find("tdhidden"), std::string::npos);
  for (const auto& e : fs::directory_iterator("/tmp")) {
    const std::string name = e.path().filename().string();
    EXPECT_FALSE(name.starts_with("ompi.node") || name.starts_with("ompi.master")) << name;
  }
}

// taskdist, povray and Open MPI processes still running on `host` of the emulated cluster (every
// process a worker host runs is in its cgroup; the master host's are in its network namespace).
std::vector<std::string> run_processes_on(const std::string& host) {
  std::string pids;
  if (host == "master") {
    pids = run({"ip", "netns", "pids", "td-master"}).out;
  } else {
    for (const char* base : {"/sys/fs/cgroup/cpu/taskdist-cluster/", "/sys/fs/cgroup/taskdist-cluster/"}) {
      pids += read_all(std::string(base) + host + "/cgroup.procs");
    }
  }
  std::vector<std::string> found;
  std::istringstream in(pids);
  for (std::string pid; in >> pid;) {
    std::string comm = read_all("/proc/" + pid + "/comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm.starts_with("taskdist") || comm.starts_with("povray") || comm == "orted" ||
        comm == "mpirun") {
      found.push_back(host + ": " + comm + " (" + pid + ")");
    }
  }
  return found;
}

// Waits up to `timeout_s` until none of `hosts` runs a process of the job; returns those left.
std::vector<std::string> left_on(const std::vector<std::string>& hosts, double timeout_s) {
  std::vector<std::string> left;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  do {
    left.clear();
    for (const auto& h : hosts) {
      for (auto& p : run_processes_on(h)) left.push_back(std::move(p));
    }
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < end);
  return left;
}

// A render on `tools/cluster up 3` whose node2 is cut off (its link down) once `cut_when` holds:
// mid-render, or after the image is written. Returns what the test checks.
struct CutResult {
  RunResult run;
  double after_cut_s = 0;
};

constexpr double kNodeTimeout = 5;

CutResult render_and_cut(const fs::path& scene, const fs::path& out_dir, int width, int height,
                         const std::vector<std::string>& extra,
                         const std::function<bool()>& cut_when) {
  std::vector<std::string> argv = {cluster_tool().string(), "mpirun", taskdist_binary().string(),
                                   "render", scene.string(), fmt::format("+W{}", width),
                                   fmt::format("+H{}", height), "-o",
                                   (out_dir / "blob.png").string(), "--slots", "1",
                                   "--node-timeout", fmt::format("{:g}", kNodeTimeout)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Background bg(argv, out_dir, "mpirun");
  CutResult r;
  for (int i = 0; i < 3000 && !cut_when() && !bg.poll(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(cut_when()) << "the moment to cut never came\n" << bg.err();
  EXPECT_EQ(run({"ip", "link", "set", "tdv-node2", "down"}).exit_code, 0);
  const auto cut = std::chrono::steady_clock::now();
  r.run.exit_code = exit_code(bg.wait(kNodeTimeout + 120));
  r.after_cut_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - cut).count();
  r.run.out = bg.out();
  r.run.err = bg.err();
  return r;
}

// An animation from one of POV-Ray's shipped INI files, on hosts that cannot see its folder:
// every frame's name and pixels are those of POV-Ray's own render of the same INI.
TEST(ClusterTest, RendersAnAnimationFromAnIniOnHostsThatCannotSeeIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "the emulated cluster needs root";
  const fs::path scene_dir = fresh_dir("cluster-animation");
  const fs::path out_dir = fresh_dir("cluster-animation-out");
  const fs::path ref_dir = fresh_dir("cluster-animation-povray");
  for (const auto& e : fs::directory_iterator("/usr/share/doc/povray/examples/animations/camera2")) {
    fs::copy_file(e.path(), scene_dir / e.path().filename());
  }
  const std::vector<std::string> options = {"+W80", "+H60", "+SF2", "+EF7"};
  std::vector<std::string> povray = {"povray", (scene_dir / "camera2.ini").string(),
                                     "+L" + scene_dir.string(), "-D",
                                     "+O" + (ref_dir / "cam.png").string()};
  povray.insert(povray.end(), options.begin(), options.end());
  ASSERT_EQ(run(povray, {}, 300, ref_dir).exit_code, 0);
  ClusterGuard guard;
  RunResult up = run({cluster_tool().string(), "up", "3", "--hide", scene_dir.string()});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::vector<std::string> argv = {cluster_tool().string(), "mpirun", taskdist_binary().string(),
                                   "render", (scene_dir / "camera2.ini").string(), "-o",
                                   (out_dir / "cam.png").string(), "--slots", "1", "--quiet"};
  argv.insert(argv.end(), options.begin(), options.end());
  RunResult r = run(argv, {}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(ref_dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 6u);
  for (const std::string& name : names) {
    ASSERT_TRUE(fs::exists(out_dir / name)) << name;
    EXPECT_EQ(count_differences(decode_png(out_dir / name), decode_png(ref_dir / name)), 0) << name;
  }
}

TEST(ClusterTest, AHostCutOffMidRenderEndsTheCommandAndResumeFinishesTheImage) {
  // Given: node2's link is cut once the first band has reached the master's journal.
  // Expect: the command ends within --node-timeout + 10 s of the cut, naming node2; either the
  // image is complete and exact, or (when Open MPI ends the job first, as it does once its
  // keepalive notices the lost daemon) every finished band is in the journal, and --resume,
  // with node2 back, finishes the image pixel-identical. No process of the run is left on the
  // healthy hosts.
  if (::geteuid() != 0) GTEST_SKIP() << "the emulated cluster needs root";
  const fs::path scene_dir = fresh_dir("cut-mid-scene");
  const fs::path out_dir = fresh_dir("cut-mid-out");
  fs::copy_file(blob_scene(), scene_dir / "blob.pov");
  const fs::path out = out_dir / "blob.png";
  const fs::path bands = out_dir / "blob.png.taskdist" / "bands";
  ClusterGuard guard;
  ASSERT_EQ(run({cluster_tool().string(), "up", "3", "--cpu", "0.5", "--hide",
                 scene_dir.string()}).exit_code, 0);
  const CutResult r = render_and_cut(scene_dir / "blob.pov", out_dir, 3200, 2400, {}, [&] {
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(bands, ec)) {
      if (f.path().extension() == ".tdb") return true;
    }
    return false;
  });
  EXPECT_LE(r.after_cut_s, kNodeTimeout + 10) << r.run.err;
  EXPECT_NE(r.run.err.find("node2 (rank 2)"), std::string::npos) << r.run.err;
  EXPECT_EQ(left_on({"master", "node1", "node3"}, 5), std::vector<std::string>{});
  std::cout << fmt::format("cut mid-render: exit {} {:.1f} s after the cut\n{}", r.run.exit_code,
                           r.after_cut_s, r.run.err);
  const Image reference = decode_png(reference_render(blob_scene(), 3200, 2400, {}));
  if (!fs::exists(out)) {
    EXPECT_NE(r.run.exit_code, 0);
    EXPECT_NE(r.run.err.find("--resume"), std::string::npos) << r.run.err;
    ASSERT_EQ(run({"ip", "link", "set", "tdv-node2", "up"}).exit_code, 0);
    const RunResult again =
        run({cluster_tool().string(), "mpirun", taskdist_binary().string(), "render",
             (scene_dir / "blob.pov").string(), "+W3200", "+H2400", "-o", out.string(),
             "--slots", "1", "--resume"},
            {}, 300);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("resuming"), std::string::npos) << again.err;
  } else {
    EXPECT_EQ(r.run.exit_code, 4) << r.run.err;
  }
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
}

TEST(ClusterTest, AHostCutOffAfterTheImageIsWrittenEndsTheCommandAndKeepsTheImage) {
  // Given: the master lingers with its live view after writing the image (--linger), and node2's
  // link is cut then.
  // Expect: the command ends within --node-timeout + 10 s of the cut, says that the image is
  // complete and names node2; the image is exact; nothing is left on the healthy hosts.
  if (::geteuid() != 0) GTEST_SKIP() << "the emulated cluster needs root";
  const fs::path scene_dir = fresh_dir("cut-after-scene");
  const fs::path out_dir = fresh_dir("cut-after-out");
  fs::copy_file(blob_scene(), scene_dir / "blob.pov");
  const fs::path out = out_dir / "blob.png";
  ClusterGuard guard;
  ASSERT_EQ(run({cluster_tool().string(), "up", "3", "--hide", scene_dir.string()}).exit_code, 0);
  const CutResult r =
      render_and_cut(scene_dir / "blob.pov", out_dir, 800, 600,
                     {"--serve", "127.0.0.1:0", "--linger", "120"}, [&] { return fs::exists(out); });
  std::cout << fmt::format("cut after the image: exit {} {:.1f} s after the cut\n{}",
                           r.run.exit_code, r.after_cut_s, r.run.err);
  EXPECT_LE(r.after_cut_s, kNodeTimeout + 10) << r.run.err;
  EXPECT_NE(r.run.exit_code, 0) << "a node was lost";
  EXPECT_NE(r.run.err.find("node2 (rank 2)"), std::string::npos) << r.run.err;
  EXPECT_NE(r.run.err.find("is complete and correct"), std::string::npos) << r.run.err;
  EXPECT_EQ(left_on({"master", "node1", "node3"}, 5), std::vector<std::string>{});
  const Image reference = decode_png(reference_render(blob_scene(), 800, 600, {}));
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
}

}  // namespace
}  // namespace taskdist
