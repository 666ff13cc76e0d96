// Price formats (American, decimal, implied probability) and the margin of a market.
// Pure functions over doubles: no I/O, no clock, no state; safe to call from any thread.
// Every function validates its input and never returns NaN or infinity: a value that would
// overflow or round onto an invalid price is an InvalidArgument error instead.
// Error messages name no field; callers prefix the field ("quotes[1].american: ...").
#pragma once

#include <span>

#include "base/status.h"

namespace truthbook::odds {

// OK when `decimal` is a valid decimal price: finite and > 1.
// Failure: InvalidArgument "must be finite" or "must be > 1".
Status ValidateDecimal(double decimal);

// OK when `decimals` is a market of at least 2 valid decimal prices.
// Failure: InvalidArgument "prices: need at least 2, got N" or "prices[i]: <reason>".
Status ValidateMarket(std::span<const double> decimals);

// American odds to decimal: A >= +100 -> 1 + A/100; A <= -100 -> 1 + 100/|A|.
// Failure: InvalidArgument "must be finite", "must be <= -100 or >= 100" (for -100 < A < 100),
// or, for A so negative that the decimal price rounds to 1 (below about -9e17), "too large
// in magnitude: the decimal price rounds to 1".
Result<double> AmericanToDecimal(double american);

// Decimal to American odds: d >= 2 -> +100(d - 1); 1 < d < 2 -> -100/(d - 1). Even money (2.0)
// is +100, never -100.
// Failure: InvalidArgument from ValidateDecimal, or "too large: the American price overflows"
// for d above about 1.8e306.
Result<double> DecimalToAmerican(double decimal);

// The probability implied by a decimal price, 1/d, in (0, 1).
// Failure: InvalidArgument from ValidateDecimal.
Result<double> ImpliedProbability(double decimal);

// The decimal price whose implied probability is p, 1/p.
// REQUIRES: 0 < p < 1 (checked: InvalidArgument "must be finite" or "must be in (0, 1)", or
// "too small: the decimal price overflows" for subnormal p).
Result<double> DecimalFromProbability(double probability);

// One price in every format. A value type; build it with PriceFromAmerican/PriceFromDecimal so
// that the three fields agree.
struct Price {
  double decimal = 2.0;   // > 1
  double american = 100;  // <= -100 or >= +100; even money is +100
  double implied = 0.5;   // 1 / decimal

  friend bool operator==(const Price&, const Price&) = default;
};

// The price quoted in American odds. `american` is kept exactly as given (so -110 stays -110
// rather than a round trip through decimal), except that -100 is written as +100.
// Failure: as AmericanToDecimal.
Result<Price> PriceFromAmerican(double american);

// The price quoted in decimal odds. Failure: as DecimalToAmerican.
Result<Price> PriceFromDecimal(double decimal);

// The overround (vig) of a market: sum(1/d_i) - 1. Negative for an arbitrage market.
// Failure: InvalidArgument from ValidateMarket.
Result<double> Overround(std::span<const double> decimals);

// The bookmaker's hold (theoretical margin on a balanced book): 1 - 1/sum(1/d_i).
// Failure: InvalidArgument from ValidateMarket.
Result<double> Hold(std::span<const double> decimals);

}  // namespace truthbook::odds
