#include "grading/settle.h"

#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace truthbook::grading {
namespace {

constexpr std::array<std::pair<std::string_view, Market>, 7> kMarketNames = {{
    {"moneyline", Market::kMoneyline},
    {"moneyline_3way", Market::kMoneyline3Way},
    {"spread", Market::kSpread},
    {"total", Market::kTotal},
    {"team_total", Market::kTeamTotal},
    {"draw_no_bet", Market::kDrawNoBet},
    {"player_prop", Market::kPlayerProp},
}};

constexpr std::array<std::pair<std::string_view, Side>, 9> kSideNames = {{
    {"home", Side::kHome},
    {"away", Side::kAway},
    {"draw", Side::kDraw},
    {"over", Side::kOver},
    {"under", Side::kUnder},
    {"home_over", Side::kHomeOver},
    {"home_under", Side::kHomeUnder},
    {"away_over", Side::kAwayOver},
    {"away_under", Side::kAwayUnder},
}};

template <typename T, size_t N>
Result<T> ParseName(const std::array<std::pair<std::string_view, T>, N>& names,
                    std::string_view what, std::string_view name) {
  std::string expected;
  for (const auto& [n, value] : names) {
    if (n == name) return value;
    expected += (expected.empty() ? "" : ", ") + std::string(n);
  }
  return InvalidArgument("unknown " + std::string(what) + " \"" + std::string(name) +
                         "\"; expected one of " + expected);
}

bool SideBelongs(Market market, Side side) {
  switch (market) {
    case Market::kMoneyline:
    case Market::kSpread:
    case Market::kDrawNoBet:
      return side == Side::kHome || side == Side::kAway;
    case Market::kMoneyline3Way:
      return side == Side::kHome || side == Side::kAway || side == Side::kDraw;
    case Market::kTotal:
    case Market::kPlayerProp:
      return side == Side::kOver || side == Side::kUnder;
    case Market::kTeamTotal:
      return side == Side::kHomeOver || side == Side::kHomeUnder || side == Side::kAwayOver ||
             side == Side::kAwayUnder;
  }
  return false;
}

bool HasLine(Market market) {
  return market == Market::kSpread || market == Market::kTotal || market == Market::kTeamTotal ||
         market == Market::kPlayerProp;
}

Outcome Sign(double x) {
  if (x > 0) return Outcome::kWin;
  if (x < 0) return Outcome::kLoss;
  return Outcome::kPush;
}

// Over settles `value` against +line, under against -line.
Outcome OverUnder(bool over, double value, double line) {
  return over ? SettleHandicap(value, -line) : SettleHandicap(-value, line);
}

}  // namespace

Result<Market> ParseMarket(std::string_view name) {
  return ParseName(kMarketNames, "market", name);
}

Result<Side> ParseSide(std::string_view name) { return ParseName(kSideNames, "selection", name); }

Status ValidateLeg(const Leg& leg) {
  if (!SideBelongs(leg.market, leg.side)) {
    return InvalidArgument("selection: not a selection of this market");
  }
  if (!HasLine(leg.market)) return Status::Ok();
  const double step = leg.market == Market::kPlayerProp ? 2 : 4;
  if (!std::isfinite(leg.line) || std::fmod(leg.line * step, 1.0) != 0) {
    return InvalidArgument(leg.market == Market::kPlayerProp
                               ? "line: must be a multiple of 0.5 for a player prop"
                               : "line: must be a multiple of 0.25");
  }
  return Status::Ok();
}

Outcome SettleHandicap(double value, double handicap) {
  const double quarter = std::fmod(handicap * 2, 1.0);  // ±0.5 exactly for k ± 0.25
  if (quarter == 0) return Sign(value + handicap);
  const Outcome low = Sign(value + handicap - 0.25);
  const Outcome high = Sign(value + handicap + 0.25);
  if (low == high) return low;
  // The halves are half a goal apart and value is whole, so one half pushes.
  return low == Outcome::kLoss && high == Outcome::kPush ? Outcome::kHalfLoss : Outcome::kHalfWin;
}

Outcome SettleOnScore(const Leg& leg, double home_score, double away_score) {
  const double margin = leg.side == Side::kAway ? away_score - home_score : home_score - away_score;
  switch (leg.market) {
    case Market::kMoneyline:
    case Market::kDrawNoBet:
      return Sign(margin);
    case Market::kMoneyline3Way:
      if (leg.side == Side::kDraw) return home_score == away_score ? Outcome::kWin : Outcome::kLoss;
      return margin > 0 ? Outcome::kWin : Outcome::kLoss;
    case Market::kSpread:
      return SettleHandicap(margin, leg.line);
    case Market::kTotal:
      return OverUnder(leg.side == Side::kOver, home_score + away_score, leg.line);
    case Market::kTeamTotal: {
      const bool home = leg.side == Side::kHomeOver || leg.side == Side::kHomeUnder;
      const bool over = leg.side == Side::kHomeOver || leg.side == Side::kAwayOver;
      return OverUnder(over, home ? home_score : away_score, leg.line);
    }
    case Market::kPlayerProp:
      break;  // REQUIRES excludes it
  }
  return Outcome::kVoid;
}

Outcome SettleProp(const Leg& leg, std::optional<double> stat) {
  if (!stat) return Outcome::kVoid;
  return OverUnder(leg.side == Side::kOver, *stat, leg.line);
}

}  // namespace truthbook::grading
