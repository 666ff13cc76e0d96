#include "odds/quote.h"

#include <charconv>
#include <string>
#include <system_error>

#include "odds/price.h"

namespace truthbook::odds {

namespace {

// A finite or infinite double written in full (a leading '+' allowed), or an error.
Result<double> ParseNumber(std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  double value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || digits.starts_with('+') || ec != std::errc() || ptr != end) {
    return InvalidArgument("not a number: \"" + std::string(text) + "\"");
  }
  return value;
}

// The quote's decimal price from text in `format`.
Result<double> DecimalFromText(OddsFormat format, std::string_view text) {
  if (format == OddsFormat::kFractional) {
    ASSIGN_OR_RETURN(const Fraction fraction, ParseFractional(text));
    return FractionalToDecimal(fraction);
  }
  ASSIGN_OR_RETURN(const double value, ParseNumber(text));
  switch (format) {
    case OddsFormat::kAmerican:
      return AmericanToDecimal(value);
    case OddsFormat::kDecimal:
      RETURN_IF_ERROR(ValidateDecimal(value));
      return value;
    case OddsFormat::kFractional:
      break;  // handled above
    case OddsFormat::kHongKong:
      return HongKongToDecimal(value);
    case OddsFormat::kMalay:
      return MalayToDecimal(value);
    case OddsFormat::kIndonesian:
      return IndonesianToDecimal(value);
  }
  return InvalidArgument("unknown odds format");
}

}  // namespace

std::string_view OddsFormatName(OddsFormat format) {
  switch (format) {
    case OddsFormat::kAmerican:
      return "american";
    case OddsFormat::kDecimal:
      return "decimal";
    case OddsFormat::kFractional:
      return "fractional";
    case OddsFormat::kHongKong:
      return "hk";
    case OddsFormat::kMalay:
      return "malay";
    case OddsFormat::kIndonesian:
      return "indonesian";
  }
  return "unknown";
}

Result<OddsFormat> ParseOddsFormat(std::string_view name) {
  std::string expected;
  for (OddsFormat format : kOddsFormats) {
    if (OddsFormatName(format) == name) return format;
    if (!expected.empty()) expected += ", ";
    expected += OddsFormatName(format);
  }
  return InvalidArgument("unknown odds format \"" + std::string(name) +
                         "\"; expected one of: " + expected);
}

Result<Quote> QuoteFromDecimal(double decimal) {
  ASSIGN_OR_RETURN(const Price price, PriceFromDecimal(decimal));
  ASSIGN_OR_RETURN(const Fraction fraction, DecimalToFractional(decimal));
  ASSIGN_OR_RETURN(const double hk, DecimalToHongKong(decimal));
  ASSIGN_OR_RETURN(const double malay, DecimalToMalay(decimal));
  ASSIGN_OR_RETURN(const double indonesian, DecimalToIndonesian(decimal));
  return Quote{.american = price.american,
               .decimal = price.decimal,
               .fractional = FormatFractional(fraction),
               .hk = hk,
               .malay = malay,
               .indonesian = indonesian,
               .implied = price.implied};
}

Result<Quote> QuoteFromText(OddsFormat format, std::string_view text) {
  ASSIGN_OR_RETURN(const double decimal, DecimalFromText(format, text));
  ASSIGN_OR_RETURN(Quote quote, QuoteFromDecimal(decimal));
  if (format == OddsFormat::kAmerican) {
    ASSIGN_OR_RETURN(const Price price, PriceFromAmerican(*ParseNumber(text)));
    quote.american = price.american;
    quote.indonesian = price.american / 100;  // exact from the quote: -110 -> -1.1
  } else if (format == OddsFormat::kFractional) {
    ASSIGN_OR_RETURN(const Fraction fraction, ParseFractional(text));
    quote.fractional = FormatFractional(fraction);  // "6/4" as written; "evens" as "1/1"
  }
  return quote;
}

}  // namespace truthbook::odds
