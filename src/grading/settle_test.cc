#include "grading/settle.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grading/outcome.h"

namespace truthbook::grading {
namespace {

using enum Outcome;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The goal margins (spreads) and the match totals (totals) that every line is settled at.
constexpr std::array<int, 5> kMargins = {-2, -1, 0, 1, 2};
constexpr std::array<int, 5> kTotals = {0, 1, 2, 3, 4};

// The result of one side of a bet: W and L swap, half results swap, push and void stay.
Outcome Mirror(Outcome outcome) {
  switch (outcome) {
    case kWin:
      return kLoss;
    case kLoss:
      return kWin;
    case kHalfWin:
      return kHalfLoss;
    case kHalfLoss:
      return kHalfWin;
    case kPush:
    case kVoid:
      return outcome;
  }
  return outcome;
}

class SettleTest : public ::testing::Test {
 protected:
  // Compares outcomes by wire name, so that a failure prints "HALF_WIN" rather than 4.
  static void ExpectOutcome(Outcome actual, Outcome expected) {
    EXPECT_EQ(OutcomeName(actual), OutcomeName(expected));
  }

  static void ExpectOk(const Status& status) { EXPECT_TRUE(status.ok()) << status.ToString(); }

  // The side named `name` (API.md's wire name), or a test failure.
  static Side SideNamed(std::string_view name) {
    Result<Side> side = ParseSide(name);
    EXPECT_TRUE(side.ok()) << side.status().ToString();
    return side.ok() ? *side : Side::kHome;
  }

  // Settles `leg` on the score after checking that it is a valid leg.
  static Outcome Settle(const Leg& leg, double home_score, double away_score) {
    ExpectOk(ValidateLeg(leg));
    return SettleOnScore(leg, home_score, away_score);
  }

  // A spread bet on the home side at `line` when home wins by `margin`. The same bet on the
  // away side of the mirrored score must settle the same way, which is checked here too.
  static Outcome HomeSpread(double line, int margin) {
    const int home = std::max(0, margin) + 1;
    const int away = home - margin;
    const Outcome home_pick = Settle({Market::kSpread, Side::kHome, line}, home, away);
    const Outcome away_pick = Settle({Market::kSpread, Side::kAway, line}, away, home);
    EXPECT_EQ(OutcomeName(home_pick), OutcomeName(away_pick))
        << "home and away picks disagree at line " << line << ", margin " << margin;
    return home_pick;
  }

  // Over/under the match total; the goals are split between the teams.
  static Outcome Over(double line, int total) {
    return Settle({Market::kTotal, Side::kOver, line}, total - total / 2, total / 2);
  }
  static Outcome Under(double line, int total) {
    return Settle({Market::kTotal, Side::kUnder, line}, total - total / 2, total / 2);
  }

  static Outcome TeamTotal(std::string_view side, double line, int home_score, int away_score) {
    return Settle({Market::kTeamTotal, SideNamed(side), line}, home_score, away_score);
  }

  static Outcome Prop(Side side, double line, std::optional<double> stat) {
    const Leg leg{Market::kPlayerProp, side, line};
    ExpectOk(ValidateLeg(leg));
    return SettleProp(leg, stat);
  }

