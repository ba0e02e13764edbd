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

TEST(PlannerTest, OneSlotRendersEverythingInOneBand) {
  DynamicState s{.total_rows = 2400, .remaining = 2400, .slots = 1, .block = 32, .model = {}};
  EXPECT_EQ(next_dynamic_rows(s), 2400);
}

TEST(PlannerTest, FirstWaveIsFactoringsFirstBatch) {
  DynamicState s{.total_rows = 2400, .remaining = 2400, .slots = 2, .block = 32, .model = {}};
  EXPECT_EQ(next_dynamic_rows(s), 608);  // 2400 / 4, rounded up to a block multiple
}

TEST(PlannerTest, CheapRowsMakeBiggerBandsUpToAnEvenShare) {
  // Given: rows at 1 ms, a 1 s overhead: a band should trace for at least 0.5 s = 500 rows.
  DynamicState s{.total_rows = 4000, .remaining = 3000, .slots = 2, .block = 10,
                 .model = {.overhead_s = 1.0, .row_cost_s = 0.001}};
  EXPECT_EQ(next_dynamic_rows(s), 750);  // factoring's 3000/4 is already above the floor
  s.remaining = 1200;
  EXPECT_EQ(next_dynamic_rows(s), 500);
  s.remaining = 600;
  EXPECT_EQ(next_dynamic_rows(s), 300);  // capped at an even share
}

TEST(PlannerTest, ExpensiveRowsKeepFactoringSizes) {
  DynamicState s{.total_rows = 4000, .remaining = 1000, .slots = 2, .block = 10,
                 .model = {.overhead_s = 0.5, .row_cost_s = 0.05}};
  EXPECT_EQ(next_dynamic_rows(s), 250);
}

TEST(PlannerTest, ResultsAreBlockMultiplesOrTheRest) {
  for (int remaining = 1; remaining < 700; remaining += 7) {
    DynamicState s{.total_rows = 700, .remaining = remaining, .slots = 3, .block = 32,
                   .model = {.overhead_s = 0.7, .row_cost_s = 0.002}};
    const int rows = next_dynamic_rows(s);
    EXPECT_GT(rows, 0);
    EXPECT_LE(rows, remaining);
    EXPECT_TRUE(rows % 32 == 0 || rows == remaining) << remaining << " -> " << rows;
  }
}

}  // namespace
}  // namespace taskdist
