// POV-Ray's animation options as taskdist reads them (core/animation.h), and how the scheduler
// hands out the stacked frames: pure logic, no povray. The end-to-end comparison with POV-Ray's
// own animation renders is in animation_e2e_test.cpp.
#include "core/animation.h"

#include <gtest/gtest.h>

#include <map>

#include "core/scheduler.h"

namespace taskdist {
namespace {

AnimationOptions given(const std::map<std::string, std::string>& options, bool from_ini = false) {
  AnimationOptions a;
  for (const auto& [key, value] : options) {
    EXPECT_TRUE(a.take(key, value, value != "off", from_ini, "option '" + key + value + "'"));
  }
  return a;
}

Animation resolved(const AnimationOptions& a) {
  auto r = resolve_animation(a);
  EXPECT_TRUE(r) << r.error();
  EXPECT_TRUE(r && r->has_value()) << "an animation";
  return r && *r ? **r : Animation{};
}

TEST(AnimationTest, FramesZeroZeroAndOneOneAreAStill) {
  for (const auto& frames : {std::map<std::string, std::string>{},
                             {{"KFI", "0"}, {"KFF", "0"}},
                             {{"KFI", "1"}, {"KFF", "1"}},
                             {{"KI", "0.5"}, {"KF", "2"}}}) {
    auto r = resolve_animation(given(frames));
    ASSERT_TRUE(r) << r.error();
    EXPECT_FALSE(r->has_value());
  }
}

TEST(AnimationTest, FramesSubsetAndStepAsPovRayRendersThem) {
  // Measured with povray 3.7: +KFI1 +KFF12 +SF2 +EF9 +STP3 renders 2, 5, 8; without the subset
  // the step counts from the initial frame: 1, 4, 7, 10.
  EXPECT_EQ(resolved(given({{"KFI", "1"}, {"KFF", "12"}, {"SF", "2"}, {"EF", "9"}, {"STP", "3"}}))
                .frames,
            (std::vector<int>{2, 5, 8}));
  EXPECT_EQ(resolved(given({{"KFI", "1"}, {"KFF", "12"}, {"STP", "3"}})).frames,
            (std::vector<int>{1, 4, 7, 10}));
  EXPECT_EQ(resolved(given({{"KFF", "3"}})).frames, (std::vector<int>{1, 2, 3}));
}

TEST(AnimationTest, IniFractionsOfTheAnimationAsPovRayReadsThem) {
  // Measured with povray 3.7 (INI Subset_Start_Frame/Subset_End_Frame): frames -> rendered.
  const struct {
    const char *first, *last, *start, *end;
    int from, to;
  } cases[] = {{"1", "20", "0.25", "0.5", 5, 10},  {"5", "14", "0.3", "0.7", 5, 7},
               {"5", "14", "0.05", "0.99", 5, 9},  {"0", "7", "0.5", "0.6", 4, 4},
               {"1", "51", "0.1", "0.13", 5, 6}};
  for (const auto& c : cases) {
    SCOPED_TRACE(fmt::format("{}-{} {}..{}", c.first, c.last, c.start, c.end));
    const Animation a = resolved(given({{"INITIAL_FRAME", c.first}, {"FINAL_FRAME", c.last},
                                        {"SUBSET_START_FRAME", c.start},
                                        {"SUBSET_END_FRAME", c.end}},
                                       /*from_ini=*/true));
    ASSERT_FALSE(a.frames.empty());
    EXPECT_EQ(a.frames.front(), c.from);
    EXPECT_EQ(a.frames.back(), c.to);
  }
}

TEST(AnimationTest, CyclicFractionsCountTheFramePovRayAdds) {
  // Measured with povray 3.7: Cyclic_Animation=on, frames 0-9, subset 0.3-0.99 renders 3-10.
  const Animation a = resolved(given({{"INITIAL_FRAME", "0"}, {"FINAL_FRAME", "9"},
                                      {"CYCLIC_ANIMATION", "on"}, {"SUBSET_START_FRAME", "0.3"},
                                      {"SUBSET_END_FRAME", "0.99"}},
                                     /*from_ini=*/true));
  EXPECT_EQ(a.frames, (std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10}));
  const Animation b = resolved(given({{"FINAL_FRAME", "9"}, {"CYCLIC_ANIMATION", "on"},
                                      {"SUBSET_END_FRAME", "0.5"}},
                                     /*from_ini=*/true));
  EXPECT_EQ(b.frames.back(), 5);
}

TEST(AnimationTest, FileNamesAndClockAsPovRayGivesThem) {
  const Animation a = resolved(given({{"KFI", "1"}, {"KFF", "51"}}));
  EXPECT_EQ(a.frame_file("/x/out.png", 1), "/x/out01.png");
  EXPECT_EQ(a.frame_file("/x/out.png", 51), "/x/out51.png");
  EXPECT_EQ(a.frame_file("/x/out", 7), "/x/out07.png");
  EXPECT_DOUBLE_EQ(a.clock(1), 0);
  EXPECT_DOUBLE_EQ(a.clock(51), 1);
  // +KC adds a frame (../shared/POVRAY_FACTS.md): +KFF99 +KC names frames with three digits,
  // and frame 98 has the clock 0.9798 (97 / 99).
  const Animation c = resolved(given({{"KFF", "99"}, {"KC", ""}}));
  EXPECT_EQ(c.frame_file("c.png", 98), "c098.png");
  EXPECT_NEAR(c.clock(98), 97.0 / 99, 1e-12);
  const Animation k = resolved(given({{"KFI", "0"}, {"KFF", "9"}, {"KC", ""}}));
  EXPECT_EQ(k.frame_file("o", 0), "o00.png");
  EXPECT_EQ(k.povray_options(3, 5),
            (std::vector<std::string>{"+KFI0", "+KFF9", "+KI0", "+KF1", "+KC", "+SF3", "+EF5",
                                      "+STP1"}));
}

TEST(AnimationTest, RefusesWhatPovRayWouldGetWrongNamingTheOption) {
  const struct {
    std::map<std::string, std::string> options;
    const char* says;
  } cases[] = {
      {{{"KFI", "5"}, {"KFF", "3"}}, "reversed"},
      {{{"KFI", "3"}}, "reversed"},
      {{{"KFI", "5"}, {"KFF", "5"}}, "clock 'nan'"},
      {{{"KFI", "-2"}, {"KFF", "2"}}, "from 0"},
      {{{"KFF", "x"}}, "whole number"},
      {{{"KFF", "5"}, {"SF", "7"}}, "outside the animation's frames 1-5"},
      {{{"KFF", "5"}, {"SF", "4"}, {"EF", "2"}}, "subset 4-2 is empty"},
      {{{"KFF", "5"}, {"STP", "0"}}, "at least 1"},
      {{{"KFF", "5"}, {"STP", "-1"}}, "at least 1"},
      {{{"KFF", "5"}, {"KI", "abc"}}, "clock value must be a number"},
      {{{"SF", "2"}}, "needs an animation"},
  };
  for (const auto& c : cases) {
    auto r = resolve_animation(given(c.options));
    ASSERT_FALSE(r) << c.says;
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find("option '"), std::string::npos)
        << "names the option: " << r.error();
  }
}

