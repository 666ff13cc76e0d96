#include "grading/outcome.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status_test_util.h"

namespace truthbook::grading {
namespace {

using enum Outcome;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Profit, stake and parlay prices are a few multiplications: exact up to rounding.
constexpr double kTolerance = 1e-12;

class OutcomeTest : public ::testing::Test {
 protected:
  // Compares outcomes by wire name, so that a failure prints "HALF_WIN" rather than 4.
  static void ExpectOutcome(Outcome actual, Outcome expected) {
    EXPECT_EQ(OutcomeName(actual), OutcomeName(expected));
  }

  // The settled parlay of `legs`, or a test failure.
  static ParlaySettlement Parlay(const std::vector<SettledLeg>& legs) {
    Result<ParlaySettlement> parlay = SettleParlay(legs);
    EXPECT_TRUE(parlay.ok()) << parlay.status().ToString();
    return parlay.ok() ? *parlay : ParlaySettlement{};
  }

  // The parlay of `legs` settles as `outcome` and returns `decimal` per unit staked.
  static void ExpectParlay(const std::vector<SettledLeg>& legs, Outcome outcome, double decimal) {
    const ParlaySettlement parlay = Parlay(legs);
    ExpectOutcome(parlay.outcome, outcome);
    EXPECT_NEAR(parlay.decimal, decimal, kTolerance);
  }
};

// --- Names ---

TEST_F(OutcomeTest, OutcomeNamesAreTheWireNames) {
  const std::vector<std::pair<Outcome, std::string_view>> table = {
      {kWin, "WIN"},   {kLoss, "LOSS"},        {kPush, "PUSH"},
      {kVoid, "VOID"}, {kHalfWin, "HALF_WIN"}, {kHalfLoss, "HALF_LOSS"},
  };
  ASSERT_EQ(table.size(), kOutcomes.size());
  for (const auto& [outcome, name] : table) EXPECT_EQ(OutcomeName(outcome), name);
}

TEST_F(OutcomeTest, EveryOutcomeNameIsUniqueAndParsesBack) {
  std::set<std::string_view> names;
  for (Outcome outcome : kOutcomes) {
    const std::string_view name = OutcomeName(outcome);
    SCOPED_TRACE(std::string(name));
    EXPECT_TRUE(names.insert(name).second) << "duplicate name";
    Result<Outcome> parsed = ParseOutcome(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ExpectOutcome(*parsed, outcome);
  }
}

TEST_F(OutcomeTest, ParseOutcomeUnknownNameIsInvalidArgumentNamingTheChoices) {
  for (std::string_view name : {"", "win", "Win", "WIN ", "HALF", "HALFWIN", "HALF-WIN", "W"}) {
    SCOPED_TRACE(std::string(name));
    ExpectInvalid(ParseOutcome(name),
                  "unknown outcome \"" + std::string(name) +
                      "\"; expected one of WIN, LOSS, PUSH, VOID, HALF_WIN, HALF_LOSS");
  }
}

// --- Profit ---

TEST_F(OutcomeTest, ProfitOfEachOutcome) {
  struct Row {
    Outcome outcome;
    double decimal;
    double stake;
    double profit;
  };
  // clang-format off
  const std::vector<Row> table = {
      // outcome  decimal stake  profit
      {kWin,      1.91,   1,     0.91},
      {kWin,      2.5,    2,     3},
      {kWin,      1.01,   100,   1},
      {kWin,      1.91,   0,     0},
      {kLoss,     1.91,   1,     -1},
      {kLoss,     5.0,    2.5,   -2.5},
      {kLoss,     1.91,   0,     0},
      {kPush,     1.91,   1,     0},
      {kPush,     5.0,    3,     0},
      {kVoid,     1.91,   1,     0},
      {kVoid,     5.0,    3,     0},
      {kHalfWin,  1.90,   1,     0.45},
      {kHalfWin,  2.5,    2,     1.5},
      {kHalfLoss, 1.90,   1,     -0.5},
      {kHalfLoss, 2.5,    3,     -1.5},
  };
  // clang-format on
  for (const Row& row : table) {
    SCOPED_TRACE(
        fmt::format("{} at {:g} staking {:g}", OutcomeName(row.outcome), row.decimal, row.stake));
    EXPECT_NEAR(Profit(row.outcome, row.decimal, row.stake), row.profit, kTolerance);
  }
}

TEST_F(OutcomeTest, HalfOutcomesPayHalfTheFullOutcome) {
  for (double decimal : {1.01, 1.5, 1.9, 2.0, 3.75, 101.0}) {
    SCOPED_TRACE(decimal);
    EXPECT_DOUBLE_EQ(Profit(kHalfWin, decimal, 3), Profit(kWin, decimal, 3) / 2);
    EXPECT_DOUBLE_EQ(Profit(kHalfLoss, decimal, 3), Profit(kLoss, decimal, 3) / 2);
  }
}

// --- Stake conventions ---

TEST_F(OutcomeTest, StakeConventionNamesParseBack) {
  for (StakeConvention convention : {StakeConvention::kRisk, StakeConvention::kToWin}) {
    const std::string_view name = StakeConventionName(convention);
    SCOPED_TRACE(std::string(name));
    Result<StakeConvention> parsed = ParseStakeConvention(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, convention);
  }
  EXPECT_EQ(StakeConventionName(StakeConvention::kRisk), "risk");
  EXPECT_EQ(StakeConventionName(StakeConvention::kToWin), "to_win");
}

TEST_F(OutcomeTest, ParseStakeConventionUnknownNameIsInvalidArgument) {
  for (std::string_view name : {"", "Risk", "towin", "to-win", "TO_WIN", "win"}) {
    SCOPED_TRACE(std::string(name));
    ExpectInvalid(ParseStakeConvention(name), "unknown stake convention \"" + std::string(name) +
                                                  "\"; expected one of risk, to_win");
  }
}

TEST_F(OutcomeTest, RiskStakeIsTheUnitsWhateverThePrice) {
  for (double decimal : {1.01, 1.5, 1.909, 2.0, 3.5, 101.0}) {
    SCOPED_TRACE(decimal);
    EXPECT_EQ(Stake(StakeConvention::kRisk, 1, decimal), 1);
    EXPECT_EQ(Stake(StakeConvention::kRisk, 2.5, decimal), 2.5);
    // So a loss costs exactly the units.
    EXPECT_EQ(Profit(kLoss, decimal, Stake(StakeConvention::kRisk, 2.5, decimal)), -2.5);
  }
}

TEST_F(OutcomeTest, ToWinStakeMakesAWinPayExactlyTheUnits) {
  const std::vector<std::pair<double, double>> table = {
      // decimal, stake to win 1 unit
      {1 + 100.0 / 110, 1.1},  // -110
      {1.5, 2.0},              // -200
      {2.0, 1.0},              // even money
      {2.5, 2.0 / 3},          // +150
      {11.0, 0.1},             // +1000
  };
  for (const auto& [decimal, stake] : table) {
    SCOPED_TRACE(decimal);
    EXPECT_NEAR(Stake(StakeConvention::kToWin, 1, decimal), stake, kTolerance);
    EXPECT_NEAR(Profit(kWin, decimal, Stake(StakeConvention::kToWin, 2, decimal)), 2, kTolerance);
  }
}

TEST_F(OutcomeTest, ZeroUnitsStakeNothingUnderEitherConvention) {
  EXPECT_EQ(Stake(StakeConvention::kRisk, 0, 1.91), 0);
  EXPECT_EQ(Stake(StakeConvention::kToWin, 0, 1.91), 0);
}

// --- DecidedShare and Hit ---

TEST_F(OutcomeTest, DecidedShareAndHitOfEachOutcome) {
  struct Row {
    Outcome outcome;
    double decided_share;
    double hit;  // checked only where DecidedShare > 0
  };
  // clang-format off
  const std::vector<Row> table = {
      // outcome  share hit
      {kWin,      1,    1},
      {kLoss,     1,    0},
      {kPush,     0,    0},
      {kVoid,     0,    0},
      {kHalfWin,  0.5,  1},
      {kHalfLoss, 0.5,  0},
  };
  // clang-format on
  ASSERT_EQ(table.size(), kOutcomes.size());
  for (const Row& row : table) {
    SCOPED_TRACE(std::string(OutcomeName(row.outcome)));
    EXPECT_EQ(DecidedShare(row.outcome), row.decided_share);
    if (row.decided_share > 0) {
      EXPECT_EQ(Hit(row.outcome), row.hit);
    }
  }
}

// --- Parlays ---

TEST_F(OutcomeTest, ParlayLegFactorOfEachOutcome) {
  const std::vector<std::pair<Outcome, double>> table = {
      {kWin, 1.9}, {kLoss, 0}, {kPush, 1}, {kVoid, 1}, {kHalfWin, 1.45}, {kHalfLoss, 0.5},
  };
  ASSERT_EQ(table.size(), kOutcomes.size());
  for (const auto& [outcome, factor] : table) {
    SCOPED_TRACE(std::string(OutcomeName(outcome)));
    EXPECT_NEAR(ParlayLegFactor(outcome, 1.9), factor, kTolerance);
  }
}

// A leg's factor is its own return per unit: 1 + Profit at stake 1.
TEST_F(OutcomeTest, ParlayLegFactorIsTheLegsReturnPerUnit) {
  for (Outcome outcome : kOutcomes) {
    for (double decimal : {1.01, 1.9, 2.0, 4.5}) {
      SCOPED_TRACE(fmt::format("{} at {:g}", OutcomeName(outcome), decimal));
      EXPECT_NEAR(ParlayLegFactor(outcome, decimal), 1 + Profit(outcome, decimal, 1), kTolerance);
    }
  }
}

TEST_F(OutcomeTest, ParlayAllWinsPaysTheProductOfThePrices) {
  ExpectParlay({{kWin, 1.91}, {kWin, 1.91}}, kWin, 1.91 * 1.91);
  ExpectParlay({{kWin, 2.0}, {kWin, 1.5}, {kWin, 3.0}, {kWin, 1.25}}, kWin, 11.25);
}

TEST_F(OutcomeTest, ParlayWithAPushDropsThatLeg) {
  ExpectParlay({{kWin, 1.95}, {kWin, 2.1}, {kPush, 1.91}}, kWin, 1.95 * 2.1);
}

TEST_F(OutcomeTest, ParlayWithAVoidDropsThatLeg) {
  ExpectParlay({{kVoid, 3.0}, {kWin, 2.1}, {kWin, 1.95}}, kWin, 2.1 * 1.95);
}

TEST_F(OutcomeTest, ParlayWithAHalfWinPaysHalfThatLegsProfit) {
  ExpectParlay({{kHalfWin, 2.05}, {kWin, 1.8}}, kWin, 1.525 * 1.8);
}

TEST_F(OutcomeTest, ParlayWithAHalfLossHalvesTheReturn) {
  ExpectParlay({{kHalfLoss, 1.95}, {kWin, 1.8}, {kWin, 2.5}}, kWin, 0.5 * 1.8 * 2.5);
}

TEST_F(OutcomeTest, ParlayWithHalfWinAndHalfLossMultipliesBothFactors) {
  // settlement.json's example: 1.525 * 1.8 * 0.5.
  ExpectParlay({{kHalfWin, 2.05}, {kWin, 1.8}, {kHalfLoss, 1.95}}, kWin, 1.3725);
}

TEST_F(OutcomeTest, ParlayWhoseReturnFallsBelowTheStakeIsHalfLoss) {
  ExpectParlay({{kHalfLoss, 1.95}, {kWin, 1.8}}, kHalfLoss, 0.9);
  ExpectParlay({{kHalfLoss, 1.9}, {kPush, 1.9}}, kHalfLoss, 0.5);
  ExpectParlay({{kHalfLoss, 1.9}, {kHalfLoss, 1.9}}, kHalfLoss, 0.25);
}

// The header's rule: HALF_LOSS only for a return in (0, 1); a return of exactly the stake
// after a half loss is labelled WIN, with profit decimal - 1 = 0.
TEST_F(OutcomeTest, ParlayHalfLossOffsetExactlyByAWinIsAPush) {
  ExpectParlay({{kHalfLoss, 1.9}, {kWin, 2.0}}, kPush, 1.0);
}

TEST_F(OutcomeTest, ParlayWithALosingLegLoses) {
  ExpectParlay({{kLoss, 1.91}, {kWin, 1.91}}, kLoss, 0);
  ExpectParlay({{kWin, 1.91}, {kHalfWin, 1.91}, {kPush, 2.0}, {kLoss, 3.0}}, kLoss, 0);
  ExpectParlay({{kVoid, 1.91}, {kLoss, 1.91}}, kLoss, 0);
  ExpectParlay({{kLoss, 1.91}, {kLoss, 1.91}}, kLoss, 0);
}

TEST_F(OutcomeTest, ParlayAllVoidIsVoid) {
  ExpectParlay({{kVoid, 1.91}, {kVoid, 2.5}}, kVoid, 1);
  ExpectParlay({{kVoid, 1.91}, {kVoid, 2.5}, {kVoid, 1.2}}, kVoid, 1);
}

TEST_F(OutcomeTest, ParlayAllPushedOrVoidedIsPush) {
  ExpectParlay({{kPush, 1.91}, {kPush, 2.5}}, kPush, 1);
  ExpectParlay({{kPush, 1.91}, {kVoid, 2.5}}, kPush, 1);
  ExpectParlay({{kVoid, 1.91}, {kPush, 2.5}, {kVoid, 1.2}}, kPush, 1);
}

TEST_F(OutcomeTest, ParlayProfitPerUnitIsDecimalMinusOne) {
  // One leg left after a push: the parlay is that single bet.
  const ParlaySettlement parlay = Parlay({{kPush, 1.91}, {kWin, 2.2}});
  ExpectOutcome(parlay.outcome, kWin);
  EXPECT_NEAR(parlay.decimal - 1, Profit(kWin, 2.2, 1), kTolerance);
}

TEST_F(OutcomeTest, ParlayNeedsAtLeastTwoLegs) {
  ExpectInvalid(SettleParlay({}), "legs: need at least 2");
  const std::vector<SettledLeg> one = {{kWin, 1.91}};
  ExpectInvalid(SettleParlay(one), "legs: need at least 2");
}

TEST_F(OutcomeTest, ParlayLegDecimalAtOrBelowOneIsInvalidAndNamesTheLeg) {
  for (double decimal : {1.0, 0.5, 0.0, -2.0, kNaN, kInf, -kInf}) {
    SCOPED_TRACE(decimal);
    const std::vector<SettledLeg> first = {{kWin, decimal}, {kWin, 1.91}};
    ExpectInvalid(SettleParlay(first), "legs[0].decimal: must be > 1");
    const std::vector<SettledLeg> third = {{kWin, 1.91}, {kPush, 1.91}, {kVoid, decimal}};
    ExpectInvalid(SettleParlay(third), "legs[2].decimal: must be > 1");
  }
}

TEST_F(OutcomeTest, ParlayBadPriceAfterALosingLegIsStillInvalid) {
  const std::vector<SettledLeg> legs = {{kLoss, 1.91}, {kWin, 1.0}};
  ExpectInvalid(SettleParlay(legs), "legs[1].decimal: must be > 1");
}

}  // namespace
}  // namespace truthbook::grading
