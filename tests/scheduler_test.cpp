#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <set>

namespace taskdist {
namespace {

// A fake runner and clock: a discrete-event simulation of slots rendering bands. A band costs a
// fixed start-up, then `row_cost(row)` seconds per row of tracing, then a fixed output phase.
struct Simulation {
  std::function<double(int)> row_cost = [](int) { return 0.01; };
  double startup_s = 0.3;
  double output_s = 0.4;
  std::function<bool(const Task&)> fails = [](const Task&) { return false; };
  FailureKind failure_kind = FailureKind::kRenderError;
  double cpu_share = -1;  // reported with the end of tracing
  std::function<double(int)> slot_speed = [](int) { return 1.0; };  // tracing runs this fast

  struct Event {
    double time;
    int kind;  // 0: tracing done (progress 1.0), 1: finished
    Task task;
    bool operator>(const Event& o) const { return time > o.time; }
  };

  struct Result {
    double makespan = 0;
    bool aborted = false;
    std::vector<Task> finished;
    std::vector<Task> started;
    std::set<TaskId> stopped;  // losing copies of a band
    int max_parallel = 0;
  };

  Result run(Scheduler& scheduler) {
    std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
    Result result;
    double now = 0;
    int running = 0;
    while (true) {
      for (const Task& t : scheduler.dispatch(now)) {
        result.started.push_back(t);
        events.push({now + startup_s + trace_time(t), 0, t});
        ++running;
        result.max_parallel = std::max(result.max_parallel, running);
      }
      if (scheduler.done() || events.empty()) break;
      Event e = events.top();
      events.pop();
      if (result.stopped.contains(e.task.id)) continue;
      now = e.time;
      if (e.kind == 0) {
        scheduler.on_progress(e.task.id, 1.0, now, cpu_share);
        events.push({now + output_s, 1, e.task});
        continue;
      }
      --running;
      if (fails(e.task)) {
        if (scheduler.on_failed(e.task.id, {failure_kind, "injected", ""}, now) ==
            FailureAction::kAbortJob) {
          result.aborted = true;
          break;
        }
        continue;
      }
      const double trace = trace_time(e.task);
      for (TaskId loser : scheduler.on_finished(e.task.id, {startup_s + trace + output_s, 0, trace}, now)) {
        result.stopped.insert(loser);
        --running;
      }
      result.finished.push_back(e.task);
    }
    result.makespan = now;
    return result;
  }