TEST(AnimationTest, FrameSpanOfATask) {
  const FrameSpan whole = frame_span({120, 360}, 60);
  EXPECT_TRUE(whole.whole_frames);
  EXPECT_EQ(whole.first, 2);
  EXPECT_EQ(whole.count, 4);
  const FrameSpan band = frame_span({130, 160}, 60);
  EXPECT_FALSE(band.whole_frames);
  EXPECT_EQ(band.first, 2);
  EXPECT_EQ(band.rows, (RowRange{10, 40}));
}

// Hands out every task of `c` (finishing each at once, one time unit later) and returns them.
std::vector<Task> hand_out_all(SchedulerConfig c) {
  Scheduler s(c);
  std::vector<Task> all;
  double now = 0;
  while (!s.done()) {
    const std::vector<Task> started = s.dispatch(now);
    if (started.empty()) {
      ADD_FAILURE() << "nothing handed out with rows left";
      break;
    }
    for (const Task& t : started) {
      now += 1;
      s.on_progress(t.id, 1.0, now);
      s.on_finished(t.id, {1.0, 1.0, 0.5}, now);
      all.push_back(t);
    }
  }
  return all;
}

// Every stacked row once; every task whole frames, or rows of one frame starting on the grain
// within it.
void expect_frame_tasks(const std::vector<Task>& tasks, int frames, int height, int grain) {
  std::vector<int> seen(static_cast<size_t>(frames * height), 0);
  for (const Task& t : tasks) {
    for (int r = t.rows.begin; r < t.rows.end; ++r) seen[static_cast<size_t>(r)]++;
    const FrameSpan span = frame_span(t.rows, height);  // CHECKs that it crosses no frame partly
    if (!span.whole_frames) {
      EXPECT_EQ(span.rows.begin % grain, 0) << "band of frame " << span.first << " starts on row "
                                           << span.rows.begin << ", not on the grain";
    }
  }
  for (size_t r = 0; r < seen.size(); ++r) ASSERT_EQ(seen[r], 1) << "stacked row " << r;
}

SchedulerConfig frames_config(int frames, int height, int slots, int grain) {
  SchedulerConfig c;
  c.rows = frames * height;
  c.frame_rows = height;
  c.slots = slots;
  c.grain = grain;
  return c;
}

