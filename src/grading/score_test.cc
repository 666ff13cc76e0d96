#include "grading/score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "grading/clv.h"

namespace truthbook::grading {
namespace {

TEST(ScoreTest, LogLossOfAMissIsMinusLogOfOneMinusP) {
  EXPECT_NEAR(LogLoss(0.7, 0), -std::log(0.3), 1e-15);
  EXPECT_NEAR(LogLoss(0.2, 0), -std::log(0.8), 1e-15);
}

TEST(ScoreTest, LogLossOfACertainForecastThatMissedIsClippedNotInfinite) {
  // 1 - 1e-15 is not exact in binary, so the two clipped ends differ in the fourth decimal.
  EXPECT_NEAR(LogLoss(1.0, 0), -std::log(1e-15), 1e-3);
  EXPECT_NEAR(LogLoss(0.0, 1), -std::log(1e-15), 1e-3);
  EXPECT_NEAR(LogLoss(1.0, 1), 1e-15, 1e-18);
}

TEST(ScoreTest, MulticlassBrierRejectsRowsOfTheWrongSize) {
  const std::vector<double> p = {0.5, 0.3, 0.2, 0.1};
  const std::vector<int> y = {0, 1};
  EXPECT_EQ(MulticlassBrier(p, y, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MulticlassBrier(p, {}, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MulticlassBrier(p, y, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(ScoreTest, MulticlassBrierRejectsAClassOutOfRangeNamingItsRow) {
  const std::vector<double> p = {0.5, 0.5, 0.4, 0.6};
  Result<double> r = MulticlassBrier(p, std::vector<int>{0, 2}, 2);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "outcomes[1]: must be a class in [0, 2)");
}

TEST(ClvTest, SameLineHasAllThreeKinds) {
  ClosingLineValue clv = ComputeClv(2.0, -3.5, {1.8, -3.5, 0.55});
  ASSERT_TRUE(clv.price.has_value());
  EXPECT_NEAR(*clv.price, 2.0 / 1.8 - 1, 1e-15);
  EXPECT_NEAR(clv.fair, 2.0 * 0.55 - 1, 1e-15);
  EXPECT_NEAR(clv.prob_pts, 0.55 - 0.5, 1e-15);
  EXPECT_EQ(clv.note, std::nullopt);
}

TEST(ClvTest, MovedLineHasNoPriceClvAndSaysWhy) {
  ClosingLineValue clv = ComputeClv(1.91, -3.5, {1.91, -4.5, 0.5});
  EXPECT_EQ(clv.price, std::nullopt);
  EXPECT_EQ(clv.note, "line moved from -3.5 to -4.5: clv_price compares prices on one line only");
  EXPECT_NEAR(clv.fair, 1.91 * 0.5 - 1, 1e-15);
}

TEST(ClvTest, BeatingTheCloseHasPositiveFairAndProbabilityClvTogether) {
  for (double fair_prob : {0.45, 0.5, 0.55}) {
    ClosingLineValue clv = ComputeClv(2.0, std::nullopt, {1.9, std::nullopt, fair_prob});
    EXPECT_EQ(clv.fair > 0, clv.prob_pts > 0) << fair_prob;
  }
}

}  // namespace
}  // namespace truthbook::grading