  // `status` is InvalidArgument with exactly `message`.
  static void ExpectInvalid(const Status& status, std::string_view message) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_EQ(status.message(), message);
  }
  template <typename T>
  static void ExpectInvalid(const Result<T>& result, std::string_view message) {
    ASSERT_FALSE(result.ok()) << "expected the error \"" << message << "\", got a value";
    ExpectInvalid(result.status(), message);
  }
};

// --- Spreads (Asian handicap): every line from -2.25 to +2.25 at every margin -2..2 ---

// One line and its outcome at each of five scores (kMargins or kTotals).
struct LineRow {
  double line;
  std::array<Outcome, 5> outcomes;
};

// The home side's outcome at each line (rows) and goal margin -2..+2 (columns). Whole lines
// push on the margin that lands on them; half lines never push; a quarter line k ± 0.25 is
// half the stake on each of its neighbours, so the margin that pushes one half gives a half
// result.
// clang-format off
const std::vector<LineRow> kSpreadTable = {
    //        -2         -1         0          +1         +2
    {-2.25,  {kLoss,     kLoss,     kLoss,     kLoss,     kHalfLoss}},
    {-2,     {kLoss,     kLoss,     kLoss,     kLoss,     kPush}},
    {-1.75,  {kLoss,     kLoss,     kLoss,     kLoss,     kHalfWin}},
    {-1.5,   {kLoss,     kLoss,     kLoss,     kLoss,     kWin}},
    {-1.25,  {kLoss,     kLoss,     kLoss,     kHalfLoss, kWin}},
    {-1,     {kLoss,     kLoss,     kLoss,     kPush,     kWin}},
    {-0.75,  {kLoss,     kLoss,     kLoss,     kHalfWin,  kWin}},
    {-0.5,   {kLoss,     kLoss,     kLoss,     kWin,      kWin}},
    {-0.25,  {kLoss,     kLoss,     kHalfLoss, kWin,      kWin}},
    {0,      {kLoss,     kLoss,     kPush,     kWin,      kWin}},
    {+0.25,  {kLoss,     kLoss,     kHalfWin,  kWin,      kWin}},
    {+0.5,   {kLoss,     kLoss,     kWin,      kWin,      kWin}},
    {+0.75,  {kLoss,     kHalfLoss, kWin,      kWin,      kWin}},
    {+1,     {kLoss,     kPush,     kWin,      kWin,      kWin}},
    {+1.25,  {kLoss,     kHalfWin,  kWin,      kWin,      kWin}},
    {+1.5,   {kLoss,     kWin,      kWin,      kWin,      kWin}},
    {+1.75,  {kHalfLoss, kWin,      kWin,      kWin,      kWin}},
    {+2,     {kPush,     kWin,      kWin,      kWin,      kWin}},
    {+2.25,  {kHalfWin,  kWin,      kWin,      kWin,      kWin}},
};
// clang-format on

TEST_F(SettleTest, SpreadEveryQuarterHalfAndWholeLineAtEveryMarginMinus2To2) {
  for (const LineRow& row : kSpreadTable) {
    for (size_t i = 0; i < kMargins.size(); ++i) {
      SCOPED_TRACE(fmt::format("line {:+g}, margin {:+d}", row.line, kMargins[i]));
      ExpectOutcome(HomeSpread(row.line, kMargins[i]), row.outcomes[i]);
      // SettleHandicap is the same rule on bare numbers.
      ExpectOutcome(SettleHandicap(kMargins[i], row.line), row.outcomes[i]);
    }
  }
}

TEST_F(SettleTest, SpreadIntegerLinePushesOnTheLine) {
  ExpectOutcome(HomeSpread(-1, 1), kPush);
  ExpectOutcome(HomeSpread(+3, -3), kPush);
  // US sports: the home favourite at -3 wins 24-21, by exactly the line.
  ExpectOutcome(Settle({Market::kSpread, Side::kHome, -3}, 24, 21), kPush);
  ExpectOutcome(Settle({Market::kSpread, Side::kAway, +3}, 24, 21), kPush);
}

TEST_F(SettleTest, SpreadHalfLineNeverPushes) {
  ExpectOutcome(Settle({Market::kSpread, Side::kHome, -3.5}, 24, 21), kLoss);
  ExpectOutcome(Settle({Market::kSpread, Side::kAway, +3.5}, 24, 21), kWin);
  ExpectOutcome(Settle({Market::kSpread, Side::kHome, -3.5}, 24, 20), kWin);
  ExpectOutcome(Settle({Market::kSpread, Side::kAway, +3.5}, 24, 20), kLoss);
}

TEST_F(SettleTest, QuarterLineDrawIsHalfLossForTheGiverAndHalfWinForTheTaker) {
  ExpectOutcome(Settle({Market::kSpread, Side::kHome, -0.25}, 1, 1), kHalfLoss);
  ExpectOutcome(Settle({Market::kSpread, Side::kAway, +0.25}, 1, 1), kHalfWin);
}

// The two sides of one handicap always settle as mirror images: home at line h on margin m is
// away at line -h on margin -m.
TEST_F(SettleTest, OppositeSidesOfOneHandicapSettleAsMirrorImages) {
  for (double line = -3; line <= 3; line += 0.25) {
    for (int margin = -5; margin <= 5; ++margin) {
      SCOPED_TRACE(fmt::format("line {:+g}, margin {:+d}", line, margin));
      ExpectOutcome(SettleHandicap(-margin, -line), Mirror(SettleHandicap(margin, line)));
    }
  }
}

// The published rule for a quarter line: half the stake on line - 0.25, half on line + 0.25.
// Checked on the money rather than the label, at every quarter line in [-3, 3].
TEST_F(SettleTest, QuarterLinePaysTheAverageOfItsTwoHalfLines) {
  constexpr double kDecimal = 1.93;
  for (double line = -2.75; line <= 2.75; line += 0.5) {
    for (int margin = -5; margin <= 5; ++margin) {
      SCOPED_TRACE(fmt::format("line {:+g}, margin {:+d}", line, margin));
      const double split = (Profit(SettleHandicap(margin, line - 0.25), kDecimal, 1) +
                            Profit(SettleHandicap(margin, line + 0.25), kDecimal, 1)) /
                           2;
      EXPECT_DOUBLE_EQ(Profit(SettleHandicap(margin, line), kDecimal, 1), split);
    }
  }
}

// --- Totals: every line from 0.25 to 3.75 at every total 0..4 (margin -2..2 around 2) ---

// The over's and the under's outcome at each line (rows) and match total 0..4 (columns). The
// under is the over's mirror image: W and L swap, half results swap, pushes stay.
// clang-format off
const std::vector<LineRow> kOverTable = {
    //        0          1          2          3          4
    {0.25,   {kHalfLoss, kWin,      kWin,      kWin,      kWin}},
    {0.5,    {kLoss,     kWin,      kWin,      kWin,      kWin}},
    {0.75,   {kLoss,     kHalfWin,  kWin,      kWin,      kWin}},
    {1,      {kLoss,     kPush,     kWin,      kWin,      kWin}},
    {1.25,   {kLoss,     kHalfLoss, kWin,      kWin,      kWin}},
    {1.5,    {kLoss,     kLoss,     kWin,      kWin,      kWin}},
    {1.75,   {kLoss,     kLoss,     kHalfWin,  kWin,      kWin}},
    {2,      {kLoss,     kLoss,     kPush,     kWin,      kWin}},
    {2.25,   {kLoss,     kLoss,     kHalfLoss, kWin,      kWin}},
    {2.5,    {kLoss,     kLoss,     kLoss,     kWin,      kWin}},
    {2.75,   {kLoss,     kLoss,     kLoss,     kHalfWin,  kWin}},
    {3,      {kLoss,     kLoss,     kLoss,     kPush,     kWin}},
    {3.25,   {kLoss,     kLoss,     kLoss,     kHalfLoss, kWin}},
    {3.5,    {kLoss,     kLoss,     kLoss,     kLoss,     kWin}},
    {3.75,   {kLoss,     kLoss,     kLoss,     kLoss,     kHalfWin}},
};

const std::vector<LineRow> kUnderTable = {
    //        0          1          2          3          4
    {0.25,   {kHalfWin,  kLoss,     kLoss,     kLoss,     kLoss}},
    {0.5,    {kWin,      kLoss,     kLoss,     kLoss,     kLoss}},
    {0.75,   {kWin,      kHalfLoss, kLoss,     kLoss,     kLoss}},
    {1,      {kWin,      kPush,     kLoss,     kLoss,     kLoss}},
    {1.25,   {kWin,      kHalfWin,  kLoss,     kLoss,     kLoss}},
    {1.5,    {kWin,      kWin,      kLoss,     kLoss,     kLoss}},
    {1.75,   {kWin,      kWin,      kHalfLoss, kLoss,     kLoss}},
    {2,      {kWin,      kWin,      kPush,     kLoss,     kLoss}},
    {2.25,   {kWin,      kWin,      kHalfWin,  kLoss,     kLoss}},
    {2.5,    {kWin,      kWin,      kWin,      kLoss,     kLoss}},
    {2.75,   {kWin,      kWin,      kWin,      kHalfLoss, kLoss}},
    {3,      {kWin,      kWin,      kWin,      kPush,     kLoss}},
    {3.25,   {kWin,      kWin,      kWin,      kHalfWin,  kLoss}},
    {3.5,    {kWin,      kWin,      kWin,      kWin,      kLoss}},
    {3.75,   {kWin,      kWin,      kWin,      kWin,      kHalfLoss}},
};
// clang-format on

TEST_F(SettleTest, OverEveryQuarterHalfAndWholeLineAtEveryTotal0To4) {
  for (const LineRow& row : kOverTable) {
    for (size_t i = 0; i < kTotals.size(); ++i) {
      SCOPED_TRACE(fmt::format("over {:g}, total {}", row.line, kTotals[i]));
      ExpectOutcome(Over(row.line, kTotals[i]), row.outcomes[i]);
      // The documented reduction: an over passes (total, -line) to SettleHandicap.
      ExpectOutcome(SettleHandicap(kTotals[i], -row.line), row.outcomes[i]);
    }
  }
}

TEST_F(SettleTest, UnderEveryQuarterHalfAndWholeLineAtEveryTotal0To4) {
  for (const LineRow& row : kUnderTable) {
    for (size_t i = 0; i < kTotals.size(); ++i) {
      SCOPED_TRACE(fmt::format("under {:g}, total {}", row.line, kTotals[i]));
      ExpectOutcome(Under(row.line, kTotals[i]), row.outcomes[i]);
      // The documented reduction: an under passes (-total, +line) to SettleHandicap.
      ExpectOutcome(SettleHandicap(-kTotals[i], row.line), row.outcomes[i]);
    }
  }
}

TEST_F(SettleTest, TotalCountsBothTeamsGoals) {
  ExpectOutcome(Settle({Market::kTotal, Side::kOver, 2.5}, 3, 0), kWin);
  ExpectOutcome(Settle({Market::kTotal, Side::kOver, 2.5}, 0, 3), kWin);
  ExpectOutcome(Settle({Market::kTotal, Side::kOver, 2.5}, 1, 1), kLoss);
  // US sports: 24-20 on 44 pushes, on 44.5 the under wins.
  ExpectOutcome(Settle({Market::kTotal, Side::kOver, 44}, 24, 20), kPush);
  ExpectOutcome(Settle({Market::kTotal, Side::kUnder, 44.5}, 24, 20), kWin);
}

// --- Moneyline, 1X2 and draw-no-bet ---

TEST_F(SettleTest, MoneylineWinnerWinsAndLoserLoses) {
  ExpectOutcome(Settle({Market::kMoneyline, Side::kHome}, 27, 24), kWin);
  ExpectOutcome(Settle({Market::kMoneyline, Side::kAway}, 27, 24), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline, Side::kHome}, 0, 1), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline, Side::kAway}, 0, 1), kWin);
}

