// A price quoted in any one format, read from text and shown in every format: what
// `truthbook odds convert` prints. Pure functions and value types; safe from any thread.
// Error messages name no field; callers prefix it (the CLI names the VALUE argument).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "base/status.h"

namespace truthbook::odds {

enum class OddsFormat {
  kAmerican,    // "-110", "+150", "150"
  kDecimal,     // "1.9091"
  kFractional,  // "10/11", "6/4", "evens"
  kHongKong,    // "0.9091" (d - 1)
  kMalay,       // "0.9091" or "-0.6667"
  kIndonesian,  // "-1.1", "1.5" (American / 100)
};

// Every format, in a stable order (for listing, parsing and tests).
inline constexpr std::array kOddsFormats = {OddsFormat::kAmerican,   OddsFormat::kDecimal,
                                            OddsFormat::kFractional, OddsFormat::kHongKong,
                                            OddsFormat::kMalay,      OddsFormat::kIndonesian};

// The stable name: "american", "decimal", "fractional", "hk", "malay", "indonesian";
// "unknown" for a value outside the enum.
std::string_view OddsFormatName(OddsFormat format);

// The format whose OddsFormatName is `name` (exact, lower case).
// Failure: InvalidArgument `unknown odds format "x"; expected one of: american, ...`.
Result<OddsFormat> ParseOddsFormat(std::string_view name);

// One price in every format. Numbers are exact conversions of `decimal` (no rounding for
// display); `fractional` is DecimalToFractional's best approximation, or the quote's own n/m
// (unreduced) when it was quoted fractionally.
struct Quote {
  double american = 100;
  double decimal = 2;
  std::string fractional = "1/1";
  double hk = 1;
  double malay = -1;
  double indonesian = 1;
  double implied = 0.5;

  friend bool operator==(const Quote&, const Quote&) = default;
};

// The price `text`, written in `format`, in every format. A quote keeps its own format
// exactly (American -110 stays -110; fractional "6/4" stays "6/4"); the others derive from the
// decimal price.
// Failure: InvalidArgument "not a number: \"x\"" for unparsable text (a leading '+' is
// allowed), or the conversion's own message (e.g. "must be <= -100 or >= 100").
Result<Quote> QuoteFromText(OddsFormat format, std::string_view text);

// The price `decimal` in every format. Failure: InvalidArgument from the conversions.
Result<Quote> QuoteFromDecimal(double decimal);

}  // namespace truthbook::odds
