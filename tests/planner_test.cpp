#include "core/planner.h"

#include <gtest/gtest.h>

namespace taskdist {
namespace {

void expect_cover(const std::vector<RowRange>& bands, int rows) {
  ASSERT_FALSE(bands.empty());
  EXPECT_EQ(bands.front().begin, 0);
  EXPECT_EQ(bands.back().end, rows);
  for (size_t i = 1; i < bands.size(); ++i) EXPECT_EQ(bands[i].begin, bands[i - 1].end);
}

TEST(PlannerTest, StaticSplitIsEqualAndOnBlockBoundaries) {
  auto bands = static_plan(480, 3, 32);
  expect_cover(bands, 480);
  ASSERT_EQ(bands.size(), 3u);
  for (const auto& b : bands) {
    EXPECT_EQ(b.begin % 32, 0);
    EXPECT_EQ(b.count(), 160);
  }
  bands = static_plan(480, 2, 32);  // 240 is no block multiple: 256 + 224
  expect_cover(bands, 480);
  EXPECT_EQ(bands[1].begin % 32, 0);
  EXPECT_LE(std::abs(bands[0].count() - bands[1].count()), 32);
}

TEST(PlannerTest, StaticSplitOfATinyImageUsesFewerBands) {
  auto bands = static_plan(40, 4, 32);
  expect_cover(bands, 40);
  EXPECT_LE(bands.size(), 2u);
}

TEST(PlannerTest, StaticPlanCutsAtAnyRowWithAGrainOfOne) {
  // The paper's split exactly: 1200 rows on 8 slots, 150 each (32-row blocks would give 160).
  const auto bands = static_plan(1200, 8, 1);
  ASSERT_EQ(bands.size(), 8u);
  for (size_t i = 0; i < bands.size(); ++i) {
    EXPECT_EQ(bands[i], (RowRange{static_cast<int>(i) * 150, static_cast<int>(i + 1) * 150}));
  }
  const auto weighted = weighted_plan(1000, {1, 2, 1}, 1);
  EXPECT_EQ(weighted, (std::vector<RowRange>{{0, 250}, {250, 750}, {750, 1000}}));
}

// Bands of at least `block` rows, cut at multiples of `grain` (default: the block).
DynamicState state(int total, int remaining, int slots, int block, CostModel model = {},
                   int grain = 0) {
  DynamicState s;
  s.total_rows = total;
  s.remaining = remaining;
  s.slots = slots;
  s.block = block;
  s.grain = grain > 0 ? grain : block;
  s.model = model;
  return s;
}

TEST(PlannerTest, OneSlotRendersEverythingInOneBand) {
  auto batch = next_dynamic_batch(0, state(2400, 2400, 1, 32));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0], (RowRange{0, 2400}));
}

TEST(PlannerTest, FirstBatchCoversTheFirstWaveShare) {
  DynamicSizing sizing;
  sizing.first_wave_share = 0.5;
  auto batch = next_dynamic_batch(0, state(2400, 2400, 2, 32), sizing);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0], (RowRange{0, 608}));  // 2400 * 0.5 / 2, rounded up to a block multiple
  EXPECT_EQ(batch[1], (RowRange{608, 1216}));
}

TEST(PlannerTest, LaterBatchesFollowFactoringWhereRowsAreExpensive) {
  // Given: 2000 rows left at 50 ms a row, 0.5 s overhead: the floor (5 rows) does not matter.
  auto batch = next_dynamic_batch(400, state(2400, 2000, 2, 10, {0.5, 0.05}));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0], (RowRange{400, 900}));  // 2000 / 4
  EXPECT_EQ(batch[1], (RowRange{900, 1400}));
}

TEST(PlannerTest, CheapRowsMakeBiggerBandsUpToAnEvenShare) {
  // Given: rows at 1 ms, a 1 s overhead, min_work_per_overhead 0.5: a band should trace for at
  // least 0.5 s = 500 rows.
  DynamicSizing sizing;
  sizing.min_work_per_overhead = 0.5;
  auto batch = next_dynamic_batch(0, state(4000, 3000, 2, 10, {1.0, 0.001}), sizing);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].count(), 750);  // factoring's 3000/4 is already above the floor
  batch = next_dynamic_batch(0, state(4000, 2200, 2, 10, {1.0, 0.001}), sizing);
  EXPECT_EQ(batch[0].count(), 550);
  batch = next_dynamic_batch(0, state(4000, 1500, 2, 10, {1.0, 0.001}), sizing);
  EXPECT_EQ(batch[0].count(), 500);
}