TEST_F(SettleTest, TwoWayMoneylineTieIsPushForBothSides) {
  ExpectOutcome(Settle({Market::kMoneyline, Side::kHome}, 20, 20), kPush);
  ExpectOutcome(Settle({Market::kMoneyline, Side::kAway}, 20, 20), kPush);
}

TEST_F(SettleTest, MarketsWithoutALineIgnoreIt) {
  ExpectOutcome(Settle({Market::kMoneyline, Side::kHome, -7.5}, 1, 0), kWin);
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kAway, 3}, 1, 0), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kDraw, 0.5}, 1, 1), kWin);
}

TEST_F(SettleTest, ThreeWayDrawWinsTheDrawAndLosesHomeAndAway) {
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kDraw}, 1, 1), kWin);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kHome}, 1, 1), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kAway}, 1, 1), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kDraw}, 0, 0), kWin);
}

TEST_F(SettleTest, ThreeWayDecidedMatchWinsOnlyTheWinner) {
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kHome}, 2, 1), kWin);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kDraw}, 2, 1), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kAway}, 2, 1), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kHome}, 0, 3), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kDraw}, 0, 3), kLoss);
  ExpectOutcome(Settle({Market::kMoneyline3Way, Side::kAway}, 0, 3), kWin);
}

TEST_F(SettleTest, DrawNoBetDrawIsPushForBothSides) {
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kHome}, 2, 2), kPush);
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kAway}, 0, 0), kPush);
}