  double trace_time(const Task& t) const {
    double trace = 0;
    for (int r = t.rows.begin; r < t.rows.end; ++r) trace += row_cost(r);
    return trace / slot_speed(t.slot);
  }
};

SchedulerConfig config(int rows, int slots, Policy policy) {
  SchedulerConfig c;
  c.rows = rows;
  c.width = 640;
  c.slots = slots;
  c.policy = policy;
  return c;
}

void expect_each_row_once(const std::vector<Task>& finished, int rows) {
  std::vector<int> seen(static_cast<size_t>(rows), 0);
  for (const Task& t : finished) {
    for (int r = t.rows.begin; r < t.rows.end; ++r) seen[static_cast<size_t>(r)]++;
  }
  for (int r = 0; r < rows; ++r) ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << "row " << r;
}

TEST(SchedulerTest, DynamicCoversEveryRowExactlyOnce) {
  for (int slots : {1, 2, 3, 7}) {
    Scheduler s(config(768, slots, Policy::kDynamic));
    auto result = Simulation{}.run(s);
    EXPECT_TRUE(s.done());
    expect_each_row_once(result.finished, 768);
    for (const Task& t : result.finished) {
      EXPECT_EQ(t.rows.begin % 32, 0) << "band boundaries fall on render blocks";
    }
  }
}

TEST(SchedulerTest, StaticGivesEachSlotOneEqualBand) {
  Scheduler s(config(480, 3, Policy::kStatic));
  auto result = Simulation{}.run(s);
  ASSERT_EQ(result.finished.size(), 3u);
  expect_each_row_once(result.finished, 480);
  for (const Task& t : result.finished) EXPECT_EQ(t.rows.count(), 160);
}

TEST(SchedulerTest, OneSlotRendersOneBand) {
  Scheduler s(config(2400, 1, Policy::kDynamic));
  auto result = Simulation{}.run(s);
  ASSERT_EQ(result.finished.size(), 1u);
  EXPECT_EQ(result.finished[0].rows, (RowRange{0, 2400}));
}

TEST(SchedulerTest, RetriesAFailedBand) {
  // Given: the first attempt at the band holding row 0 fails.
  // Expect: the job completes, with that band's second attempt.
  Simulation sim;
  sim.fails = [](const Task& t) { return t.rows.begin == 0 && t.attempt == 1; };
  Scheduler s(config(480, 2, Policy::kDynamic));
  auto result = sim.run(s);
  EXPECT_FALSE(result.aborted);
  expect_each_row_once(result.finished, 480);
  bool retried = false;
  for (const Task& t : result.finished) retried |= t.rows.begin == 0 && t.attempt == 2;
  EXPECT_TRUE(retried);
}

TEST(SchedulerTest, RetriesTaskOnAnotherNodeAfterFailure) {
  // Given: two nodes of two slots; every band fails on node 1.
  // Expect: each failed band is retried on node 0 and the job completes; node 1 is excluded
  // after three failures in a row.
  SchedulerConfig c = config(960, 4, Policy::kDynamic);
  c.slot_nodes = {0, 0, 1, 1};
  Simulation sim;
  sim.fails = [](const Task& t) { return t.slot >= 2; };
  Scheduler s(c);
  auto result = sim.run(s);
  EXPECT_FALSE(result.aborted);
  expect_each_row_once(result.finished, 960);
  for (const Task& t : result.finished) EXPECT_LT(t.slot, 2) << "finished on the failing node";
  for (const Task& t : result.finished) EXPECT_LE(t.attempt, 2) << "retried on the same node";
  EXPECT_TRUE(s.node_excluded(1));
  EXPECT_FALSE(s.node_excluded(0));
}

TEST(SchedulerTest, StopsOnceEveryNodeIsExcluded) {
  // Given: two nodes whose every band fails (not a scene error).
  // Expect: each node is excluded after three failures in a row, and the job stops.
  SchedulerConfig c = config(960, 2, Policy::kDynamic);
  c.slot_nodes = {5, 6};
  c.max_attempts = 100;
  Simulation sim;
  sim.fails = [](const Task&) { return true; };
  Scheduler s(c);
  auto result = sim.run(s);
  EXPECT_TRUE(result.aborted);
  EXPECT_TRUE(s.node_excluded(5));
  EXPECT_TRUE(s.node_excluded(6));
  EXPECT_TRUE(s.all_excluded());
  // 3 failures on each node, and at most the band each slot had prestarted meanwhile.
  EXPECT_GE(result.started.size(), 6u);
  EXPECT_LE(result.started.size(), 8u);
}

TEST(SchedulerTest, ASuccessResetsTheCountOfFailuresInARow) {
  // Given: one node that fails every other band. Expect: it is never excluded.
  SchedulerConfig c = config(960, 1, Policy::kDynamic);
  c.slot_nodes = {5};
  c.sizing.first_wave_share = 0.1;
  Simulation sim;
  int n = 0;
  sim.fails = [&](const Task&) { return n++ % 2 == 0; };
  Scheduler s(c);
  auto result = sim.run(s);
  EXPECT_FALSE(result.aborted);
  EXPECT_FALSE(s.node_excluded(5));
  expect_each_row_once(result.finished, 960);
}

TEST(SchedulerTest, ResumedJobRendersOnlyTheRowsNotDone) {
  // Given: rows 0-99 and 300-499 already done (a journal). Expect: every other row exactly
  // once, none of the done ones, under both policies.
  for (Policy policy : {Policy::kDynamic, Policy::kStatic}) {
    SchedulerConfig c = config(768, 3, policy);
    c.done = {{0, 100}, {300, 500}};
    Scheduler s(c);
    EXPECT_EQ(s.rows_done(), 300);
    auto result = Simulation{}.run(s);
    EXPECT_TRUE(s.done());
    std::vector<Task> all = result.finished;
    all.push_back({0, 0, {0, 100}});
    all.push_back({0, 0, {300, 500}});
    expect_each_row_once(all, 768);
  }
  // Everything done: nothing to hand out.
  SchedulerConfig c = config(480, 2, Policy::kDynamic);
  c.done = {{0, 480}};
  Scheduler s(c);
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.dispatch(0).empty());
}

TEST(SchedulerTest, AnIdleSlotCopiesAStragglerAndTheFirstCopyWins) {
  // Given: 2 slots, slot 1 tracing 20x slower than slot 0 (a sick node) and one band each.
  // Expect: once slot 0 is idle and nothing is left, it renders a copy of slot 1's band, which
  // finishes first; the original is stopped; every row is done once and the job ends far sooner.
  SchedulerConfig c = config(960, 2, Policy::kDynamic);
  c.slot_speed = {0.5, 0.5};  // capped: one wave, one band per slot
  Simulation sim;
  sim.slot_speed = [](int slot) { return slot == 1 ? 0.05 : 1.0; };
  Scheduler s(c);
  auto result = sim.run(s);
  expect_each_row_once(result.finished, 960);
  ASSERT_EQ(result.stopped.size(), 1u);
  bool copy_won = false;
  for (const Task& t : result.finished) copy_won |= t.duplicate_of != 0 && t.slot == 0;
  EXPECT_TRUE(copy_won);
  EXPECT_LT(result.makespan, 0.5 * (0.3 + 480 * 0.01 / 0.05));

  // The static policy (the paper's) never copies.
  SchedulerConfig st = config(960, 2, Policy::kStatic);
  Scheduler s2(st);
  auto r2 = sim.run(s2);
  EXPECT_TRUE(r2.stopped.empty());
  EXPECT_EQ(r2.started.size(), 2u);
}

TEST(SchedulerTest, CopiesTheLongestRunningBandsOnePerIdleSlot) {
  // Given: 4 slots on 2 nodes, one wave of 4 bands; slots 0 and 1 (node 0) finish at t=1, while
  // slot 2's band (started first) and slot 3's still run; nothing is left.
  SchedulerConfig c = config(960, 4, Policy::kDynamic);
  c.slot_speed = {0.5, 0.5, 0.5, 0.5};
  c.slot_nodes = {0, 0, 1, 1};
  Scheduler s(c);
  auto wave = s.dispatch(0);
  ASSERT_EQ(wave.size(), 4u);
  s.on_finished(wave[0].id, {1, 0, 1}, 1.0);
  s.on_finished(wave[1].id, {1, 0, 1}, 1.0);
  EXPECT_TRUE(s.dispatch(1.5).empty()) << "not before a band has run 2 s";
  s.on_progress(wave[3].id, 1.0, 2.5);  // slot 3's band is writing its output: not worth a copy
  auto copies = s.dispatch(3.0);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].duplicate_of, wave[2].id);
  EXPECT_EQ(copies[0].rows, wave[2].rows);
  EXPECT_EQ(s.node_of(copies[0].slot), 0) << "a copy goes to another node";
  EXPECT_TRUE(s.dispatch(3.5).empty()) << "one copy per band";
}

