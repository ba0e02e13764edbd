// The master's and workers' messages: every field survives the trip through JSON.
#include "mpi/protocol.h"

#include <gtest/gtest.h>

namespace taskdist {
namespace {

TEST(ProtocolTest, AWorkerJobRoundTrips) {
  WorkerJob job;
  job.settings.povray = "/usr/bin/povray";
  job.settings.scene = "/home/u/scenes/blob.pov";
  job.settings.scene_dir = "/home/u/scenes";
  job.settings.width = 3200;
  job.settings.height = 2400;
  job.settings.threads = 2;
  job.settings.alpha = true;
  job.settings.options = {"+A0.3", "Declare=X=1"};
  job.settings.antialias_off = true;
  job.settings.compression_level = 3;
  job.scene_rel = "blob.pov";
  job.shipped = true;
  job.povray_given = true;
  job.user_max_image_buffer = true;
  const WorkerJob back = worker_job_from_json(to_json(job));
  EXPECT_EQ(back.settings.povray, job.settings.povray);
  EXPECT_EQ(back.settings.scene, job.settings.scene);
  EXPECT_EQ(back.settings.scene_dir, job.settings.scene_dir);
  EXPECT_EQ(back.settings.width, 3200);
  EXPECT_EQ(back.settings.height, 2400);
  EXPECT_EQ(back.settings.threads, 2);
  EXPECT_TRUE(back.settings.alpha);
  EXPECT_EQ(back.settings.options, job.settings.options);
  EXPECT_TRUE(back.settings.antialias_off);
  EXPECT_EQ(back.settings.compression_level, 3);
  EXPECT_EQ(back.scene_rel, "blob.pov");
  EXPECT_TRUE(back.shipped);
  EXPECT_TRUE(back.povray_given);
  EXPECT_TRUE(back.user_max_image_buffer);
}

TEST(ProtocolTest, TasksAndTheirEndsRoundTrip) {
  const Task task{.id = 42, .slot = 3, .rows = {96, 128}, .attempt = 2, .duplicate_of = 0};
  const Task t = task_from_json(to_json(task));
  EXPECT_EQ(t.id, 42);
  EXPECT_EQ(t.slot, 3);
  EXPECT_EQ(t.rows.begin, 96);
  EXPECT_EQ(t.rows.end, 128);
  EXPECT_EQ(t.attempt, 2);

  TaskFinished f;
  f.id = 42;
  f.bands.resize(2);
  f.bands[0].rows = {96, 128};
  f.bands[0].adler = 0xdeadbeef;
  f.bands[0].raw_bytes = 32 * 961;
  f.bands[0].deflated = "deflated";
  f.bands[1].rows = {128, 160};
  f.bands[1].deflated = " bytes";
  f.timing = {.wall_s = 1.5, .cpu_s = 1.25, .trace_s = 1.0, .trace_cpu_s = 0.9,
              .startup_cpu_s = 0.3, .peak_rss_bytes = 123456};
  const TaskFinished g = finished_from_json(finished_to_json(f), "deflated bytes");
  EXPECT_EQ(g.id, 42);
  ASSERT_EQ(g.bands.size(), 2u);
  EXPECT_EQ(g.bands[0].rows.begin, 96);
  EXPECT_EQ(g.bands[0].adler, 0xdeadbeefu);
  EXPECT_EQ(g.bands[0].raw_bytes, 32u * 961);
  EXPECT_EQ(g.bands[0].deflated, "deflated");
  EXPECT_EQ(g.bands[1].rows, (RowRange{128, 160}));
  EXPECT_EQ(g.bands[1].deflated, " bytes");
  // Progress carries the frames a run has finished, their bytes in the payload.
  TaskProgress progress{7, 0.5, 0.9, {}, 3.25};
  progress.frames.resize(2);
  progress.frames[0].rows = {0, 60};
  progress.frames[0].deflated = "frame one";
  progress.frames[1].rows = {60, 120};
  progress.frames[1].deflated = "frame two";
  const TaskProgress back =
      progress_from_json(progress_to_json(progress), bands_payload(progress.frames));
  EXPECT_EQ(back.id, 7);
  EXPECT_DOUBLE_EQ(back.fraction, 0.5);
  EXPECT_DOUBLE_EQ(back.cpu_s, 3.25);
  ASSERT_EQ(back.frames.size(), 2u);
  EXPECT_EQ(back.frames[1].rows, (RowRange{60, 120}));
  EXPECT_EQ(back.frames[1].deflated, "frame two");
  // A header that claims more bytes than the message holds is refused, not read past.
  EXPECT_THROW(finished_from_json(finished_to_json(f), "deflated"), std::out_of_range);
  EXPECT_DOUBLE_EQ(g.timing.wall_s, 1.5);
  EXPECT_DOUBLE_EQ(g.timing.trace_cpu_s, 0.9);
  EXPECT_DOUBLE_EQ(g.timing.startup_cpu_s, 0.3);
  EXPECT_EQ(g.timing.peak_rss_bytes, 123456u);

  const TaskFailed e = failed_from_json(
      to_json(7, TaskFailure{FailureKind::kSceneError, "parse error", "File 'a.pov' line 3"}));
  EXPECT_EQ(e.id, 7);
  EXPECT_EQ(e.failure.kind, FailureKind::kSceneError);
  EXPECT_EQ(e.failure.message, "parse error");
  EXPECT_EQ(e.failure.detail, "File 'a.pov' line 3");
}

}  // namespace
}  // namespace taskdist
