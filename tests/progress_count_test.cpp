#include "report/progress_count.h"

#include <gtest/gtest.h>

#include <vector>

namespace taskdist {
namespace {

TEST(ProgressCountTest, AddsTheTracedShareOfEveryBandInFlightToTheRowsDone) {
  const std::vector<TracedShare> in_flight = {{{0, 100}, 0.5}, {{100, 300}, 0.25}};
  EXPECT_DOUBLE_EQ(rows_traced(400, 1000, in_flight), 400 + 50 + 50);
}

TEST(ProgressCountTest, ABandAndItsCopiesCountOnceAsFarAsTheFarthest) {
  // Given: band 0-599 (its straggler at 99%, its copy at 80%) and band 600-799 at half.
  // Expect: 600 x 0.99 + 200 x 0.5, not 600 x (0.99 + 0.8) + ...
  const std::vector<TracedShare> in_flight = {{{0, 600}, 0.99}, {{600, 800}, 0.5}, {{0, 600}, 0.8}};
  EXPECT_DOUBLE_EQ(rows_traced(1600, 2400, in_flight), 1600 + 594 + 100);
  // The copy overtakes the straggler: the copy counts.
  const std::vector<TracedShare> overtaken = {{{0, 600}, 0.2}, {{0, 600}, 0.9}};
  EXPECT_DOUBLE_EQ(rows_traced(1800, 2400, overtaken), 1800 + 540);
}

TEST(ProgressCountTest, NeverCountsMoreThanTheImageOrLessThanNothing) {
  const std::vector<TracedShare> odd = {{{0, 100}, 1.7}, {{100, 200}, -3}};
  EXPECT_DOUBLE_EQ(rows_traced(0, 200, odd), 100);
  const std::vector<TracedShare> both = {{{0, 100}, 1}, {{100, 200}, 1}};
  EXPECT_DOUBLE_EQ(rows_traced(150, 200, both), 200);  // rows_done already held some of them
  EXPECT_DOUBLE_EQ(rows_traced(0, 0, both), 0);
  EXPECT_DOUBLE_EQ(rows_traced(5, 100, {}), 5);
}

TEST(ProgressCountTest, TheTimeLeftFollowsThePaceSoFar) {
  ASSERT_TRUE(eta_seconds(25, 100, 10).has_value());
  EXPECT_DOUBLE_EQ(*eta_seconds(25, 100, 10), 30);
  EXPECT_DOUBLE_EQ(*eta_seconds(100, 100, 10), 0);
}

TEST(ProgressCountTest, TheTimeLeftIsUnknownUntilEnoughIsTracedAndNeverNegative) {
  EXPECT_FALSE(eta_seconds(0, 2400, 5).has_value());
  EXPECT_FALSE(eta_seconds(40, 2400, 5).has_value());  // under 2%
  EXPECT_FALSE(eta_seconds(10, 0, 5).has_value());
  // More rows than the image (a caller that counted a band twice): done, not -2 s.
  EXPECT_DOUBLE_EQ(*eta_seconds(2798, 2400, 12), 0);
  for (double rows = 0; rows <= 3000; rows += 7) {
    if (auto eta = eta_seconds(rows, 2400, 12)) {
      EXPECT_GE(*eta, 0) << rows;
    }
  }
}

}  // namespace
}  // namespace taskdist
