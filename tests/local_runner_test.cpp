#include "engine/local_runner.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/job.h"
#include "test_support.h"

namespace taskdist {
namespace {

// Given: three tiny bands rendered at once by real povray processes (they often end in the same
// poll). Expect: running() counts every task until wait() has returned its end, so the loop
// never believes that nothing is running while results are still queued.
TEST(LocalRunnerTest, CountsTasksUntilTheirEndIsReturned) {
  JobRequest request;
  request.scene = testing::blob_scene().string();
  request.pov_args = {"+W64", "+H96"};
  const auto dir = testing::fresh_dir("runner");
  request.output = (dir / "o.png").string();
  auto job = build_job(request);
  ASSERT_TRUE(job) << job.error();
  LocalRunner runner(render_settings_for(*job), dir);
  for (int i = 0; i < 3; ++i) runner.start(Task{i + 1, i, {i * 32, i * 32 + 32}, 1});
  int ended = 0;
  for (int spins = 0; ended < 3 && spins < 1000; ++spins) {
    EXPECT_EQ(runner.running(), 3 - ended);
    auto e = runner.wait(1.0);
    if (!e) continue;
    if (std::holds_alternative<TaskFinished>(*e)) {
      ++ended;
    } else {
      ASSERT_TRUE(std::holds_alternative<TaskProgress>(*e)) << "a band failed";
    }
  }
  EXPECT_EQ(ended, 3);
  EXPECT_EQ(runner.running(), 0);
}

// Runs one band of blob.pov 64x96 with `povray` to its end; returns the event that ended it (a
// failure if none came within 60 s).
RunnerEvent run_one_band(const std::filesystem::path& povray, RowRange rows) {
  JobRequest request;
  request.scene = testing::blob_scene().string();
  request.pov_args = {"+W64", "+H96"};
  request.povray = povray.string();
  const auto dir = testing::fresh_dir("band");
  request.output = (dir / "o.png").string();
  auto job = build_job(request);
  EXPECT_TRUE(job) << job.error();
  LocalRunner runner(render_settings_for(*job), dir);
  runner.start(Task{1, 0, rows, 1});
  while (true) {
    auto e = runner.wait(60.0);
    if (!e) return TaskFailed{1, {FailureKind::kRenderError, "no end within 60 s", {}}};
    if (!std::holds_alternative<TaskProgress>(*e)) return *e;
  }
}

TEST(LocalRunnerTest, ABandIsDoneOnceItsRowsArriveWithoutWaitingForTheRestOfTheOutput) {
  // Given: a povray that, having written its whole image, keeps its output open for an hour
  // (the stand-in for the rest of a large full-size image still being written).
  // Expect: a top band and a bottom band (read bottom-up) both end (within run_one_band's 60 s:
  // no timing is measured, an hour cannot pass unnoticed), as finished bands, and the process
  // group is gone (no sleep left behind).
  const auto dir = testing::fresh_dir("slow-tail");
  const auto marker = dir / "sleep-pid";
  const auto povray = testing::write_script(
      dir, "povray",
      "sleep 3600 &\necho $! > " + marker.string() + "\n/usr/bin/povray \"$@\"\nwait\n");
  for (RowRange rows : {RowRange{0, 32}, RowRange{64, 96}}) {
    SCOPED_TRACE(rows.begin);
    const RunnerEvent event = run_one_band(povray, rows);
    ASSERT_TRUE(std::holds_alternative<TaskFinished>(event))
        << std::get<TaskFailed>(event).failure.message;
    EXPECT_EQ(std::get<TaskFinished>(event).bands.at(0).rows, rows);
    std::ifstream in(marker);
    pid_t sleeper = 0;
    in >> sleeper;
    ASSERT_GT(sleeper, 0);
    // SIGKILL went to the whole group; its delivery takes a moment.
    for (int i = 0; i < 200 && testing::process_alive(sleeper); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE(testing::process_alive(sleeper));
  }
}

TEST(LocalRunnerTest, BandsInTheLowerHalfAreReadBottomUp) {
  RenderSettings s;
  s.width = 800;
  s.height = 600;
  EXPECT_FALSE(reads_bottom_up(s, {0, 100}));
  EXPECT_FALSE(reads_bottom_up(s, {200, 300}));
  EXPECT_TRUE(reads_bottom_up(s, {350, 450}));
  EXPECT_TRUE(reads_bottom_up(s, {500, 600}));
  const auto has = [](const std::vector<std::string>& argv, const std::string& opt) {
    return std::find(argv.begin(), argv.end(), opt) != argv.end();
  };
  EXPECT_TRUE(has(povray_argv(s, {500, 600}), "+FB"));
  EXPECT_TRUE(has(povray_argv(s, {0, 100}), "+FT"));
  // A job planned with antialiasing off says so before the user's options (a node's own
  // povray.ini could turn it on); one that may antialias leaves it to the options.
  s.options = {"+Q9"};
  s.antialias_off = true;
  auto argv = povray_argv(s, {0, 100});
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(argv[2], "-A");
  EXPECT_EQ(argv[3], "+Q9");
  s.antialias_off = false;
  EXPECT_FALSE(has(povray_argv(s, {0, 100}), "-A"));
  s.width = 12800;
  s.height = 9600;
  // However large: a bottom-up band is held a run at a time, not whole (ImageRowStream).
  EXPECT_TRUE(reads_bottom_up(s, {4800, 9600}));
  EXPECT_TRUE(reads_bottom_up(s, {9000, 9600}));
  EXPECT_FALSE(reads_bottom_up(s, {0, 9000}));
}

}  // namespace
}  // namespace taskdist