TEST_F(SettleTest, DrawNoBetDecidedMatchSettlesLikeAMoneyline) {
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kHome}, 2, 1), kWin);
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kAway}, 2, 1), kLoss);
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kHome}, 1, 2), kLoss);
  ExpectOutcome(Settle({Market::kDrawNoBet, Side::kAway}, 1, 2), kWin);
}

// --- Team totals: each of the four sides counts only its own team's score ---

struct TeamTotalRow {
  std::string_view side;
  double line;
  int home_score;
  int away_score;
  Outcome expected;
};

TEST_F(SettleTest, TeamTotalEachSideOnHalfWholeAndQuarterLines) {
  const std::vector<TeamTotalRow> table = {
      // Half line 1.5 on 2-1: only the home team went over.
      {"home_over", 1.5, 2, 1, kWin},
      {"home_under", 1.5, 2, 1, kLoss},
      {"away_over", 1.5, 2, 1, kLoss},
      {"away_under", 1.5, 2, 1, kWin},
      // The other team's goals never count: 0-5 is still home under 0.5.
      {"home_over", 0.5, 0, 5, kLoss},
      {"home_under", 0.5, 0, 5, kWin},
      {"away_over", 0.5, 5, 0, kLoss},
      {"away_under", 0.5, 5, 0, kWin},
      // Whole line 1 on 1-1 pushes every side.
      {"home_over", 1, 1, 1, kPush},
      {"home_under", 1, 1, 1, kPush},
      {"away_over", 1, 1, 1, kPush},
      {"away_under", 1, 1, 1, kPush},
      // Quarter line 1.25 (half on 1, half on 1.5) on 1-2.
      {"home_over", 1.25, 1, 2, kHalfLoss},
      {"home_under", 1.25, 1, 2, kHalfWin},
      {"away_over", 1.25, 1, 2, kWin},
      {"away_under", 1.25, 1, 2, kLoss},
      // Quarter line 1.75 (half on 1.5, half on 2) on 2-2.
      {"home_over", 1.75, 2, 2, kHalfWin},
      {"home_under", 1.75, 2, 2, kHalfLoss},
      {"away_over", 1.75, 2, 2, kHalfWin},
      {"away_under", 1.75, 2, 2, kHalfLoss},
      // US sports: home team total 23.5 on 24-20.
      {"home_over", 23.5, 24, 20, kWin},
      {"away_under", 23.5, 24, 20, kWin},
  };
  for (const TeamTotalRow& row : table) {
    SCOPED_TRACE(
        fmt::format("{} {:g} on {}-{}", row.side, row.line, row.home_score, row.away_score));
    ExpectOutcome(TeamTotal(row.side, row.line, row.home_score, row.away_score), row.expected);
  }
}

