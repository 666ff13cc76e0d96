// Price formats (American, decimal, fractional, Hong Kong, Malay, Indonesian, implied
// probability) and the margin of a market; docs/ODDS.md states every convention.
// Pure functions over doubles: no I/O, no clock, no state; safe to call from any thread.
// Every function validates its input and never returns NaN or infinity: a value that would
// overflow or round onto an invalid price is an InvalidArgument error instead.
// Error messages name no field; callers prefix the field ("quotes[1].american: ...").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

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

// --- Fractional, Hong Kong, Malay and Indonesian (docs/ODDS.md) ---

// A fractional price "numerator/denominator": profit per unit staked is numerator/denominator.
// Both are positive; Fraction values built here are in lowest terms.
struct Fraction {
  int64_t numerator = 1;
  int64_t denominator = 1;

  friend bool operator==(const Fraction&, const Fraction&) = default;
};

// The largest denominator DecimalToFractional will use (a bookmaker's ladder never comes close).
inline constexpr int64_t kMaxFractionalDenominator = 1000;

// Decimal to fractional: the best rational approximation of d - 1 with a denominator of at
// most kMaxFractionalDenominator, in lowest terms. It is the first continued-fraction
// convergent within 1e-9 (relative) of d - 1, so every price that is exactly n/m with
// m <= 1000 comes back exactly (1.5 -> 1/2, 2.5 -> 3/2, 1 + 100/110 -> 10/11); other prices
// get the nearest convergent (an approximation, for display).
// Failure: InvalidArgument from ValidateDecimal, or "too large for a fractional price" when
// d - 1 >= 2^53 (the numerator would not be exact).
Result<Fraction> DecimalToFractional(double decimal);

// Fractional to decimal: 1 + numerator/denominator.
// Failure: InvalidArgument "numerator must be > 0" or "denominator must be > 0".
Result<double> FractionalToDecimal(Fraction fraction);

// "n/m", e.g. "6/4" (not reduced: the quote is kept as written) or "10/11".
std::string FormatFractional(Fraction fraction);

// Parses "n/m" with positive integers n and m (no spaces, no sign). "evens" and "evs" (any
// case) are 1/1.
// Failure: InvalidArgument "must be n/m with positive integers n and m".
Result<Fraction> ParseFractional(std::string_view text);

// Hong Kong odds are the profit per unit staked: hk = d - 1 (> 0).
// Failure: InvalidArgument from ValidateDecimal.
Result<double> DecimalToHongKong(double decimal);
// d = 1 + hk. Failure: InvalidArgument "must be finite" or "must be > 0".
Result<double> HongKongToDecimal(double hk);

// Malay odds: 1 < d < 2 -> d - 1 (in (0, 1)); d >= 2 -> -1/(d - 1) (in
// [-1, 0)). Even money (2.0) is -1, as odds.json has it.
// Failure: InvalidArgument from ValidateDecimal.
Result<double> DecimalToMalay(double decimal);
// m in (0, 1] -> d = 1 + m; m in [-1, 0) -> d = 1 + 1/|m|. Both 1 and -1 are even money.
// Failure: InvalidArgument "must be finite", "must be in [-1, 0) or (0, 1]", or "too small in
// magnitude: the decimal price overflows" for a subnormal negative m.
Result<double> MalayToDecimal(double malay);

// Indonesian odds (American / 100): d >= 2 -> d - 1 (>= 1); 1 < d < 2 -> -1/(d - 1) (< -1).
// Even money (2.0) is +1.
// Failure: InvalidArgument from ValidateDecimal, or "too large: the Indonesian price
// overflows".
Result<double> DecimalToIndonesian(double decimal);
// i >= 1 -> d = 1 + i; i <= -1 -> d = 1 + 1/|i|. Both 1 and -1 are even money.
// Failure: InvalidArgument "must be finite", "must be <= -1 or >= 1", or "too large in
// magnitude: the decimal price rounds to 1".
Result<double> IndonesianToDecimal(double indonesian);

}  // namespace truthbook::odds