TEST(SchedulerTest, NoCopyOfABandThatWillEndBeforeACopyCouldWriteItsOutput) {
  // Given: blob 1600x1200 on two slots of 0.25 CPU with the quick start (start-up 0.06 s); slot
  // 0 has finished, slot 1's band (rows 608-1199: the grain is 32) reported 90% done at t=4.5
  // and nothing since. A copy on slot 0 needs at least 0.06 s + (0.06 s process + 13 ns x 1.92
  // Mpx buffer + 120 ns x 1600 x 592 rows of output = 0.199 CPU-s) / 0.25 = 0.85 s. At the pace
  // it kept, the band has t/9 left: 0.78 s at t=7 (no copy: it cannot win), 0.89 s at t=8 (a
  // copy: it may).
  SchedulerConfig c = config(1200, 2, Policy::kDynamic);
  c.width = 1600;
  c.slot_speed = {0.25, 0.25};
  c.band_startup_s = kQuickStartupWallS;
  Scheduler s(c);
  auto wave = s.dispatch(0);
  ASSERT_EQ(wave.size(), 2u);
  ASSERT_EQ(wave[1].rows.begin, 608);
  ASSERT_EQ(wave[1].rows.end, 1200);
  s.on_finished(wave[0].id, {4, 0, 4}, 4.0);
  s.on_progress(wave[1].id, 0.9, 4.5);
  EXPECT_TRUE(s.dispatch(5.0).empty());
  EXPECT_TRUE(s.dispatch(7.0).empty()) << "0.78 s left: a copy cannot win";
  auto copies = s.dispatch(8.0);
  ASSERT_EQ(copies.size(), 1u) << "0.89 s left and no progress since t=4.5: worth a copy";
  EXPECT_EQ(copies[0].duplicate_of, wave[1].id);
}

