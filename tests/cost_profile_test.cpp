#include "core/cost_profile.h"
#include "store/profile_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdlib.h>

#include <fstream>
#include <numeric>

#include "engine/cost_learning.h"
#include "core/planner.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using testing::fresh_dir;

double sum(const std::vector<double>& v, int begin, int end) {
  return std::accumulate(v.begin() + begin, v.begin() + end, 0.0);
}

TEST(CostProfileTest, PredictsEachRowFromTheBandThatCoveredIt) {
  // Given: two bands, the top half at 1 us a pixel, the bottom half at 3 us.
  // Expect: rows of a 100x40 image cost 100 us and 300 us, at any size of the same shape.
  CostProfile p;
  EXPECT_TRUE(p.row_costs(100, 40).empty());
  p.add_run({{0, 0.5, 1e-6}, {0.5, 1, 3e-6}});
  const auto costs = p.row_costs(100, 40);
  ASSERT_EQ(costs.size(), 40u);
  EXPECT_NEAR(costs[0], 100e-6, 1e-12);
  EXPECT_NEAR(costs[19], 100e-6, 1e-12);
  EXPECT_NEAR(costs[20], 300e-6, 1e-12);
  EXPECT_NEAR(costs[39], 300e-6, 1e-12);
  const auto big = p.row_costs(400, 160);
  EXPECT_NEAR(sum(big, 0, 160), 16 * sum(costs, 0, 40), 1e-9) << "cost scales with pixels";
}

TEST(CostProfileTest, BandsOfTwoRunsCutElsewhereResolveWhatNeitherRunDoes) {
  // Given: a scene costing 1 us a pixel, but 3 us in the third quarter of its height; one run
  // cut at half the height (1 and 2 us), another at three quarters (1.667 and 1 us).
  // Expect: the third quarter comes out near 3 us and the rest near 1 us.
  CostProfile p;
  p.add_run({{0, 0.5, 1e-6}, {0.5, 1, 2e-6}});
  p.add_run({{0, 0.75, 1.25e-6 / 0.75}, {0.75, 1, 1e-6}});
  const auto costs = p.row_costs(1, 100);
  EXPECT_NEAR(costs[60], 3e-6, 0.3e-6);
  EXPECT_NEAR(costs[90], 1e-6, 0.2e-6);
  EXPECT_NEAR(costs[10], 1e-6, 0.2e-6);
  EXPECT_NEAR(sum(costs, 0, 100), 1.5e-6 * 100, 0.05e-6 * 100) << "the total agrees";
}

TEST(CostProfileTest, WhereRunsDisagreeTheNewestWins) {
  // Given: the same band measured at 1 us, then (the scene edited) at 4 us.
  CostProfile p;
  p.add_run({{0, 1, 1e-6}});
  p.add_run({{0, 1, 4e-6}});
  EXPECT_NEAR(p.row_costs(1, 10)[5], 4e-6, 0.5e-6);
}

TEST(CostProfileTest, NoRowIsPredictedFree) {
  // Given: bands whose CPU, less their predicted overhead, came out as 0 over most rows.
  // Expect: every row still costs something (else one band would take a whole free stretch).
  CostProfile p;
  p.add_run({{0, 0.8, 0}, {0.8, 1, 5e-6}});
  for (double c : p.row_costs(10, 100)) EXPECT_GT(c, 0);
}

TEST(CostProfileTest, KeepsTheLastRunsOnlyAndDropsNonsense) {
  CostProfile p;
  for (int i = 0; i < CostProfile::kRunsKept + 3; ++i) p.add_run({{0, 1, 1e-6 * (i + 1)}});
  EXPECT_EQ(p.runs(), CostProfile::kRunsKept);
  p.add_run({{0.5, 0.2, 1e-6}, {0, 1, -1}, {-0.1, 0.5, 1e-6}});  // all invalid
  EXPECT_EQ(p.runs(), CostProfile::kRunsKept);
}

