// The render loop and the job around it, driven by a scripted runner and a fake clock, with the
// real Journal and PngAssembler writing into a fresh folder: every outcome is checked on what
// is on disk (the PNG decoded with libpng, the journal's band files) and on what the runner
// was asked to do.
#include "engine/render_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/render_job.h"
#include "fake_runner.h"
#include "store/band_file.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace taskdist {
namespace {

using testing::FakeClock;
using testing::FakeRunner;
using testing::TaskScript;

// A job of fake bands in a fresh folder: a scene file for the journal to hash, the output and
// its job folder beside it. Quiet, no cost profile, no live view.
Job fake_job(const std::string& name, int width, int height, int slots, Policy policy) {
  const fs::path dir = testing::fresh_dir(name);
  std::ofstream(dir / "scene.pov") << "// the fake runner renders nothing of it\n";
  Job job;
  job.scene = dir / "scene.pov";
  job.scene_dir = dir;
  job.width = width;
  job.height = height;
  job.output = dir / "out.png";
  job.job_dir = dir / "out.png.taskdist";
  job.slots = slots;
  job.policy = policy;
  job.quiet = true;
  job.cost_profile = false;
  return job;
}

// Every slot its own node, as the local engine lays them out.
EngineLayout local_layout(int slots) {
  EngineLayout layout{.slots = slots, .slot_nodes = {}, .slot_speed = {}};
  for (int slot = 0; slot < slots; ++slot) layout.slot_nodes.push_back(slot);
  return layout;
}

// Hears every event and keeps what the tests look at.
class Probe : public RenderObserver {
 public:
  void on_task(const TaskRecord& record, std::string_view state) override {
    tasks.push_back({record, std::string(state)});
  }
  void on_band(RowRange rows, const fs::path& band_file) override {
    bands.push_back({rows, band_file});
  }
  void on_message(const UserMessage& message) override { messages.push_back(message); }
  void on_end(const RunReport& r, int exit_code, const std::string&) override {
    report = r;
    end_code = exit_code;
  }

  // Every message of `kind`, one after the other.
  std::string text_of(MessageKind kind) const {
    std::string text;
    for (const UserMessage& m : messages) {
      if (m.kind == kind) text += m.text;
    }
    return text;
  }