TEST(SchedulerTest, AFailedCopyLeavesTheOtherRunning) {
  // Given: a straggler copied onto slot 0, and the copy fails.
  // Expect: nothing is retried (the original goes on) and the original's result counts.
  SchedulerConfig c = config(960, 2, Policy::kDynamic);
  c.slot_speed = {0.5, 0.5};
  Scheduler s(c);
  auto first = s.dispatch(0);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(s.on_finished(first[0].id, {1, 0, 1}, 1.0).empty());
  EXPECT_TRUE(s.dispatch(1.0).empty()) << "too early to copy";
  auto copies = s.dispatch(3.0);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].duplicate_of, first[1].id);
  EXPECT_EQ(copies[0].rows, first[1].rows);
  EXPECT_EQ(s.on_failed(copies[0].id, {FailureKind::kCrashed, "killed", ""}, 4.0),
            FailureAction::kDuplicateGoesOn);
  EXPECT_TRUE(s.dispatch(4.0).empty()) << "no second copy on the node where one failed";
  EXPECT_TRUE(s.on_finished(first[1].id, {5, 0, 5}, 5.0).empty());
  EXPECT_TRUE(s.done());
}

TEST(SchedulerTest, ALostNodesBandsGoToTheOtherNodeWithoutCountingAsFailures) {
  // Given: two nodes of one slot each (static: one band each); node 7 is lost while its band runs.
  // Expect: node 7 gets nothing more; its band is handed to node 3 on the same attempt, and the
  // job completes with every row once.
  SchedulerConfig c = config(480, 2, Policy::kStatic);
  c.slot_nodes = {3, 7};
  c.max_attempts = 1;  // a lost node's band is not a failed try
  Scheduler s(c);
  auto first = s.dispatch(0);
  ASSERT_EQ(first.size(), 2u);
  const std::vector<TaskId> lost = s.on_node_lost(7);
  ASSERT_EQ(lost, std::vector<TaskId>{first[1].id});
  EXPECT_TRUE(s.node_excluded(7));
  EXPECT_FALSE(s.all_excluded());
  EXPECT_TRUE(s.dispatch(1.0).empty()) << "node 3's slot is busy";
  EXPECT_TRUE(s.on_finished(first[0].id, {1, 0, 1}, 2.0).empty());
  auto again = s.dispatch(2.0);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].slot, 0);
  EXPECT_EQ(again[0].rows, first[1].rows);
  EXPECT_EQ(again[0].attempt, first[1].attempt);
  EXPECT_TRUE(s.on_finished(again[0].id, {1, 0, 1}, 3.0).empty());
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.rows_done(), 480);
}