TEST(CostProfileTest, RunsAtTheImagesOwnSizeDecideItsCosts) {
  // Given: a run at 800x600 with equal rows, then more, newer runs at 200x150 whose top half
  // came out dearer (what noise and the overhead model do to short bands).
  CostProfile p;
  p.add_run({{0, 0.5, 1e-6}, {0.5, 1, 1e-6}}, 800, 600);
  for (int i = 0; i < CostProfile::kRunsKept; ++i) {
    p.add_run({{0, 0.5, 3e-6}, {0.5, 1, 1e-6}}, 200, 150);
  }
  // Expect: 800x600 is planned from its own run, 200x150 from its own, and a size never
  // rendered from the newest runs of any size.
  const auto own = p.row_costs(800, 600);
  EXPECT_NEAR(own[100] / own[500], 1.0, 0.05);
  EXPECT_EQ(p.runs(800, 600), 1);
  EXPECT_EQ(p.runs_at(800, 600), 1);
  EXPECT_EQ(p.runs_at(200, 150), CostProfile::kRunsKept);
  EXPECT_EQ(p.runs_at(1600, 1200), 0) << "runs() counts the runs of other sizes it falls back on";
  EXPECT_EQ(p.runs(1600, 1200), CostProfile::kRunsKept);
  EXPECT_EQ(p.samples(800, 600), 2);
  const auto small = p.row_costs(200, 150);
  EXPECT_NEAR(small[20] / small[120], 3.0, 0.15);
  const auto other = p.row_costs(1600, 1200);
  EXPECT_NEAR(other[200] / other[1000], 3.0, 0.15);
  EXPECT_EQ(p.runs(1600, 1200), CostProfile::kRunsKept);
}

TEST(CostProfileTest, AStudysSweepOfSizesKeepsEachSizesOwnRuns) {
  // Given: 3 rounds of a study of 4 sizes, 2 runs of each size a round (24 runs in all).
  CostProfile p;
  const int sizes[][2] = {{200, 150}, {800, 600}, {1600, 1200}, {3200, 2400}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& size : sizes) {
      for (int policy = 0; policy < 2; ++policy) p.add_run({{0, 1, 1e-6}}, size[0], size[1]);
    }
  }
  // Expect: each size still has its 6 runs (with one run kept in all, as before, 1600x1200 would
  // have been planned from 200x150's and 800x600's runs of the same round).
  for (const auto& size : sizes) EXPECT_EQ(p.runs(size[0], size[1]), 6);
  EXPECT_EQ(p.runs(), CostProfile::kRunsKeptInAll);
  p.add_run({{0, 1, 1e-6}}, 640, 480);
  EXPECT_EQ(p.runs(), CostProfile::kRunsKeptInAll) << "the oldest run of all made room";
  EXPECT_EQ(p.runs(200, 150), 5);
}

TEST(CostProfileTest, ReadsAVersionOneProfileAsRunsOfNoKnownSize) {
  const nlohmann::json v1 = {{"taskdist_profile", 1},
                             {"runs", {{{0, 0.5, 1e-6}, {0.5, 1, 2e-6}}, {{0, 1, 3e-6}}}}};
  auto p = CostProfile::from_json(v1);
  ASSERT_TRUE(p.has_value()) << p.error();
  EXPECT_EQ(p->runs(), 2);
  EXPECT_EQ(p->runs(640, 480), 2) << "used for every size";
  EXPECT_EQ(p->to_json().at("taskdist_profile"), 2);
}

TEST(CostProfileTest, RoundTripsThroughJsonAndRefusesOtherFiles) {
  CostProfile p;
  p.add_run({{0, 0.25, 1e-6}, {0.25, 1, 2e-6}}, 10, 10);
  p.add_run({{0, 1, 3e-6}}, 20, 20);
  auto back = CostProfile::from_json(p.to_json());
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->runs(), 2);
  EXPECT_EQ(back->runs(10, 10), 1);
  EXPECT_EQ(back->row_costs(10, 10), p.row_costs(10, 10));
  EXPECT_EQ(back->row_costs(20, 20), p.row_costs(20, 20));
  EXPECT_FALSE(CostProfile::from_json(nlohmann::json{{"taskdist_profile", 99}}).has_value());
  EXPECT_FALSE(CostProfile::from_json(nlohmann::json{{"taskdist_profile", "1"}}).has_value());
  EXPECT_FALSE(CostProfile::from_json(nlohmann::json::array()).has_value());
  EXPECT_FALSE(
      CostProfile::from_json(nlohmann::json{{"taskdist_profile", 1}, {"runs", {{{"x"}}}}})
          .has_value());
}