TEST(PlannerTest, TheQuickStartsSmallerStartUpMakesSmallerBandsWhereRowsAreCheap) {
  // Given: 1600x1200, 2 slots, 1200 rows left of 2400, rows at 1 ms; the overhead assumed before
  // any band has finished: POV-Ray's own start-up (0.65 s) or the quick start's (0.06 s).
  // Expect: POV-Ray's own makes the floor (two overheads of 0.65 s + the output: 1492 rows) an
  // even share; the quick start's (311 rows) about factoring's 300: twice the bands.
  const auto batch_with = [](double startup) {
    return next_dynamic_batch(
        0, state(2400, 1200, 2, 1, {prior_band_overhead_s(1600, 1200, startup), 0.001}));
  };
  const auto slow = batch_with(kPovrayStartupWallS);
  const auto quick = batch_with(kQuickStartupWallS);
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(slow[0].count(), 600);
  ASSERT_EQ(quick.size(), 2u);
  EXPECT_EQ(quick[0].count(), 311);
}

TEST(PlannerTest, TheLastBatchSharesEverythingEvenly) {
  // 608 rows left, floor 263 rows: two bands of 288 would leave 32 rows, less than a band.
  DynamicSizing sizing;
  sizing.min_work_per_overhead = 0.5;
  auto batch = next_dynamic_batch(1792, state(2400, 608, 2, 32, {1.42, 0.0027}), sizing);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0], (RowRange{1792, 2112}));
  EXPECT_EQ(batch[1], (RowRange{2112, 2400}));
}

TEST(PlannerTest, BatchesCoverTheRowsOnBlockBoundaries) {
  for (int remaining = 1; remaining < 700; remaining += 7) {
    const int first = 704 - (remaining + 31) / 32 * 32;
    auto batch = next_dynamic_batch(first, state(704, remaining, 3, 32, {0.7, 0.002}));
    ASSERT_FALSE(batch.empty());
    EXPECT_LE(batch.size(), 3u);
    EXPECT_EQ(batch.front().begin, first);
    EXPECT_EQ(batch.back().end, first + remaining);
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(batch[i].begin % 32, 0) << remaining;
      if (i > 0) {
        EXPECT_EQ(batch[i].begin, batch[i - 1].end);
      }
    }
  }
}

TEST(PlannerTest, WeightedPlanGivesRowsInProportionToWeights) {
  const auto bands = weighted_plan(1200, {1, 1, 1, 0.5, 1, 1, 1, 1}, 32);
  ASSERT_EQ(bands.size(), 8u);
  EXPECT_EQ(bands.front().begin, 0);
  EXPECT_EQ(bands.back().end, 1200);
  for (size_t i = 1; i < bands.size(); ++i) EXPECT_EQ(bands[i].begin, bands[i - 1].end);
  for (const auto& b : bands) EXPECT_EQ(b.begin % 32, 0);
  // The half-speed slot gets about half the rows of the others (to a block).
  EXPECT_NEAR(bands[3].count(), 1200 / 7.5 / 2, 32);
  EXPECT_NEAR(bands[0].count(), 1200 / 7.5, 32);
  EXPECT_EQ(weighted_plan(480, {1, 1, 1}, 32), static_plan(480, 3, 32));
}

TEST(PlannerTest, ABatchOverRowsOfNoKnownCostIsCutByRows) {
  // Given: row costs that are all 0 (nothing known to cost anything), 4 slots, first batch.
  // Expect: the usual batch by rows, not one band taking everything.
  const std::vector<double> costs(1024, 0.0);
  DynamicState st = state(1024, 1024, 4, 32);
  st.row_costs = &costs;
  const auto batch = next_dynamic_batch(0, st);
  ASSERT_EQ(batch.size(), 4u);
  for (const auto& b : batch) EXPECT_LT(b.count(), 512);
}

}  // namespace
}  // namespace taskdist