TEST(SchedulerTest, ALostNodesCopyOfAStragglerIsNotHandedOutAgain) {
  // Given: a straggler on node 1 copied onto node 0, then node 0 is lost.
  // Expect: only the copy is dropped: the original goes on and nothing is queued; once node 1
  // is lost too, no node is left.
  SchedulerConfig c = config(960, 2, Policy::kDynamic);
  c.slot_nodes = {0, 1};
  c.slot_speed = {0.5, 0.5};
  Scheduler s(c);
  auto first = s.dispatch(0);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(s.on_finished(first[0].id, {1, 0, 1}, 1.0).empty());
  auto copies = s.dispatch(3.0);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(s.on_node_lost(0), std::vector<TaskId>{copies[0].id});
  EXPECT_TRUE(s.dispatch(4.0).empty());
  EXPECT_EQ(s.in_flight(), 1);
  EXPECT_EQ(s.on_node_lost(1), std::vector<TaskId>{first[1].id});
  EXPECT_TRUE(s.all_excluded());
  EXPECT_TRUE(s.dispatch(5.0).empty());
}

TEST(SchedulerTest, ABandAndItsCopyOnALostNodeAreHandedOutOnce) {
  // Given: node 1 has two slots; its straggler is copied onto its own idle slot (node 0's slot
  // is busy writing its band's output), then node 1 is lost with both.
  // Expect: the band is queued once, and the job completes with every row once.
  SchedulerConfig c = config(960, 3, Policy::kDynamic);
  c.slot_nodes = {0, 1, 1};
  c.slot_speed = {0.5, 0.5, 0.5};
  Scheduler s(c);
  auto first = s.dispatch(0);
  ASSERT_EQ(first.size(), 3u);
  s.on_progress(first[0].id, 1.0, 1.0);  // node 0's band is writing its output: no candidate
  EXPECT_TRUE(s.on_finished(first[2].id, {1, 0, 1}, 1.0).empty());
  auto copies = s.dispatch(3.0);
  ASSERT_EQ(copies.size(), 1u);
  ASSERT_EQ(copies[0].slot, 2);
  const TaskId straggler = copies[0].duplicate_of;
  ASSERT_EQ(s.node_of(first[1].slot), 1);
  ASSERT_EQ(straggler, first[1].id) << "the copy is of node 1's own band";
  auto lost = s.on_node_lost(1);
  std::ranges::sort(lost);
  EXPECT_EQ(lost, (std::vector<TaskId>{first[1].id, copies[0].id}));
  EXPECT_TRUE(s.on_finished(first[0].id, {1, 0, 1}, 4.0).empty());
  auto again = s.dispatch(4.0);
  ASSERT_EQ(again.size(), 1u) << "the band once, not twice";
  EXPECT_EQ(again[0].rows, first[1].rows);
  EXPECT_EQ(again[0].slot, 0);
  EXPECT_TRUE(s.on_finished(again[0].id, {1, 0, 1}, 5.0).empty());
  EXPECT_TRUE(s.dispatch(5.0).empty());
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.rows_done(), 960);
}

TEST(SchedulerTest, PrestartsOnlyWhereTheBandHadACoreToItself) {
  // Given: bands that got a whole core while tracing. Expect: slots overlap the next band's
  // start-up with the current band's output (more bands in flight than slots).
  Simulation full;
  full.cpu_share = 1.0;
  Scheduler a(config(2400, 2, Policy::kDynamic));
  EXPECT_GT(full.run(a).max_parallel, 2);
  // Given: a capped node (a third of a core). Expect: never two bands at once on a slot.
  Simulation capped;
  capped.cpu_share = 0.3;
  Scheduler b(config(2400, 2, Policy::kDynamic));
  auto result = capped.run(b);
  EXPECT_LE(result.max_parallel, 2);
  expect_each_row_once(result.finished, 2400);
}