TEST(CostSamplesTest, ABandCountsItsCpuLessItsStartUpAndOutput) {
  // Given: a finished run of a 100x200 image: a band with its CPU known (and the CPU before its
  // first progress report, which is not used: it may hold most of the tracing), a band whose CPU
  // is unknown (POV-Ray's own trace figure then), and a losing copy.
  RunReport r;
  TaskRecord a;
  a.rows = {0, 100};
  a.outcome = "ok";
  a.timing.cpu_s = 1.0;
  a.timing.startup_cpu_s = 0.2;
  TaskRecord b;
  b.rows = {100, 200};
  b.outcome = "ok";
  b.timing.trace_cpu_s = 0.5;
  TaskRecord lost = a;
  lost.outcome = "stopped: the copy on node2 finished first";
  r.tasks = {a, b, lost};
  const auto samples = cost_samples(r, 100, 200);
  ASSERT_EQ(samples.size(), 2u);
  const double before = BandOverhead{}.cpu_s({0, 100}, 100, 200);
  EXPECT_DOUBLE_EQ(samples[0].cpu_per_pixel, (1.0 - before) / 10000);
  EXPECT_DOUBLE_EQ(samples[0].begin, 0);
  EXPECT_DOUBLE_EQ(samples[0].end, 0.5);
  EXPECT_DOUBLE_EQ(samples[1].cpu_per_pixel, 0.5 / 10000);
}

TEST(CostSamplesTest, BandsTooCheapToMeasureAreJoinedWithTheBandsBelowThem) {
  // Given: a 100x400 image in four bands of 100 rows (out of order in the report), tracing
  // 0.03, 0.03, 0.2 and 0.01 CPU-s.
  // Expect: the first two as one sample (0.06 CPU-s over 200 rows), the third alone, the last
  // left out (too little, and nothing below it).
  RunReport r;
  const double trace[] = {0.03, 0.03, 0.2, 0.01};
  for (int i : {2, 0, 3, 1}) {
    TaskRecord t;
    t.rows = {100 * i, 100 * (i + 1)};
    t.outcome = "ok";
    t.timing.cpu_s = BandOverhead{}.cpu_s(t.rows, 100, 400) + trace[i];
    r.tasks.push_back(t);
  }
  const auto samples = cost_samples(r, 100, 400);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_DOUBLE_EQ(samples[0].begin, 0);
  EXPECT_DOUBLE_EQ(samples[0].end, 0.5);
  EXPECT_NEAR(samples[0].cpu_per_pixel, 0.06 / 20000, 1e-12);
  EXPECT_DOUBLE_EQ(samples[1].begin, 0.5);
  EXPECT_DOUBLE_EQ(samples[1].end, 0.75);
  EXPECT_NEAR(samples[1].cpu_per_pixel, 0.2 / 10000, 1e-12);
}

// blob.pov's shape at any size: trace CPU seconds per pixel over the height (cheap sky above,
// the costly blob in the middle, a cheaper floor), about 0.8 CPU-s at 800x600.
double blob_density(double y) {
  if (y < 0.3) return 1.0e-6;
  if (y < 0.75) return 2.5e-6;
  return 1.5e-6;
}

// A run of `bands` equal bands of a width x height image, measured the way taskdist measures
// them: the band's CPU, and the CPU before POV-Ray's first progress report, which POV-Ray sends
// every few tenths of a second: on a short band it holds most of the tracing (blob.pov 640x480
// +A0.3 in 3 bands: 0.18-0.22 of 0.19-0.25 CPU-s), counted in 10 ms ticks.
RunReport measured_run(int width, int height, int bands) {
  RunReport r;
  const BandOverhead overhead;
  for (int i = 0; i < bands; ++i) {
    TaskRecord t;
    t.rows = {height * i / bands, height * (i + 1) / bands};
    t.outcome = "ok";
    double trace = 0;
    for (int y = t.rows.begin; y < t.rows.end; ++y) trace += blob_density((y + 0.5) / height) * width;
    const double startup = overhead.startup_cpu_s(width, height);
    t.timing.cpu_s = startup + trace + overhead.output_cpu_s(t.rows, width, height);
    t.timing.startup_cpu_s = std::floor((startup + std::min(trace, 0.2)) * 100) / 100;
    r.tasks.push_back(t);
  }
  return r;
}