// --- Player props ---

TEST_F(SettleTest, PlayerPropInactivePlayerIsVoidOnBothSides) {
  ExpectOutcome(Prop(Side::kOver, 24.5, std::nullopt), kVoid);
  ExpectOutcome(Prop(Side::kUnder, 24.5, std::nullopt), kVoid);
  ExpectOutcome(Prop(Side::kOver, 0, std::nullopt), kVoid);
}

TEST_F(SettleTest, PlayerPropPlayedWithZeroIsNotVoid) {
  ExpectOutcome(Prop(Side::kOver, 0.5, 0.0), kLoss);
  ExpectOutcome(Prop(Side::kUnder, 0.5, 0.0), kWin);
}

TEST_F(SettleTest, PlayerPropOverUnderOnHalfAndWholeLines) {
  ExpectOutcome(Prop(Side::kOver, 24.5, 25), kWin);
  ExpectOutcome(Prop(Side::kUnder, 24.5, 25), kLoss);
  ExpectOutcome(Prop(Side::kOver, 24.5, 24), kLoss);
  ExpectOutcome(Prop(Side::kUnder, 24.5, 24), kWin);
  ExpectOutcome(Prop(Side::kOver, 25, 25), kPush);
  ExpectOutcome(Prop(Side::kUnder, 25, 25), kPush);
}

