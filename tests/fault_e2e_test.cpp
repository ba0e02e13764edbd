// Fault injection with the real taskdist and the real povray: killed renderers, a worker that
// always fails, a hung renderer, a straggler, a killed master and --resume, a damaged journal, a
// full disk. Every image is compared pixel by pixel with one full povray render.
//
// The master-kill loops run TASKDIST_FAULT_RUNS times each (default 3 here; bench/faults.sh
// runs them 10 times and more).
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "exec/subprocess.h"
#include "store/band_file.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;
using Clock = std::chrono::steady_clock;

int fault_runs() {
  const char* v = std::getenv("TASKDIST_FAULT_RUNS");
  return v ? std::max(1, std::atoi(v)) : 3;
}

std::mt19937 seeded_rng(const char* what) {
  const unsigned seed = static_cast<unsigned>(
      std::getenv("TASKDIST_FAULT_SEED") ? std::atoi(std::getenv("TASKDIST_FAULT_SEED"))
                                         : std::random_device{}());
  std::cout << what << ": seed " << seed << " (TASKDIST_FAULT_SEED to repeat)\n";
  return std::mt19937(seed);
}

std::vector<std::string> render_argv(int width, int height, const fs::path& out,
                                     std::vector<std::string> extra) {
  std::vector<std::string> argv = {taskdist_binary().string(), "render", blob_scene().string(),
                                   "+W" + std::to_string(width), "+H" + std::to_string(height),
                                   "+A0.3", "-o", out.string(), "--quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// Rows of the bands in a report: rendered (outcome ok), and taken from the journal.
std::vector<RowRange> rendered_rows(const nlohmann::json& report) {
  std::vector<RowRange> rows;
  for (const auto& t : report["tasks"]) {
    if (t["outcome"] == "ok") {
      rows.push_back({t["first_row"].get<int>(), t["last_row"].get<int>() + 1});
    }
  }
  return rows;
}

std::vector<RowRange> reused_rows(const nlohmann::json& report) {
  std::vector<RowRange> rows;
  for (const auto& b : report["reused"]) {
    rows.push_back({b["first_row"].get<int>(), b["last_row"].get<int>() + 1});
  }
  return rows;
}

bool overlap(RowRange a, RowRange b) { return a.begin < b.end && b.begin < a.end; }

// Whole bands in a job folder's journal.
std::vector<RowRange> journaled_rows(const fs::path& job_dir) {
  std::vector<RowRange> rows;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(job_dir / "bands", ec)) {
    if (f.path().extension() != ".tdb") continue;
    if (auto band = read_band_file(f.path())) rows.push_back(band->rows);
  }
  return rows;
}

// A povray wrapper whose first call (only) runs `action` in the shell, its pid in `dir`/once/pid.
fs::path misbehaving_once(const fs::path& dir, const std::string& action) {
  return write_script(dir, "povray-misbehaving-once",
                      fmt::format("if mkdir '{0}/once' 2>/dev/null; then\n"
                                  "  echo $$ > '{0}/once/pid'; {1}\n"
                                  "fi\n"
                                  "exec povray \"$@\"\n",
                                  dir.string(), action));
}


TEST(FaultTest, SurvivesTwentyRandomKillsOfItsPovrayProcesses) {
  // Given: renders whose povray processes are killed (SIGKILL), each at a random moment of its
  // life, until 20 have died. Expect: every band is retried; each image is pixel-identical.
  // A povray may finish before its moment comes (taskdist itself stops one once its rows are
  // in), so a render can end with fewer kills: the next render goes on killing (at most 5).
  const Image reference = decode_png(reference_render(blob_scene(), 1024, 768, {"+A0.3"}));
  auto rng = seeded_rng("povray kills");
  std::uniform_real_distribution<double> delay(0.05, 0.6);
  int kills = 0;
  for (int render = 0; render < 5 && kills < 20; ++render) {
    SCOPED_TRACE(fmt::format("render {}", render + 1));
    const fs::path dir = fresh_dir("fault-kills");
    const fs::path out = dir / "out.png";
    Background taskdist(render_argv(1024, 768, out,
                                    {"-j", "2", "--retries", "100", "--exclude-after", "100",
                                     "--report", (dir / "run.json").string()}),
                        dir, "taskdist");
    std::map<pid_t, Clock::time_point> doomed;  // povray pid -> when to kill it
    int render_kills = 0;
    std::optional<ExitStatus> status;
    while (!(status = taskdist.poll())) {
      const auto now = Clock::now();
      for (pid_t p : children_of(taskdist.pid())) {
        if (kills + render_kills + static_cast<int>(doomed.size()) >= 20) break;
        if (!doomed.contains(p)) {
          doomed[p] = now + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(delay(rng)));
        }
      }
      for (auto it = doomed.begin(); it != doomed.end();) {
        if (it->second > now) {
          ++it;
          continue;
        }
        const auto kids = children_of(taskdist.pid());
        if (std::ranges::find(kids, it->first) != kids.end() && process_alive(it->first)) {
          ::kill(it->first, SIGKILL);  // a child of the taskdist this test started
          ++render_kills;
        }
        it = doomed.erase(it);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(exit_code(*status), 0) << taskdist.err();
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);
    const auto report = read_json(dir / "run.json");
    int killed = 0;
    for (const auto& t : report["tasks"]) {
      killed += t["outcome"].get<std::string>().find("signal 9") != std::string::npos;
    }
    EXPECT_GE(killed, render_kills - 2) << "nearly every kill is a failed band in the report "
                                           "(a kill may land as povray exits)";
    EXPECT_FALSE(fs::exists(dir / "out.png.taskdist")) << "the job folder goes after success";
    std::cout << fmt::format("render {}: kills survived {}, failed bands in the report {}\n",
                             render + 1, render_kills, killed);
    kills += render_kills;
  }
  EXPECT_EQ(kills, 20);
}

TEST(FaultTest, AWorkerWhoseRendererAlwaysFailsIsExcludedAndNamed) {
  // Given: 3 slots; slot 2's renderer always fails (not a scene error).
  // Expect: slot 2 is excluded after 3 failures, the job completes on the others, pixel-identical,
  // and both the terminal and the report name it.
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-bad-slot");
  const fs::path wrapper = write_script(dir, "povray-failing-on-slot-2",
                                        "if [ \"$TASKDIST_SLOT\" = 2 ]; then\n"
                                        "  echo 'injected failure on slot 2' >&2; exit 1\n"
                                        "fi\n"
                                        "exec povray \"$@\"\n");
  const fs::path out = dir / "out.png";
  // Its own profile folder: a profile of this render left by another test in the same process
  // would cut fewer bands, and slot 2 might not get three.
  const RunResult r = run(render_argv(640, 480, out,
                                      {"-j", "3", "--povray", wrapper.string(), "--report",
                                       (dir / "run.json").string(), "--profile-dir",
                                       (dir / "profiles").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_NE(r.err.find("slot 2 failed 3 bands in a row; it gets no more bands"), std::string::npos)
      << r.err;
  const auto report = read_json(dir / "run.json");
  EXPECT_EQ(report["excluded"], nlohmann::json::array({"slot 2"}));
  int failed_on_2 = 0;
  for (const auto& t : report["tasks"]) {
    if (t["where"] == "slot 2") {
      EXPECT_NE(t["outcome"], "ok");
      ++failed_on_2;
    }
  }
  EXPECT_EQ(failed_on_2, 3);
}

TEST(FaultTest, WhenEveryWorkerIsExcludedTheJobStopsWithASummary) {
  const fs::path dir = fresh_dir("fault-all-bad");
  const fs::path wrapper = write_script(dir, "povray-failing",
                                        "echo \"disk on fire (slot $TASKDIST_SLOT)\" >&2; exit 3\n");
  const fs::path out = dir / "out.png";
  const RunResult r = run(render_argv(320, 240, out, {"-j", "2", "--povray", wrapper.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("every worker failed 3 bands in a row; stopped"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("slot 1: 3 failed bands (excluded)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("slot 2: 3 failed bands (excluded)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(dir / "out.png.taskdist")) << "no band finished: nothing to keep";
}

TEST(FaultTest, AHungRendererIsStoppedByTheTaskTimeoutAndItsBandRetried) {
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-hung");
  // The first band to start hangs; every later one renders.
  const fs::path wrapper = misbehaving_once(dir, "exec sleep 600");
  const fs::path out = dir / "out.png";
  const RunResult r = run(render_argv(
      640, 480, out,
      {"-j", "2", "--povray", wrapper.string(), "--task-timeout", "4", "--no-duplicates"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_NE(r.err.find("ran longer than --task-timeout 4 s; stopped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retrying"), std::string::npos) << r.err;
  const pid_t hung = std::stoi(read_file(dir / "once" / "pid"));
  EXPECT_FALSE(process_alive(hung)) << "the hung renderer was stopped";
}

TEST(FaultTest, ABandWhoseOutputArrivesDamagedIsRetried) {
  // Given: the first band's image reaches taskdist cut short (the first 3000 bytes only), and
  // its renderer exits 0. Expect: the band counts as failed and is rendered again.
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-damaged-output");
  const fs::path wrapper =
      misbehaving_once(dir, "povray \"$@\" | head -c 3000; exit 0");
  const fs::path out = dir / "out.png";
  const RunResult r = run(render_argv(640, 480, out, {"-j", "2", "--povray", wrapper.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_NE(r.err.find("povray output was incomplete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retrying"), std::string::npos) << r.err;
}

TEST(FaultTest, AnIdleSlotCopiesAStragglerAndTheFirstCopyWins) {
  // Given: the first band's renderer sleeps 60 s before it starts (a sick node); 2 slots.
  // Expect: once the rest is done, the idle slot renders a copy of that band; the copy wins,
  // the straggler is stopped (the job does not wait for it), pixel-identical.
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-straggler");
  const fs::path wrapper = misbehaving_once(dir, "sleep 60");
  const fs::path out = dir / "out.png";
  const RunResult r = run(render_argv(
      640, 480, out, {"-j", "2", "--povray", wrapper.string(), "--report",
                      (dir / "run.json").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  const auto report = read_json(dir / "run.json");
  int stopped = 0, copies_won = 0;
  for (const auto& t : report["tasks"]) {
    stopped += t["outcome"].get<std::string>().starts_with("stopped: the copy on");
    copies_won += t["outcome"] == "ok" && t["duplicate_of"].get<int>() != 0;
  }
  EXPECT_EQ(stopped, 1) << report.dump(1);
  EXPECT_EQ(copies_won, 1) << report.dump(1);
  const pid_t slow = std::stoi(read_file(dir / "once" / "pid"));
  EXPECT_FALSE(process_alive(slow)) << "the straggler was stopped";
}

TEST(FaultTest, AStragglerAndItsCopyCountOnceInTheProgress) {
  // Given: the first band's renderer says it has traced 99% of its pixels, then hangs (a sick
  // node); 2 slots, so the idle one copies that band once the rest is done, and the copy reports
  // 10%, 20%, ... 90% over 1.8 s before it renders. taskdist runs on a terminal (script(1)),
  // where the progress line is redrawn up to 10 times a second.
  // Expect: while the copy runs, the band counts once: the rows never exceed the image's, the
  // share never 100%+, the ETA never negative; the copy wins and the image is whole.
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-progress");
  const fs::path wrapper = write_script(
      dir, "povray-straggler-and-copy",
      fmt::format("if mkdir '{0}/once' 2>/dev/null; then\n"
                  "  echo $$ > '{0}/once/pid'; echo \"$*\" > '{0}/once/args'\n"
                  "  printf 'Rendered 99 of 100 pixels (99%%)\\n' >&2; sleep 60\n"
                  "fi\n"
                  "if [ \"$*\" = \"$(cat '{0}/once/args' 2>/dev/null)\" ]; then  # the copy\n"
                  "  for p in 10 20 30 40 50 60 70 80 90; do\n"
                  "    printf 'Rendered %d of 100 pixels\\r' $p >&2; sleep 0.2\n"
                  "  done\n"
                  "fi\n"
                  "exec povray \"$@\"\n",
                  dir.string()));
  const fs::path out = dir / "out.png";
  std::vector<std::string> argv = render_argv(
      640, 480, out, {"-j", "2", "--povray", wrapper.string(), "--report",
                      (dir / "run.json").string(), "--no-profile"});
  std::erase(argv, std::string("--quiet"));
  std::string command;
  for (const std::string& a : argv) command += "'" + a + "' ";
  const RunResult r = run({"script", "--quiet", "--return", "--command", command, "/dev/null"},
                          {{"TERM", "xterm"}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  const auto report = read_json(dir / "run.json");
  double copy_start = -1, copy_end = -1;
  for (const auto& t : report["tasks"]) {
    if (t["duplicate_of"].get<int>() != 0) {
      copy_start = t["start_s"].get<double>();
      copy_end = t["end_s"].get<double>();
    }
  }
  ASSERT_GE(copy_start, 0) << "no copy of the straggler ran: " << report.dump(1);
  // "rows traced 312/480 (65%)  bands in flight 2  elapsed 3.1s  ETA 2s", redrawn after "\r".
  const std::regex line(R"(rows traced (-?[0-9]+)/([0-9]+) \((-?[0-9]+)%\)  )"
                        R"(bands in flight [0-9]+  elapsed ([0-9.]+)s  ETA (--|[^ \r\x1b]+))");
  int lines = 0, while_copying = 0;
  for (auto m = std::sregex_iterator(r.out.begin(), r.out.end(), line); m != std::sregex_iterator();
       ++m) {
    const std::string text = m->str();
    ++lines;
    EXPECT_LE(std::stoi((*m)[1]), std::stoi((*m)[2])) << text;
    EXPECT_GE(std::stoi((*m)[1]), 0) << text;
    EXPECT_LE(std::stoi((*m)[3]), 100) << text;
    const std::string eta = (*m)[5];
    EXPECT_TRUE(eta == "--" || std::regex_match(eta, std::regex("[0-9]+s"))) << text;
    const double elapsed = std::stod((*m)[4]);
    while_copying += elapsed >= copy_start + 0.1 && elapsed <= copy_end - 0.1;
  }
  EXPECT_GT(lines, 0) << "no progress line on the terminal: " << r.out;
  EXPECT_GT(while_copying, 0) << "no progress shown while the copy ran (" << copy_start << " to "
                              << copy_end << " s): " << r.out;
}

// Kills the master (SIGKILL) at a random moment, then resumes; checks the image, that no
// journaled band is rendered again, and that nothing of the killed run is left running.
// `launch(extra)` starts a run; `master(b)` finds the master's pid in it.
void kill_and_resume(const std::string& name, int width, int height,
                     const std::function<std::vector<std::string>(const fs::path&,
                                                                  std::vector<std::string>)>& argv,
                     const std::function<pid_t(const Background&)>& master, double kill_from_s,
                     double kill_by_s) {
  const Image reference = decode_png(reference_render(blob_scene(), width, height, {"+A0.3"}));
  auto rng = seeded_rng(name.c_str());
  std::uniform_real_distribution<double> when(kill_from_s, kill_by_s);
  int reused_total = 0, rendered_total = 0;
  for (int run_no = 0; run_no < fault_runs(); ++run_no) {
    SCOPED_TRACE(fmt::format("run {}", run_no + 1));
    const fs::path dir = fresh_dir(name);
    const fs::path out = dir / "out.png";
    Background first(argv(out, {}), dir, "first");
    // One run in three is killed at any moment in [kill_from_s, kill_by_s] (often before a band
    // is done); the others at a random moment within a second after the first band is journaled.
    const bool after_a_band = run_no % 3 != 0;
    const auto started = Clock::now();
    std::optional<ExitStatus> status;
    while (after_a_band && !(status = first.poll()) &&
           journaled_rows(dir / "out.png.taskdist").empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double wait = after_a_band ? when(rng) / kill_by_s : when(rng);
    const auto deadline = Clock::now() + std::chrono::duration<double>(wait);
    while (!status && !(status = first.poll()) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double kill_at = std::chrono::duration<double>(Clock::now() - started).count();
    std::vector<pid_t> left;
    if (!status) {
      const pid_t m = master(first);
      if (m > 0) {
        left = descendants(first.pid());
        ::kill(m, SIGKILL);  // the master this test started
      }  // else the master has already left (mpirun is ending the job)
      status = first.wait();
    }
    std::cout << fmt::format("{} run {}: master killed at {:.2f} s\n", name, run_no + 1, kill_at);
    if (exit_code(*status) == 0) continue;  // finished before the kill: nothing to resume
    if (fs::exists(out)) {
      // Killed after the image was committed (renamed into place), while the master was
      // ending the job: the image must be whole and exact.
      EXPECT_EQ(count_differences(decode_png(out), reference), 0);
      continue;
    }
    const std::vector<RowRange> journaled = journaled_rows(dir / "out.png.taskdist");
    EXPECT_FALSE(fs::exists(out));
    const RunResult r = run(argv(out, {"--resume", "--report", (dir / "resumed.json").string()}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);
    const auto report = read_json(dir / "resumed.json");
    const auto reused = reused_rows(report);
    EXPECT_EQ(reused.size(), journaled.size()) << "every journaled band is re-used";
    for (RowRange j : journaled) EXPECT_NE(std::ranges::find(reused, j), reused.end());
    const auto rendered = rendered_rows(report);
    for (RowRange a : rendered) {
      for (RowRange b : reused) {
        EXPECT_FALSE(overlap(a, b)) << "rows " << a.begin << "-" << a.end
                                    << " were journaled and rendered again";
      }
    }
    EXPECT_FALSE(fs::exists(dir / "out.png.taskdist"));
    for (const auto& e : fs::directory_iterator(dir)) {
      EXPECT_FALSE(e.path().filename().string().starts_with("out.png.part-"))
          << "the killed run's temporary output is cleared: " << e.path();
    }
    for (pid_t p : left) {
      for (int i = 0; i < 100 && process_alive(p); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      EXPECT_FALSE(process_alive(p)) << "process " << p << " of the killed run lives on";
    }
    reused_total += static_cast<int>(reused.size());
    rendered_total += static_cast<int>(rendered.size());
  }
  std::cout << fmt::format("{}: {} runs, bands re-used {}, bands rendered after resume {}\n", name,
                           fault_runs(), reused_total, rendered_total);
}

TEST(FaultTest, AKilledMasterResumesWithoutRenderingAJournaledBandAgain) {
  kill_and_resume(
      "kill-local", 1600, 1200,
      [](const fs::path& out, std::vector<std::string> extra) {
        extra.insert(extra.begin(), {"-j", "2"});
        return render_argv(1600, 1200, out, extra);
      },
      [](const Background& b) { return b.pid(); }, 1.0, 4.0);
}

pid_t rank_zero_of(const Background& mpirun) { return mpi_rank_pid(mpirun.pid(), 0, 2); }

TEST(FaultTest, AKilledMpiMasterResumesWithoutRenderingAJournaledBandAgain) {
  kill_and_resume(
      "kill-mpi", 1600, 1200,
      [](const fs::path& out, std::vector<std::string> extra) {
        std::vector<std::string> argv = {"env", "OMPI_ALLOW_RUN_AS_ROOT=1",
                                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "mpirun",
                                         "--oversubscribe", "-np", "3"};
        for (auto& a : render_argv(1600, 1200, out, {"--slots", "1"})) argv.push_back(a);
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
      },
      rank_zero_of, 1.5, 5.0);
}

TEST(FaultTest, ADamagedBandInTheJournalIsRenderedAgain) {
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-damaged");
  const fs::path out = dir / "out.png";
  RunResult r = run(render_argv(640, 480, out, {"-j", "2", "--keep-job-dir"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path job_dir = dir / "out.png.taskdist";
  const auto bands = journaled_rows(job_dir);
  ASSERT_GE(bands.size(), 2u);
  const RowRange victim = bands[1];
  const fs::path victim_file = job_dir / "bands" / band_file_name(victim);
  {
    std::fstream f(victim_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-10, std::ios::end);
    f.put('\x42');
  }
  fs::remove(out);
  r = run(render_argv(640, 480, out, {"-j", "2", "--resume", "--report",
                                      (dir / "resumed.json").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_NE(r.err.find(victim_file.string() + "' is damaged (checksum); removed, its rows are "
                                              "rendered again"),
            std::string::npos)
      << r.err;
  const auto report = read_json(dir / "resumed.json");
  EXPECT_EQ(reused_rows(report).size(), bands.size() - 1);
  int rows = 0;
  for (RowRange a : rendered_rows(report)) {
    EXPECT_TRUE(a.begin >= victim.begin && a.end <= victim.end) << "only the damaged rows";
    rows += a.count();
  }
  EXPECT_EQ(rows, victim.count());
}

TEST(FaultTest, AFullDiskIsAClearErrorTheJournalStaysWholeAndResumeFinishes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const Image reference = decode_png(reference_render(blob_scene(), 640, 480, {"+A0.3"}));
  const fs::path dir = fresh_dir("fault-full");
  const fs::path small = dir / "small";
  fs::create_directories(small);
  // The image is ~50 KiB and its journal about as much: 64 KiB cannot hold both.
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{small};
  const fs::path out = small / "out.png";
  RunResult r = run(render_argv(640, 480, out, {"-j", "2"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  // The journal is whole: every file in it is a band that reads back with its checksum.
  int bands = 0;
  for (const auto& f : fs::directory_iterator(small / "out.png.taskdist" / "bands")) {
    auto band = read_band_file(f.path());
    EXPECT_TRUE(band) << band.error();
    ++bands;
  }
  EXPECT_GE(bands, 1);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", MS_REMOUNT, "size=4m"), 0)
      << std::strerror(errno);
  r = run(render_argv(640, 480, out, {"-j", "2", "--resume", "--report",
                                      (dir / "resumed.json").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_EQ(static_cast<int>(read_json(dir / "resumed.json")["reused"].size()), bands);
}

TEST(FaultTest, AJobFolderOfAnotherRunIsRefusedAndLeftAlone) {
  const fs::path dir = fresh_dir("fault-other-job");
  const fs::path out = dir / "out.png";
  RunResult r = run(render_argv(320, 240, out, {"--keep-job-dir"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run(render_argv(320, 240, out, {}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("holds an earlier run of this job ("), std::string::npos) << r.err;
  r = run(render_argv(400, 300, out, {"--resume"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("its size is 320x240, not 400x300"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir / "out.png.taskdist" / "job.json"));
}

}  // namespace
}  // namespace taskdist