// What a one-wave plan takes on slots at 0.25 CPU, in truth (the bands' real costs).
double true_makespan(const std::vector<RowRange>& bands, int width, int height) {
  const BandOverhead overhead;
  double longest = 0;
  for (const RowRange& b : bands) {
    double trace = 0;
    for (int y = b.begin; y < b.end; ++y) trace += blob_density((y + 0.5) / height) * width;
    longest = std::max(longest, (trace + overhead.cpu_s(b, width, height)) / 0.25);
  }
  return longest;
}

TEST(CostSamplesTest, ALearnedProfileNeverPlansWorseThanTheEqualSplitFromBiasedSmallRuns) {
  // Given: the study's runs of blob.pov on 8 slots at 0.25 CPU before 800x600 (200x150,
  // 400x300, then 3200x2400 of an earlier round), measured as taskdist measures them: short
  // bands whose tracing is mostly in the CPU counted before the first progress report.
  // Expect: the profile's one wave at 800x600 takes no longer, in truth, than 8 equal bands
  // (the study: 1.33 s with the profile, 0.85 s without); and it still helps.
  CostProfile profile;
  for (const auto& [w, h] : {std::pair{3200, 2400}, {200, 150}, {400, 300}}) {
    profile.add_run(cost_samples(measured_run(w, h, 8), w, h));
  }
  const auto costs = profile.row_costs(800, 600);
  ASSERT_EQ(costs.size(), 600u);
  const auto learned = balanced_plan(costs, std::vector<double>(8, 0.25), 1, 800);
  const double equal = true_makespan(static_plan(600, 8, 1), 800, 600);
  EXPECT_LE(true_makespan(learned, 800, 600), equal * 1.01);
  EXPECT_LT(true_makespan(learned, 800, 600), equal * 0.9) << "and it still helps";
}

TEST(ProfileStoreTest, SavesLoadsAndIgnoresADamagedFileWithANote) {
  const fs::path dir = fresh_dir("profile-store") / "profiles";
  const ProfileStore store(dir);
  std::string note;
  EXPECT_TRUE(store.load("abc", &note).empty());
  EXPECT_EQ(note, "") << "no profile yet is nothing to tell";
  CostProfile p;
  p.add_run({{0, 1, 5e-6}});
  ASSERT_TRUE(store.save("abc", p).has_value());
  EXPECT_EQ(store.load("abc").runs(), 1);
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename(), "abc.json") << "no temporary file is left behind";
  }
  std::ofstream(store.file("abc")) << "{\"taskdist_profile\": 1, \"runs\": [[[0, 1";
  EXPECT_TRUE(store.load("abc", &note).empty());
  EXPECT_NE(note.find(store.file("abc").string()), std::string::npos) << note;
  EXPECT_NE(note.find("not valid JSON"), std::string::npos) << note;
}

TEST(ProfileStoreTest, SavingIntoAFileInTheWayNamesIt) {
  const fs::path base = fresh_dir("profile-store-blocked");
  std::ofstream(base / "profiles") << "a file where the folder should be";
  const ProfileStore store(base / "profiles");
  CostProfile p;
  p.add_run({{0, 1, 5e-6}});
  auto saved = store.save("abc", p);
  ASSERT_FALSE(saved.has_value());
  EXPECT_NE(saved.error().message().find((base / "profiles").string()), std::string::npos) << saved.error().message();
}

