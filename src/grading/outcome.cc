#include "grading/outcome.h"

#include <cmath>
#include <string>

namespace truthbook::grading {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kWin:
      return "WIN";
    case Outcome::kLoss:
      return "LOSS";
    case Outcome::kPush:
      return "PUSH";
    case Outcome::kVoid:
      return "VOID";
    case Outcome::kHalfWin:
      return "HALF_WIN";
    case Outcome::kHalfLoss:
      return "HALF_LOSS";
  }
  return "unknown";
}

Result<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o : kOutcomes) {
    if (OutcomeName(o) == name) return o;
  }
  return InvalidArgument("unknown outcome \"" + std::string(name) +
                         "\"; expected one of WIN, LOSS, PUSH, VOID, HALF_WIN, HALF_LOSS");
}

double Profit(Outcome outcome, double decimal, double stake) {
  switch (outcome) {
    case Outcome::kWin:
      return stake * (decimal - 1);
    case Outcome::kLoss:
      return -stake;
    case Outcome::kPush:
    case Outcome::kVoid:
      return 0;
    case Outcome::kHalfWin:
      return stake * (decimal - 1) / 2;
    case Outcome::kHalfLoss:
      return -stake / 2;
  }
  return 0;
}

double DecidedShare(Outcome outcome) {
  switch (outcome) {
    case Outcome::kWin:
    case Outcome::kLoss:
      return 1;
    case Outcome::kHalfWin:
    case Outcome::kHalfLoss:
      return 0.5;
    case Outcome::kPush:
    case Outcome::kVoid:
      return 0;
  }
  return 0;
}

double Hit(Outcome outcome) {
  return outcome == Outcome::kWin || outcome == Outcome::kHalfWin ? 1 : 0;
}

std::string_view StakeConventionName(StakeConvention convention) {
  return convention == StakeConvention::kToWin ? "to_win" : "risk";
}

Result<StakeConvention> ParseStakeConvention(std::string_view name) {
  if (name == "risk") return StakeConvention::kRisk;
  if (name == "to_win") return StakeConvention::kToWin;
  return InvalidArgument("unknown stake convention \"" + std::string(name) +
                         "\"; expected one of risk, to_win");
}

double Stake(StakeConvention convention, double units, double decimal) {
  return convention == StakeConvention::kToWin ? units / (decimal - 1) : units;
}

double ParlayLegFactor(Outcome outcome, double decimal) {
  switch (outcome) {
    case Outcome::kWin:
      return decimal;
    case Outcome::kLoss:
      return 0;
    case Outcome::kPush:
    case Outcome::kVoid:
      return 1;
    case Outcome::kHalfWin:
      return (decimal + 1) / 2;
    case Outcome::kHalfLoss:
      return 0.5;
  }
  return 0;
}

Result<ParlaySettlement> SettleParlay(std::span<const SettledLeg> legs) {
  if (legs.size() < 2) return InvalidArgument("legs: need at least 2");
  double product = 1;
  bool all_void = true;
  for (size_t i = 0; i < legs.size(); ++i) {
    const SettledLeg& leg = legs[i];
    if (!std::isfinite(leg.decimal) || leg.decimal <= 1) {
      return InvalidArgument("legs[" + std::to_string(i) + "].decimal: must be > 1");
    }
    product *= ParlayLegFactor(leg.outcome, leg.decimal);
    all_void = all_void && leg.outcome == Outcome::kVoid;
  }
  Outcome outcome = Outcome::kWin;
  if (product == 0) {
    outcome = Outcome::kLoss;
  } else if (all_void) {
    outcome = Outcome::kVoid;
  } else if (product == 1) {
    outcome = Outcome::kPush;
  } else if (product < 1) {
    outcome = Outcome::kHalfLoss;
  }
  return ParlaySettlement{outcome, product};
}

}  // namespace truthbook::grading
