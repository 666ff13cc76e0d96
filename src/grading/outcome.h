// Outcomes of a settled bet, their profit, the stake conventions and parlay prices
// (DESIGN §3 "Grading"; docs/GRADING.md). Pure functions and value types; safe from any
// thread.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "base/status.h"

namespace truthbook::grading {

enum class Outcome { kWin, kLoss, kPush, kVoid, kHalfWin, kHalfLoss };

// Every outcome, in a stable order (for counting, listing and tests).
inline constexpr std::array kOutcomes = {Outcome::kWin,  Outcome::kLoss,    Outcome::kPush,
                                         Outcome::kVoid, Outcome::kHalfWin, Outcome::kHalfLoss};

// The wire name: "WIN", "LOSS", "PUSH", "VOID", "HALF_WIN", "HALF_LOSS".
std::string_view OutcomeName(Outcome outcome);

// The outcome whose OutcomeName is `name`. Failure: InvalidArgument naming the choices.
Result<Outcome> ParseOutcome(std::string_view name);

// Profit of `stake` at decimal price `decimal`: S(d-1), -S, 0, 0, S(d-1)/2, -S/2.
// REQUIRES: decimal > 1, stake >= 0.
double Profit(Outcome outcome, double decimal, double stake);

// The share of the stake whose result was decided (not pushed or voided): 1 for WIN and LOSS,
// 1/2 for the half outcomes, 0 for PUSH and VOID. Win rates weigh outcomes by it.
double DecidedShare(Outcome outcome);

// The outcome of the decided share: 1 for WIN and HALF_WIN, 0 for LOSS and HALF_LOSS; the
// `y` that Brier and log loss score. Meaningless for PUSH and VOID (DecidedShare 0).
double Hit(Outcome outcome);

// How a prediction's stake_units becomes the money at risk; stored with every grading.
enum class StakeConvention {
  kRisk,   // "risk": stake = units (1u risked per unit). The default.
  kToWin,  // "to_win": stake = units / (d - 1), so a win pays exactly `units`
};

// "risk" or "to_win".
std::string_view StakeConventionName(StakeConvention convention);

// Failure: InvalidArgument naming the choices.
Result<StakeConvention> ParseStakeConvention(std::string_view name);

// The stake of `units` at decimal price `decimal` under `convention`.
// REQUIRES: decimal > 1, units >= 0.
double Stake(StakeConvention convention, double units, double decimal);

// A parlay leg once settled: its outcome and its decimal price.
struct SettledLeg {
  Outcome outcome = Outcome::kLoss;
  double decimal = 2.0;
};

// A leg's factor in the parlay price: WIN d, PUSH and VOID 1, LOSS 0, HALF_WIN (d+1)/2,
// HALF_LOSS 1/2. REQUIRES: decimal > 1.
double ParlayLegFactor(Outcome outcome, double decimal);

struct ParlaySettlement {
  Outcome outcome = Outcome::kLoss;
  double decimal = 0;  // the return per unit staked, stake included: the product of the factors
  friend bool operator==(const ParlaySettlement&, const ParlaySettlement&) = default;
};

// Settles a parlay: any losing leg loses it; push and void legs drop out (factor 1), half
// legs pay their factor. The outcome is LOSS when the return is 0, VOID when every leg is
// void, PUSH when the return is exactly the stake (every leg pushed or voided, or a half loss
// offset exactly by a win), HALF_LOSS when the return is in (0, 1), WIN above 1. Profit per
// unit is always `decimal - 1`, whatever the outcome's label.
// Failure: InvalidArgument "legs: need at least 2" or "legs[i].decimal: must be > 1".
Result<ParlaySettlement> SettleParlay(std::span<const SettledLeg> legs);

}  // namespace truthbook::grading