TEST(ProfileStoreTest, DefaultDirFollowsTheEnvironment) {
  const char* old = ::getenv("TASKDIST_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("TASKDIST_CACHE_DIR", "/some/cache", 1);
  EXPECT_EQ(ProfileStore::default_dir(), fs::path("/some/cache/profiles"));
  ::unsetenv("TASKDIST_CACHE_DIR");
  const char* home = ::getenv("HOME");
  const char* xdg = ::getenv("XDG_CACHE_HOME");
  if (xdg == nullptr && home != nullptr) {
    EXPECT_EQ(ProfileStore::default_dir(), fs::path(home) / ".cache/taskdist/profiles");
  }
  if (old) ::setenv("TASKDIST_CACHE_DIR", saved.c_str(), 1);
}

TEST(ProfileKeyTest, SameSceneAndShapeAtAnySizeOtherwiseDifferent) {
  const nlohmann::json files = {{"blob.pov", "0123"}};
  const std::string key = profile_key("blob.pov", files, {"+A0.3"}, 320, 240);
  EXPECT_EQ(key, profile_key("blob.pov", files, {"+A0.3"}, 3200, 2400));
  EXPECT_NE(key, profile_key("blob.pov", files, {"+A0.3"}, 320, 320)) << "another shape";
  EXPECT_NE(key, profile_key("blob.pov", files, {}, 320, 240)) << "other options";
  EXPECT_NE(key, profile_key("other.pov", files, {"+A0.3"}, 320, 240)) << "another scene";
  EXPECT_NE(key, profile_key("blob.pov", {{"blob.pov", "4567"}}, {"+A0.3"}, 320, 240))
      << "an edited scene";
}

TEST(BalancedPlanTest, BandsOverCostlyRowsAreShorterAndFinishTogether) {
  // Given: 1200 rows, the middle third 4x as costly; 4 equal capped slots; no overhead.
  // Expect: every slot's predicted time within one grain's cost of the others, bands on
  // multiples of the grain (32: render blocks; 1: any row) covering the image.
  std::vector<double> costs(1200, 0.001);
  for (int r = 400; r < 800; ++r) costs[static_cast<size_t>(r)] = 0.004;
  const BandOverhead none{.startup_wall_s = 0, .buffer_cpu_per_pixel = 0,
                          .output_cpu_per_pixel = 0};
  for (int grain : {32, 1}) {
    SCOPED_TRACE(grain);
    const auto bands = balanced_plan(costs, {0.25, 0.25, 0.25, 0.25}, grain, 100, none);
    ASSERT_EQ(bands.size(), 4u);
    EXPECT_EQ(bands.front().begin, 0);
    EXPECT_EQ(bands.back().end, 1200);
    double shortest = 1e9, longest = 0;
    for (size_t i = 0; i < bands.size(); ++i) {
      if (i > 0) {
        EXPECT_EQ(bands[i].begin, bands[i - 1].end);
      }
      EXPECT_EQ(bands[i].begin % grain, 0);
      const double t = sum(costs, bands[i].begin, bands[i].end) / 0.25;
      shortest = std::min(shortest, t);
      longest = std::max(longest, t);
    }
    EXPECT_LT(longest - shortest, grain * 0.004 / 0.25 + 1e-9);
    EXPECT_GT(bands[0].count(), 2 * bands[1].count()) << "the cheap top band is the longer";
  }
}

TEST(BalancedPlanTest, CountsTheOutputOfMiddleBandsAndSkipsASlotTooSlowToHelp) {
  // Given: uniform rows, but writing the full-size output costs as much as tracing the image.
  // Expect: middle bands (which write more of the output) get fewer rows than edge bands.
  std::vector<double> costs(960, 1e-3);
  const BandOverhead heavy{.startup_wall_s = 0.5, .buffer_cpu_per_pixel = 0,
                           .output_cpu_per_pixel = 1e-3 / 100};
  auto bands = balanced_plan(costs, {1, 1, 1, 1}, 32, 100, heavy);
  ASSERT_EQ(bands.size(), 4u);
  EXPECT_GT(bands[0].count(), bands[1].count());
  EXPECT_GT(bands[3].count(), bands[2].count());
  // A slot a thousand times slower than the others gets an empty band.
  bands = balanced_plan(costs, {1e-3, 1, 1}, 32, 100, heavy);
  ASSERT_EQ(bands.size(), 3u);
  EXPECT_EQ(bands[0].count(), 0);
  EXPECT_EQ(bands[1].begin, 0);
  EXPECT_EQ(bands[2].end, 960);
}

}  // namespace
}  // namespace taskdist
