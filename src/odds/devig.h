// Margin removal ("de-vig"): turns a bookmaker's prices for one market into fair probabilities
// that sum to 1. The method is named by DevigMethod and is stored beside every fair
// probability, so each method has a stable wire name. Pure functions; safe from any thread.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace truthbook::odds {

// Adding a method means: an enumerator here, an entry in kDevigMethods, a case in
// DevigMethodName and in the dispatch in devig.cc (both switches have no default, so -Wswitch
// points at them); the reference tests then pick up its vectors in odds.json by name.
// q_i = 1/d_i are the implied probabilities, B = sum(q_i) the book sum, n the outcome count;
// docs/ODDS.md gives each method's derivation.
enum class DevigMethod {
  kMultiplicative,  // fair_i = q_i / B; no parameter
  kAdditive,        // fair_i = q_i - (B - 1)/n; no parameter. An outcome that would go
                    // negative is set to 0 and the margin is shared by the rest.
  kPower,           // fair_i = q_i^k with k solved so that sum = 1; param k
  kShin,            // Shin (1993): fair_i = (sqrt(z^2 + 4(1 - z) q_i^2 / B) - z) / (2(1 - z)),
                    // z closed form for n = 2, solved for n > 2; param z (insider share)
  kOddsRatio,       // Cheung (2015): odds(q_i) = OR * odds(fair_i), OR solved; param OR
};

// Every method, in a stable order (for listing, parsing and tests).
inline constexpr std::array kDevigMethods = {DevigMethod::kMultiplicative, DevigMethod::kAdditive,
                                             DevigMethod::kPower, DevigMethod::kShin,
                                             DevigMethod::kOddsRatio};

// The stable wire name: "multiplicative", "additive", "power", "shin", "odds_ratio". "unknown" for
// a value outside the enum.
std::string_view DevigMethodName(DevigMethod method);

// The name of the method's parameter: "k" (power), "z" (Shin), "OR" (odds ratio); "" for a
// method without one.
std::string_view DevigParamName(DevigMethod method);

// The method whose DevigMethodName is `name` (exact, lower case).
// Failure: InvalidArgument `unknown de-vig method "x"; expected one of: multiplicative, ...`.
Result<DevigMethod> ParseDevigMethod(std::string_view name);

struct DevigResult {
  std::vector<double> fair;     // one per input price, same order; each in [0, 1], sum 1
  std::optional<double> param;  // the method's fitted parameter (power k, Shin z, odds ratio);
                                // nullopt for methods without one (multiplicative)
  double overround = 0;         // sum(1/d_i) - 1 of the input market

  friend bool operator==(const DevigResult&, const DevigResult&) = default;
};

// The fair probabilities of a market of decimal prices under `method`.
// Success: fair has decimals.size() entries, all finite (never NaN) in [0, 1], summing to 1;
// param is set for power, Shin and odds ratio. The solved parameters are found by bisection
// to full double precision, so the result is deterministic and independent of a start value.
// Failure: InvalidArgument "prices: need at least 2, got N", "prices[i]: must be > 1" (or
// "must be finite"), or for an unknown method value "unknown de-vig method".
Result<DevigResult> Devig(std::span<const double> decimals, DevigMethod method);

}  // namespace truthbook::odds
