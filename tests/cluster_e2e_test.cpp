// The emulated cluster end to end (root only): tools/cluster brings up three worker hosts in
// network namespaces with their own sshd; mpirun starts taskdist across them over ssh; the
// worker hosts cannot see the scene's folder, so the render proves that shipping works. After
// `down`, nothing the tool made may be left.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

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

}  // namespace
}  // namespace taskdist