TEST_F(SettleTest, PlayerPropFractionalStatSettlesAgainstTheLine) {
  // Stats such as fantasy points or yards per carry need not be whole.
  ExpectOutcome(Prop(Side::kOver, 12.5, 12.6), kWin);
  ExpectOutcome(Prop(Side::kUnder, 12.5, 12.4), kWin);
  ExpectOutcome(Prop(Side::kOver, 12, 12.1), kWin);
  ExpectOutcome(Prop(Side::kUnder, 12, 12.1), kLoss);
}

// --- Parsing names ---

TEST_F(SettleTest, ParseMarketEveryWireName) {
  const std::vector<std::pair<std::string_view, Market>> table = {
      {"moneyline", Market::kMoneyline},    {"moneyline_3way", Market::kMoneyline3Way},
      {"spread", Market::kSpread},          {"total", Market::kTotal},
      {"team_total", Market::kTeamTotal},   {"draw_no_bet", Market::kDrawNoBet},
      {"player_prop", Market::kPlayerProp},
  };
  for (const auto& [name, market] : table) {
    SCOPED_TRACE(std::string(name));
    Result<Market> parsed = ParseMarket(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, market);
  }
}

TEST_F(SettleTest, ParseMarketUnknownNameIsInvalidArgumentNamingTheChoices) {
  for (std::string_view name :
       {"", "Spread", "SPREAD", "spread ", "1x2", "moneyline3way", "totals", "player-prop"}) {
    SCOPED_TRACE(std::string(name));
    ExpectInvalid(ParseMarket(name),
                  "unknown market \"" + std::string(name) +
                      "\"; expected one of moneyline, moneyline_3way, spread, total, team_total, "
                      "draw_no_bet, player_prop");
  }
}

TEST_F(SettleTest, ParseSideEveryWireName) {
  const std::vector<std::pair<std::string_view, Side>> table = {
      {"home", Side::kHome},
      {"away", Side::kAway},
      {"draw", Side::kDraw},
      {"over", Side::kOver},
      {"under", Side::kUnder},
      {"home_over", Side::kHomeOver},
      {"home_under", Side::kHomeUnder},
      {"away_over", Side::kAwayOver},
      {"away_under", Side::kAwayUnder},
  };
  for (const auto& [name, side] : table) {
    SCOPED_TRACE(std::string(name));
    Result<Side> parsed = ParseSide(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, side);
  }
}

TEST_F(SettleTest, ParseSideUnknownNameIsInvalidArgumentNamingTheChoices) {
  for (std::string_view name : {"", "Home", "HOME", "x", "1", "2", "tie", "home-over", "o"}) {
    SCOPED_TRACE(std::string(name));
    ExpectInvalid(ParseSide(name), "unknown selection \"" + std::string(name) +
                                       "\"; expected one of home, away, draw, over, under, "
                                       "home_over, home_under, away_over, away_under");
  }
}

