#include "service/validate.h"

#include <array>
#include <cmath>
#include <string>

namespace truthbook::service {
namespace {

struct MarketRule {
  std::string_view market;
  std::array<std::string_view, 4> selections;  // empty entries unused
  bool needs_line;
};

constexpr std::array<MarketRule, 7> kMarkets = {{
    {"moneyline", {"home", "away"}, false},
    {"moneyline_3way", {"home", "draw", "away"}, false},
    {"spread", {"home", "away"}, true},
    {"total", {"over", "under"}, true},
    {"team_total", {"home_over", "home_under", "away_over", "away_under"}, true},
    {"draw_no_bet", {"home", "away"}, false},
    {"player_prop", {"over", "under"}, true},
}};

const MarketRule* FindMarket(std::string_view market) {
  for (const MarketRule& rule : kMarkets) {
    if (rule.market == market) return &rule;
  }
  return nullptr;
}

std::string Field(std::string_view field, std::string_view detail) {
  return std::string(field) + ": " + std::string(detail);
}

}  // namespace

Status RequireText(std::string_view field, std::string_view value) {
  if (value.empty()) return InvalidArgument(Field(field, "must not be empty"));
  if (value.size() > 200) return InvalidArgument(Field(field, "must be at most 200 bytes"));
  return Status::Ok();
}

Status ValidateMarket(std::string_view field, std::string_view market) {
  if (FindMarket(market) != nullptr) return Status::Ok();
  return InvalidArgument(Field(field,
                               "unknown market; expected one of moneyline, moneyline_3way, "
                               "spread, total, team_total, draw_no_bet, player_prop"));
}

Status ValidateSelection(std::string_view field, std::string_view market,
                         std::string_view selection, const std::optional<double>& line) {
  const MarketRule* rule = FindMarket(market);
  bool known = false;
  std::string expected;
  for (std::string_view s : rule->selections) {
    if (s.empty()) continue;
    known = known || s == selection;
    expected += expected.empty() ? std::string(s) : ", " + std::string(s);
  }
  std::string prefix(field);
  if (!known) {
    return InvalidArgument(prefix + ".selection: unknown selection for " + std::string(market) +
                           "; expected one of " + expected);
  }
  if (rule->needs_line && !line) {
    return InvalidArgument(prefix + ".line: required for " + std::string(market));
  }
  if (line && (!std::isfinite(*line) || std::fmod(*line * 4, 1.0) != 0 || std::abs(*line) > 1000)) {
    return InvalidArgument(prefix + ".line: must be a finite multiple of 0.25");
  }
  // A stat need not be whole, and a quarter line on 27.3 points would split into a win and a
  // loss, which no sportsbook offers.
  if (line && market == "player_prop" && std::fmod(*line * 2, 1.0) != 0) {
    return InvalidArgument(prefix + ".line: must be a multiple of 0.5 for player_prop");
  }
  return Status::Ok();
}

std::string DevigGroup(std::string_view market, std::string_view selection) {
  if (market != "team_total") return "";
  return std::string(selection.substr(0, selection.find('_')));
}

Status ValidateProbability(std::string_view field, double p) {
  if (std::isfinite(p) && p > 0 && p < 1) return Status::Ok();
  return InvalidArgument(Field(field, "must be a probability in (0, 1)"));
}

Result<odds::Price> NormalizePrice(std::string_view field, const PriceInput& price) {
  if (price.american.has_value() == price.decimal.has_value()) {
    return InvalidArgument(Field(field, "give exactly one of american or decimal"));
  }
  Result<odds::Price> p = price.american ? odds::PriceFromAmerican(*price.american)
                                         : odds::PriceFromDecimal(*price.decimal);
  if (!p.ok()) {
    return InvalidArgument(std::string(field) + (price.american ? ".american: " : ".decimal: ") +
                           p.status().message());
  }
  return p;
}

}  // namespace truthbook::service