TEST(SchedulerTest, CappedSlotsGetOneWaveSizedToTheirSpeed) {
  // Given: slots that get a quarter of a core, one of them an eighth (an emulated cluster).
  // Expect: one band per slot covering the image (every extra band would cost a whole start-up
  // and output there), the slow slot's band half the size of the others'.
  SchedulerConfig c = config(1200, 4, Policy::kDynamic);
  c.slot_speed = {0.25, 0.25, 0.125, 0.25};
  Scheduler s(c);
  auto result = Simulation{}.run(s);
  ASSERT_EQ(result.finished.size(), 4u);
  expect_each_row_once(result.finished, 1200);
  for (const Task& t : result.finished) {
    if (t.slot == 2) EXPECT_NEAR(t.rows.count(), 1200 / 3.5 / 2, 32);
    else EXPECT_NEAR(t.rows.count(), 1200 / 3.5, 32);
  }
  // Whole cores: the usual dynamic batches.
  c.slot_speed = {1, 1, 1, 1};
  Scheduler d(c);
  EXPECT_GT(Simulation{}.run(d).finished.size(), 4u);
}

TEST(SchedulerTest, CappedSlotsWithRowCostsGetBandsThatFinishTogether) {
  // Given: 4 capped slots and a scene whose middle half costs 4x its edges, known from a cost
  // profile (row_costs), the simulation's rows costing just that.
  // Expect: one band per slot, cut by cost: the job ends at least 25% sooner than with bands
  // cut by rows, and no slot idles more than a tenth of the job.
  auto cost = [](int row) { return row >= 300 && row < 900 ? 0.004 : 0.001; };
  Simulation sim;
  sim.row_cost = cost;
  sim.startup_s = 0.1;
  sim.output_s = 0.1;
  SchedulerConfig c = config(1200, 4, Policy::kDynamic);
  c.slot_speed = {0.25, 0.25, 0.25, 0.25};
  Scheduler by_rows(c);
  const double rows_time = sim.run(by_rows).makespan;
  for (int r = 0; r < 1200; ++r) c.row_costs.push_back(cost(r));
  Scheduler by_cost(c);
  auto result = sim.run(by_cost);
  ASSERT_EQ(result.finished.size(), 4u);
  expect_each_row_once(result.finished, 1200);
  EXPECT_LE(result.makespan, 0.75 * rows_time)
      << "by cost " << result.makespan << " s, by rows " << rows_time << " s";
  for (const Task& t : result.finished) {
    EXPECT_GE(sim.startup_s + sim.trace_time(t) + sim.output_s, 0.9 * result.makespan)
        << "band " << t.rows.begin << "-" << t.rows.end;
  }
}

TEST(SchedulerTest, RowCostsShortenDynamicBandsOverCostlyRows) {
  // Given: whole cores (dynamic batches) and a skewed scene whose costs are known.
  // Expect: every row once, and no worse than without the costs (usually better).
  auto cost = [](int row) { return row >= 1920 ? 0.05 : 0.0005; };
  Simulation sim;
  sim.row_cost = cost;
  sim.startup_s = 0.5;
  sim.output_s = 0.6;
  SchedulerConfig c = config(2400, 2, Policy::kDynamic);
  Scheduler blind(c);
  const double blind_time = sim.run(blind).makespan;
  for (int r = 0; r < 2400; ++r) c.row_costs.push_back(cost(r));
  Scheduler knowing(c);
  auto result = sim.run(knowing);
  expect_each_row_once(result.finished, 2400);
  for (const Task& t : result.finished) EXPECT_EQ(t.rows.begin % 32, 0);
  EXPECT_LE(result.makespan, blind_time * 1.001)
      << "with costs " << result.makespan << " s, without " << blind_time << " s";
  // The first wave's bands hold equal cost: the one over the costly rows is the shorter.
  ASSERT_GE(result.started.size(), 2u);
  EXPECT_GT(result.started[0].rows.count(), result.started[1].rows.count());

  // With a grain of 1 (antialiasing off) the same job: bands start anywhere, each row once,
  // none below a block's 32 rows, and no slower.
  c.grain = 1;
  Scheduler fine(c);
  auto fine_result = sim.run(fine);
  expect_each_row_once(fine_result.finished, 2400);
  bool between_blocks = false;
  for (const Task& t : fine_result.finished) {
    EXPECT_GE(t.rows.count(), 32);
    between_blocks = between_blocks || t.rows.begin % 32 != 0;
  }
  EXPECT_TRUE(between_blocks);
  EXPECT_LE(fine_result.makespan, result.makespan * 1.001);
}