TEST(AnimationTest, DynamicTasksAreRunsOfFramesThenBandsOfTheLastFrames) {
  for (int slots : {1, 2, 3, 8}) {
    for (int frames : {1, 2, 5, 48}) {
      SCOPED_TRACE(fmt::format("{} slots, {} frames", slots, frames));
      // Antialiasing: bands start on multiples of 32 within their frame.
      SchedulerConfig c = frames_config(frames, 60, slots, 32);
      c.width = 80;
      c.block = 32;
      const std::vector<Task> tasks = hand_out_all(c);
      expect_frame_tasks(tasks, frames, 60, 32);
      if (frames >= 4 * slots) {
        EXPECT_GT(frame_span(tasks.front().rows, 60).count, 1)
            << "many frames left: a task renders several";
      }
      if (slots == 1) {
        for (const Task& t : tasks) EXPECT_TRUE(frame_span(t.rows, 60).whole_frames);
      }
      for (const Task& t : tasks) {
        EXPECT_LE(frame_span(t.rows, 60).count, DynamicSizing{}.max_frames_per_task)
            << "a run of frames is written when it ends: at most 8 frames wait";
      }
    }
  }
}

TEST(AnimationTest, StaticGivesEachSlotAnEqualRunOfFrames) {
  SchedulerConfig c = frames_config(12, 50, 3, 1);
  c.policy = Policy::kStatic;
  const std::vector<Task> tasks = hand_out_all(c);
  ASSERT_EQ(tasks.size(), 3u);
  for (const Task& t : tasks) {
    const FrameSpan span = frame_span(t.rows, 50);
    EXPECT_TRUE(span.whole_frames);
    EXPECT_EQ(span.count, 4);
  }
  // Fewer frames than slots: bands, none across a frame boundary.
  c.rows = 2 * 50;
  expect_frame_tasks(hand_out_all(c), 2, 50, 1);
}

TEST(AnimationTest, CappedSlotsGetRunsOfFramesThenBandsToo) {
  SchedulerConfig c = frames_config(40, 32, 3, 1);
  c.block = 8;
  c.slot_speed = {0.25, 0.25, 0.5};  // below a core: a still would get one wave
  const std::vector<Task> tasks = hand_out_all(c);
  expect_frame_tasks(tasks, 40, 32, 1);
  EXPECT_GT(tasks.size(), 3u) << "batches, not one wave";
  EXPECT_GT(frame_span(tasks.front().rows, 32).count, 1) << "runs of frames first";
  EXPECT_FALSE(frame_span(tasks.back().rows, 32).whole_frames) << "bands at the tail";
}

TEST(AnimationTest, FramesARunHasSentAreNotRenderedAgain) {
  SchedulerConfig c = frames_config(8, 10, 1, 1);
  c.block = 1;
  Scheduler s(c);
  const std::vector<Task> first = s.dispatch(0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].rows, (RowRange{0, 80})) << "one slot: a run of every frame (at most 8)";
  s.on_rows_done(first[0].id, 30);  // its first three frames are written
  EXPECT_EQ(s.rows_done(), 30);
  ASSERT_EQ(s.on_failed(first[0].id, {FailureKind::kCrashed, "killed", ""}, 1),
            FailureAction::kRetried);
  const std::vector<Task> retry = s.dispatch(1);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].rows, (RowRange{30, 80})) << "the retry renders only the frames not sent";
  s.on_finished(retry[0].id, {1, 1, 0.5}, 2);
  EXPECT_EQ(s.rows_done(), 80);
}

TEST(AnimationTest, AnIdleSlotTakesTheBackHalfOfARunNotACopy) {
  Scheduler s(frames_config(8, 10, 2, 1));  // two runs of four frames: nothing left
  const std::vector<Task> first = s.dispatch(0);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(first[0].rows, (RowRange{0, 40}));
  s.on_finished(first[1].id, {1, 1, 0.5}, 1);
  const std::vector<Task> split = s.dispatch(1);
  ASSERT_EQ(split.size(), 1u);
  EXPECT_EQ(split[0].rows, (RowRange{20, 40})) << "the frames the run has not begun, back half";
  EXPECT_EQ(split[0].duplicate_of, 0) << "not a copy: every frame is still rendered once";
  EXPECT_FALSE(s.on_rows_done(first[0].id, 10)) << "the run still holds frame 2";
  const auto ended = s.on_rows_done(first[0].id, 20);
  ASSERT_TRUE(ended) << "the run has sent all it holds now";
  EXPECT_TRUE(ended->empty());
  EXPECT_EQ(s.rows_done(), 60);
  s.on_finished(split[0].id, {1, 1, 0.5}, 2);
  EXPECT_TRUE(s.done());
}

TEST(AnimationTest, AResumedAnimationHandsOutOnlyWhatIsMissing) {
  SchedulerConfig c = frames_config(10, 40, 3, 8);
  c.done = {{0, 120}, {160, 176}, {200, 240}};  // frames 0-2, a band of frame 4, frame 5
  const std::vector<Task> tasks = hand_out_all(c);
  std::vector<int> seen(400, 0);
  for (const Task& t : tasks) {
    for (int r = t.rows.begin; r < t.rows.end; ++r) seen[static_cast<size_t>(r)]++;
    (void)frame_span(t.rows, 40);
  }
  for (int r = 0; r < 400; ++r) {
    const bool done = r < 120 || (r >= 160 && r < 176) || (r >= 200 && r < 240);
    ASSERT_EQ(seen[static_cast<size_t>(r)], done ? 0 : 1) << "stacked row " << r;
  }
}

}  // namespace
}  // namespace taskdist