// --- ValidateLeg ---

TEST_F(SettleTest, ValidateLegAcceptsExactlyTheSidesOfEachMarket) {
  constexpr std::array<std::string_view, 9> kSides = {"home",       "away",      "draw",
                                                      "over",       "under",     "home_over",
                                                      "home_under", "away_over", "away_under"};
  const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> table = {
      {"moneyline", {"home", "away"}},
      {"moneyline_3way", {"home", "away", "draw"}},
      {"spread", {"home", "away"}},
      {"total", {"over", "under"}},
      {"team_total", {"home_over", "home_under", "away_over", "away_under"}},
      {"draw_no_bet", {"home", "away"}},
      {"player_prop", {"over", "under"}},
  };
  for (const auto& [market_name, sides] : table) {
    Result<Market> market = ParseMarket(market_name);
    ASSERT_TRUE(market.ok()) << market.status().ToString();
    for (std::string_view side : kSides) {
      SCOPED_TRACE(std::string(market_name) + " " + std::string(side));
      const Status status = ValidateLeg({*market, SideNamed(side), 1.5});
      if (std::find(sides.begin(), sides.end(), side) != sides.end()) {
        ExpectOk(status);
      } else {
        ExpectInvalid(status, "selection: not a selection of this market");
      }
    }
  }
}

TEST_F(SettleTest, ValidateLegLineMustBeAMultipleOfAQuarter) {
  for (Leg leg : {Leg{Market::kSpread, Side::kHome}, Leg{Market::kTotal, Side::kOver},
                  Leg{Market::kTeamTotal, Side::kAwayUnder}}) {
    for (double line : {-2.75, -1.0, -0.25, 0.0, 0.25, 0.5, 0.75, 2.25, 44.5, 220.75}) {
      SCOPED_TRACE(line);
      leg.line = line;
      ExpectOk(ValidateLeg(leg));
    }
    for (double line : {0.1, -0.1, 0.2, 0.3, 2.4, 2.125, -1.125, 1e-9, kNaN, kInf, -kInf}) {
      SCOPED_TRACE(line);
      leg.line = line;
      ExpectInvalid(ValidateLeg(leg), "line: must be a multiple of 0.25");
    }
  }
}

TEST_F(SettleTest, ValidateLegPlayerPropLineMustBeAMultipleOfAHalf) {
  for (Side side : {Side::kOver, Side::kUnder}) {
    for (double line : {0.0, 0.5, 1.0, 24.5, 250.0, 299.5}) {
      SCOPED_TRACE(line);
      ExpectOk(ValidateLeg({Market::kPlayerProp, side, line}));
    }
    for (double line : {0.25, 0.75, 24.25, 24.75, 0.1, 24.6, kNaN, kInf, -kInf}) {
      SCOPED_TRACE(line);
      ExpectInvalid(ValidateLeg({Market::kPlayerProp, side, line}),
                    "line: must be a multiple of 0.5 for a player prop");
    }
  }
}

TEST_F(SettleTest, ValidateLegIgnoresTheLineOfMarketsWithoutOne) {
  for (double line : {0.1, kNaN, kInf}) {
    SCOPED_TRACE(line);
    ExpectOk(ValidateLeg({Market::kMoneyline, Side::kHome, line}));
    ExpectOk(ValidateLeg({Market::kMoneyline3Way, Side::kDraw, line}));
    ExpectOk(ValidateLeg({Market::kDrawNoBet, Side::kAway, line}));
  }
}

TEST_F(SettleTest, ValidateLegChecksTheSelectionBeforeTheLine) {
  ExpectInvalid(ValidateLeg({Market::kSpread, Side::kOver, 0.1}),
                "selection: not a selection of this market");
}

}  // namespace
}  // namespace truthbook::grading