TEST(SchedulerTest, GivesUpAfterMaxAttempts) {
  Simulation sim;
  sim.fails = [](const Task& t) { return t.rows.begin == 0; };
  Scheduler s(config(480, 2, Policy::kDynamic));
  auto result = sim.run(s);
  EXPECT_TRUE(result.aborted);
  EXPECT_FALSE(s.done());
}

TEST(SchedulerTest, SceneErrorAbortsAtOnce) {
  Simulation sim;
  sim.fails = [](const Task&) { return true; };
  sim.failure_kind = FailureKind::kSceneError;
  Scheduler s(config(480, 3, Policy::kDynamic));
  auto result = sim.run(s);
  EXPECT_TRUE(result.aborted);
  EXPECT_TRUE(result.finished.empty());
}

TEST(SchedulerTest, PrestartsTheNextBandWhileTheLastOneWritesItsOutput) {
  // Given: tracing done on slot 0's band, but its output phase is still running.
  // Expect: slot 0 gets its next band now under the dynamic policy, never under the static one.
  Scheduler s(config(2400, 2, Policy::kDynamic));
  auto first = s.dispatch(0);
  ASSERT_EQ(first.size(), 2u);
  s.on_progress(first[0].id, 0.5, 1.0);
  EXPECT_TRUE(s.dispatch(1.5).empty());
  s.on_progress(first[0].id, 1.0, 2.0);
  auto next = s.dispatch(2.0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].slot, first[0].slot);

  Scheduler st(config(2400, 2, Policy::kStatic));
  auto bands = st.dispatch(0);
  st.on_progress(bands[0].id, 1.0, 2.0);
  EXPECT_TRUE(st.dispatch(2.0).empty());
}

TEST(SchedulerTest, DynamicBalancesASkewedScene) {
  // Given: 2400 rows whose cost sits in the bottom fifth; 2 slots.
  // Expect: dynamic finishes in at most 0.8x the static split's time.
  Simulation sim;
  sim.row_cost = [](int row) { return row >= 1920 ? 0.05 : 0.0005; };
  sim.startup_s = 0.5;
  sim.output_s = 0.6;
  Scheduler st(config(2400, 2, Policy::kStatic));
  const double static_time = sim.run(st).makespan;
  Scheduler dy(config(2400, 2, Policy::kDynamic));
  auto result = sim.run(dy);
  expect_each_row_once(result.finished, 2400);
  EXPECT_LE(result.makespan, 0.8 * static_time)
      << "dynamic " << result.makespan << " s, static " << static_time << " s";
}

TEST(SchedulerTest, ThousandSlotsScheduleInMilliseconds) {
  Scheduler s(config(65536, 1000, Policy::kDynamic));
  auto result = Simulation{}.run(s);
  EXPECT_TRUE(s.done());
  expect_each_row_once(result.finished, 65536);
  EXPECT_LE(result.max_parallel, 2000);
}

}  // namespace
}  // namespace taskdist
