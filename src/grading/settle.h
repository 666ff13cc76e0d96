// Settlement of one bet (a "leg") by the rules sportsbooks publish (DESIGN §3 "Grading";
// docs/GRADING.md): moneylines, 1X2, spreads and totals with Asian quarter lines,
// draw-no-bet, team totals and player props. Pure functions over plain numbers: the caller
// picks the numbers a leg settles on (90-minute score for soccer, final score including
// overtime for US sports). Safe from any thread.
#pragma once

#include <optional>
#include <string_view>

#include "base/status.h"
#include "grading/outcome.h"

namespace truthbook::grading {

enum class Market {
  kMoneyline,      // home | away; a tie pushes
  kMoneyline3Way,  // home | draw | away (1X2)
  kSpread,         // home | away, line is the picked side's handicap
  kTotal,          // over | under the match total
  kTeamTotal,      // home_over | home_under | away_over | away_under
  kDrawNoBet,      // home | away; a draw pushes (stakes returned)
  kPlayerProp,     // over | under the player's stat; void when the player did not play
};

enum class Side {
  kHome,
  kAway,
  kDraw,
  kOver,
  kUnder,
  kHomeOver,
  kHomeUnder,
  kAwayOver,
  kAwayUnder
};

// Wire names are API.md's: "moneyline", "moneyline_3way", ..., and "home", "draw",
// "home_over", ... Failure: InvalidArgument naming the choices.
Result<Market> ParseMarket(std::string_view name);
Result<Side> ParseSide(std::string_view name);

// What was bet: the market, the picked side and, where the market has one, the line.
struct Leg {
  Market market = Market::kMoneyline;
  Side side = Side::kHome;
  double line = 0;  // ignored by moneyline, 1X2 and draw-no-bet
};

// OK when `side` belongs to `market` and `line` is a multiple of 0.25 where the market has a
// line (a player prop's line must be a multiple of 0.5: a stat need not be whole, and a
// quarter line on a fractional stat could split into a win and a loss).
// Failure: InvalidArgument "selection: ..." or "line: ...".
Status ValidateLeg(const Leg& leg);

// Settles `value + handicap` against zero: WIN above, LOSS below, PUSH at zero. A quarter
// handicap (k ± 0.25) splits the stake over handicap ± 0.25: a win and a push is HALF_WIN, a
// loss and a push HALF_LOSS. Spreads pass the picked side's margin and its line; overs pass
// the total and -line; unders pass -total and +line.
// REQUIRES: handicap is a multiple of 0.25; for a quarter handicap, value is a whole number.
Outcome SettleHandicap(double value, double handicap);

// Settles a leg on the final score.
// REQUIRES: ValidateLeg(leg) is OK, leg.market != kPlayerProp.
Outcome SettleOnScore(const Leg& leg, double home_score, double away_score);

// Settles a player prop on the player's stat; nullopt means the player did not play (VOID).
// REQUIRES: ValidateLeg(leg) is OK, leg.market == kPlayerProp.
Outcome SettleProp(const Leg& leg, std::optional<double> stat);

}  // namespace truthbook::grading