  struct TaskEvent {
    TaskRecord record;
    std::string state;
  };
  std::vector<TaskEvent> tasks;
  std::vector<std::pair<RowRange, fs::path>> bands;
  std::vector<UserMessage> messages;
  RunReport report;
  int end_code = -1;
};

void expect_fake_image(const Job& job) {
  ASSERT_TRUE(fs::exists(job.output));
  const testing::Image image = testing::decode_png(job.output);
  EXPECT_EQ(testing::count_differences(image, testing::fake_image(job.width, job.height, 3)), 0);
}

const TaskRecord* find_record(const RunReport& report, TaskId id) {
  for (const TaskRecord& r : report.tasks) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// Given: one slot; the first try of the only band hangs. Expect: once --task-timeout has passed
// on the clock, the loop cancels it and starts the band again, and the image completes.
TEST(RenderLoopTest, TaskPastTheTimeoutIsCancelledAndRetried) {
  Job job = fake_job("timeout", 6, 8, 1, Policy::kStatic);
  job.task_timeout_s = 5;
  FakeClock clock;
  FakeRunner runner(clock, job.width, 3, [](const Task&, int n) {
    return n == 1 ? TaskScript::hang() : TaskScript::finish(1);
  });
  Probe probe;
  EXPECT_EQ(run_job(job, runner, local_layout(1), clock, probe), kExitOk);
  ASSERT_EQ(runner.starts().size(), 2u);
  const Task& first = runner.starts()[0];
  const Task& second = runner.starts()[1];
  EXPECT_EQ(runner.cancels(), std::vector<TaskId>{first.id});
  EXPECT_EQ(second.rows, first.rows);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_GT(clock.now_s(), 5.0);
  EXPECT_NE(probe.text_of(MessageKind::kRetry).find("ran longer than --task-timeout 5 s"),
            std::string::npos)
      << probe.text_of(MessageKind::kRetry);
  EXPECT_EQ(probe.end_code, kExitOk);
  expect_fake_image(job);
}

// Given: two bands; the first try of the top band arrives with its deflate stream cut short
// (check_band fails). Expect: it is rendered again, and the PNG holds the right pixels.
TEST(RenderLoopTest, DamagedBandIsRenderedAgain) {
  Job job = fake_job("damaged", 5, 8, 2, Policy::kStatic);
  FakeClock clock;
  FakeRunner runner(clock, job.width, 3, [](const Task& task, int n) {
    return n == 1 && task.rows.begin == 0 ? TaskScript::damaged(1) : TaskScript::finish(2);
  });
  Probe probe;
  EXPECT_EQ(run_job(job, runner, local_layout(2), clock, probe), kExitOk);
  ASSERT_EQ(runner.starts().size(), 3u);
  EXPECT_EQ(runner.starts()[2].rows, runner.starts()[0].rows);
  EXPECT_NE(probe.text_of(MessageKind::kRetry).find("the band arrived damaged"), std::string::npos)
      << probe.text_of(MessageKind::kRetry);
  expect_fake_image(job);
}

// Given: two slots, dynamic bands with straggler copies; the first band takes 100 s, every other
// task 1 s. Expect: an idle slot starts a copy of it; once the copy finishes, the runner is told
// to cancel the original, the report marks it stopped, and the job does not wait for it.
TEST(RenderLoopTest, LosingCopyIsStoppedWhenTheOtherFinishes) {
  Job job = fake_job("copy", 4, 64, 2, Policy::kDynamic);
  FakeClock clock;
  FakeRunner runner(clock, job.width, 3,
                    [](const Task&, int n) { return TaskScript::finish(n == 1 ? 100 : 1); });
  Probe probe;
  EXPECT_EQ(run_job(job, runner, local_layout(2), clock, probe), kExitOk);
  const Task& straggler = runner.starts().front();
  const auto copy = std::ranges::find(runner.starts(), straggler.id, &Task::duplicate_of);
  ASSERT_NE(copy, runner.starts().end()) << "no copy of the straggling band was started";
  EXPECT_EQ(copy->rows, straggler.rows);
  EXPECT_EQ(runner.cancels(), std::vector<TaskId>{straggler.id});
  EXPECT_LT(clock.now_s(), 100.0);
  const TaskRecord* stopped = find_record(probe.report, straggler.id);
  ASSERT_NE(stopped, nullptr) << "the report has no record of the losing copy";
  EXPECT_EQ(stopped->outcome, "stopped: the copy on slot 2 finished first");
  const TaskRecord* winner = find_record(probe.report, copy->id);
  ASSERT_NE(winner, nullptr);
  EXPECT_EQ(winner->outcome, "ok");
  EXPECT_TRUE(std::ranges::any_of(probe.tasks, [&](const Probe::TaskEvent& e) {
    return e.record.id == straggler.id && e.state == "stopped";
  }));
  expect_fake_image(job);
}

// Given: the loop itself with the real journal and assembler. Expect: when a band's event comes,
// its band file is in the journal, whole, and the assembler has not taken the band yet: a run
// that dies at any moment after keeps the band for --resume.
TEST(RenderLoopTest, BandIsInTheJournalBeforeTheAssemblerTakesIt) {
  const Job job = fake_job("journal-first", 5, 9, 3, Policy::kStatic);
  auto journal = Journal::open(job);
  ASSERT_TRUE(journal) << journal.error();
  auto assembler = FrameAssembler::create({.width = job.width,
                                           .height = job.height,
                                           .alpha = false,
                                           .outputs = {job.output},
                                           .spill_dir = journal->spill_dir(),
                                           .done = {}});
  ASSERT_TRUE(assembler) << assembler.error();
  struct Checker : RenderObserver {
    explicit Checker(const FrameAssembler& a) : assembler(a) {}
    void on_band(RowRange rows, const fs::path& file) override {
      ++bands;
      auto band = read_band_file(file);
      ASSERT_TRUE(band) << "band file of rows " << rows.begin << "-" << rows.end << ": "
                        << band.error();
      EXPECT_EQ(band->rows, rows);
      EXPECT_EQ(band->deflated, testing::fake_band(rows, 5, 3).deflated);
      EXPECT_LE(assembler.rows_written(0), rows.begin) << "the assembler took the band first";
    }
    const FrameAssembler& assembler;
    int bands = 0;
  } checker(**assembler);
  FakeClock clock;
  FakeRunner runner(clock, job.width, 3, [](const Task&, int n) { return TaskScript::finish(n); });
  RenderLoop loop(job, local_layout(3), {}, runner, clock, *journal, **assembler, checker);
  EXPECT_EQ(loop.run(), -1);
  EXPECT_EQ(checker.bands, 3);
  EXPECT_EQ((*assembler)->rows_written(0), job.height);
  EXPECT_EQ(journal->bands(), 3);
  EXPECT_EQ((*assembler)->frames_done(), 1) << "the image is written as its last band arrives";
  expect_fake_image(job);
}

// Given: three bands; the top one finishes, the middle one fails with a scene error, the bottom
// one would never end. Expect: the job stops at once with exit code 1, the runner aborted, no
// output file (nor a temporary one), the message names POV-Ray's error, and the finished band
// is kept in the journal for --resume.
TEST(RenderLoopTest, SceneErrorStopsTheJobAtOnce) {
  const Job job = fake_job("scene-error", 5, 9, 3, Policy::kStatic);
  FakeClock clock;
  FakeRunner runner(clock, job.width, 3, [](const Task& task, int) {
    if (task.rows.begin == 0) return TaskScript::finish(1);
    if (task.rows.begin == 3) {
      return TaskScript::fail(FailureKind::kSceneError, "Parse Error: Expected 'object'",
                              "File 'scene.pov' line 7: Parse Error: Expected 'object'", 2);
    }
    return TaskScript::hang();
  });
  Probe probe;
  EXPECT_EQ(run_job(job, runner, local_layout(3), clock, probe), kExitRenderFailed);
  EXPECT_EQ(runner.starts().size(), 3u) << "a scene error was retried";
  EXPECT_GE(runner.aborts(), 1);
  EXPECT_LT(clock.now_s(), 3.0);
  EXPECT_FALSE(fs::exists(job.output));
  for (const auto& e : fs::directory_iterator(job.output.parent_path())) {
    EXPECT_FALSE(e.path().filename().string().starts_with("out.png.part-")) << e.path();
  }
  const std::string stopped = probe.text_of(MessageKind::kStopped);
  EXPECT_NE(stopped.find("POV-Ray refused the job (Parse Error: Expected 'object', band rows "
                         "4-6 on slot 2)"),
            std::string::npos)
      << stopped;
  EXPECT_NE(stopped.find("  File 'scene.pov' line 7"), std::string::npos) << stopped;
  EXPECT_EQ(probe.end_code, kExitRenderFailed);
  EXPECT_TRUE(fs::exists(job.job_dir / "bands" / band_file_name({0, 3})));
  EXPECT_NE(probe.text_of(MessageKind::kNote).find("run the same command with --resume"),
            std::string::npos);
}

// Given: a run that stopped with the top band in its journal. Expect: the same job with
// --resume re-uses that band (told as re-used, in the report), starts only the rest, and the
// image is whole.
TEST(RenderLoopTest, ResumedJobRendersOnlyTheRest) {
  Job job = fake_job("resume", 5, 9, 3, Policy::kStatic);
  {
    FakeClock clock;
    FakeRunner runner(clock, job.width, 3, [](const Task& task, int) {
      return task.rows.begin == 0
                 ? TaskScript::finish(1)
                 : TaskScript::fail(FailureKind::kSceneError, "Parse Error", "", 2);
    });
    Probe probe;
    ASSERT_EQ(run_job(job, runner, local_layout(3), clock, probe), kExitRenderFailed);
  }
  job.resume = true;
  FakeClock clock;
  FakeRunner runner(clock, job.width, 3, [](const Task&, int) { return TaskScript::finish(1); });
  Probe probe;
  EXPECT_EQ(run_job(job, runner, local_layout(3), clock, probe), kExitOk);
  for (const Task& t : runner.starts()) EXPECT_GE(t.rows.begin, 3) << "rows 1-3 rendered again";
  EXPECT_EQ(probe.report.reused, (std::vector<RowRange>{RowRange{0, 3}}));
  EXPECT_NE(probe.text_of(MessageKind::kResumed).find("resuming: 1 bands"), std::string::npos);
  expect_fake_image(job);
  EXPECT_FALSE(fs::exists(job.job_dir)) << "the journal outlived a finished job";
}

}  // namespace
}  // namespace taskdist
