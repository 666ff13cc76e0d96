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

// Additive, power, Shin and odds-ratio methods are planned (DESIGN.md §3). Adding one means:
// an enumerator here, an entry in kDevigMethods, a case in DevigMethodName and in the dispatch
// in devig.cc (both switches have no default, so -Wswitch points at them); the reference
// tests then pick up its vectors in odds.json by name.
enum class DevigMethod {
  kMultiplicative,  // fair_i = (1/d_i) / sum_j(1/d_j); no parameter
};

// Every method, in a stable order (for listing, parsing and tests).
inline constexpr std::array kDevigMethods = {DevigMethod::kMultiplicative};

// The stable wire name: "multiplicative". "unknown" for a value outside the enum.
std::string_view DevigMethodName(DevigMethod method);

// The method whose DevigMethodName is `name` (exact, lower case).
// Failure: InvalidArgument `unknown de-vig method "x"; expected one of: multiplicative`.
Result<DevigMethod> ParseDevigMethod(std::string_view name);

struct DevigResult {
  std::vector<double> fair;     // one per input price, same order; each in [0, 1], sum 1
  std::optional<double> param;  // the method's fitted parameter (power k, Shin z, odds ratio);
                                // nullopt for methods without one (multiplicative)
  double overround = 0;         // sum(1/d_i) - 1 of the input market

  friend bool operator==(const DevigResult&, const DevigResult&) = default;
};

// The fair probabilities of a market of decimal prices under `method`.
// Success: fair has decimals.size() entries, all finite (never NaN), summing to 1.
// Failure: InvalidArgument "prices: need at least 2, got N", "prices[i]: must be > 1" (or
// "must be finite"), or for an unknown method value "unknown de-vig method".
Result<DevigResult> Devig(std::span<const double> decimals, DevigMethod method);

}  // namespace truthbook::odds
