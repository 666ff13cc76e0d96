#include "odds/price.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numeric>
#include <optional>
#include <string>
#include <system_error>

namespace truthbook::odds {

Status ValidateDecimal(double decimal) {
  if (!std::isfinite(decimal)) return InvalidArgument("must be finite");
  if (!(decimal > 1)) return InvalidArgument("must be > 1");
  return Status::Ok();
}

Status ValidateMarket(std::span<const double> decimals) {
  if (decimals.size() < 2) {
    return InvalidArgument("prices: need at least 2, got " + std::to_string(decimals.size()));
  }
  for (size_t i = 0; i < decimals.size(); ++i) {
    Status status = ValidateDecimal(decimals[i]);
    if (!status.ok()) {
      return InvalidArgument("prices[" + std::to_string(i) + "]: " + status.message());
    }
  }
  return Status::Ok();
}

Result<double> AmericanToDecimal(double american) {
  if (!std::isfinite(american)) return InvalidArgument("must be finite");
  if (american >= 100) return 1 + american / 100;
  if (american > -100) return InvalidArgument("must be <= -100 or >= 100");
  const double decimal = 1 + 100 / -american;
  // Past about -9e17 the 100/|A| term is below half an ulp of 1 and vanishes.
  if (!(decimal > 1)) {
    return InvalidArgument("too large in magnitude: the decimal price rounds to 1");
  }
  return decimal;
}

Result<double> DecimalToAmerican(double decimal) {
  RETURN_IF_ERROR(ValidateDecimal(decimal));
  // d = 2 takes the first branch, so even money is +100.
  const double american = decimal >= 2 ? 100 * (decimal - 1) : -100 / (decimal - 1);
  if (!std::isfinite(american)) return InvalidArgument("too large: the American price overflows");
  return american;
}

Result<double> ImpliedProbability(double decimal) {
  RETURN_IF_ERROR(ValidateDecimal(decimal));
  return 1 / decimal;
}

Result<double> DecimalFromProbability(double probability) {
  if (!std::isfinite(probability)) return InvalidArgument("must be finite");
  if (!(probability > 0 && probability < 1)) return InvalidArgument("must be in (0, 1)");
  const double decimal = 1 / probability;
  if (!std::isfinite(decimal)) return InvalidArgument("too small: the decimal price overflows");
  // 1/p > 1 for every double p < 1 (the largest, 1 - 2^-53, gives 1 + 2^-52), so no rounding
  // check is needed on that side.
  return decimal;
}

Result<Price> PriceFromAmerican(double american) {
  ASSIGN_OR_RETURN(const double decimal, AmericanToDecimal(american));
  return Price{
      .decimal = decimal, .american = american == -100 ? 100 : american, .implied = 1 / decimal};
}

Result<Price> PriceFromDecimal(double decimal) {
  ASSIGN_OR_RETURN(const double american, DecimalToAmerican(decimal));
  return Price{.decimal = decimal, .american = american, .implied = 1 / decimal};
}

namespace {

// REQUIRES: ValidateMarket(decimals).ok(), so the sum is finite and positive.
double BookSum(std::span<const double> decimals) {
  double sum = 0;
  for (double d : decimals) sum += 1 / d;
  return sum;
}

}  // namespace

Result<double> Overround(std::span<const double> decimals) {
  RETURN_IF_ERROR(ValidateMarket(decimals));
  return BookSum(decimals) - 1;
}

Result<double> Hold(std::span<const double> decimals) {
  RETURN_IF_ERROR(ValidateMarket(decimals));
  return 1 - 1 / BookSum(decimals);
}

}  // namespace truthbook::odds

namespace truthbook::odds {

Result<Fraction> DecimalToFractional(double decimal) {
  RETURN_IF_ERROR(ValidateDecimal(decimal));
  const double x = decimal - 1;
  if (!(x < 9007199254740992.0)) return InvalidArgument("too large for a fractional price");
  // Continued-fraction convergents h/k of x; the last one with k <= the bound is the best
  // approximation there is with such a denominator (short of semiconvergents, which a price
  // ladder never needs).
  int64_t h_prev = 1, k_prev = 0;                   // h_{-1}, k_{-1}
  int64_t h = static_cast<int64_t>(std::floor(x));  // h_0
  int64_t k = 1;
  double rest = x - std::floor(x);
  while (h == 0 || std::abs(static_cast<double>(h) / static_cast<double>(k) - x) > 1e-9 * x) {
    if (rest <= 0) break;
    const double inverse = 1 / rest;
    if (!(inverse < 1e12)) break;  // the remainder is rounding noise
    const auto a = static_cast<int64_t>(std::floor(inverse));
    rest = inverse - std::floor(inverse);
    const int64_t h_next = a * h + h_prev;
    const int64_t k_next = a * k + k_prev;
    if (k_next > kMaxFractionalDenominator) break;
    h_prev = h;
    k_prev = k;
    h = h_next;
    k = k_next;
  }
  // A price below 1 + 1/1000 can round to 0/1; show the smallest positive fraction instead.
  if (h == 0) return Fraction{.numerator = 1, .denominator = kMaxFractionalDenominator};
  const int64_t g = std::gcd(h, k);  // convergents are already in lowest terms; cheap insurance
  return Fraction{.numerator = h / g, .denominator = k / g};
}

Result<double> FractionalToDecimal(Fraction fraction) {
  if (fraction.numerator <= 0) return InvalidArgument("numerator must be > 0");
  if (fraction.denominator <= 0) return InvalidArgument("denominator must be > 0");
  const double decimal =
      1 + static_cast<double>(fraction.numerator) / static_cast<double>(fraction.denominator);
  if (!(decimal > 1)) return InvalidArgument("too small: the decimal price rounds to 1");
  return decimal;
}

std::string FormatFractional(Fraction fraction) {
  return std::to_string(fraction.numerator) + "/" + std::to_string(fraction.denominator);
}

namespace {

// A positive decimal integer with no sign or spaces, or nullopt.
std::optional<int64_t> ParsePositiveInteger(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() == '-' || ec != std::errc() || ptr != end || value <= 0) {
    return std::nullopt;
  }
  return value;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Result<Fraction> ParseFractional(std::string_view text) {
  if (EqualsIgnoreCase(text, "evens") || EqualsIgnoreCase(text, "evs")) return Fraction{};
  const size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    std::optional<int64_t> numerator = ParsePositiveInteger(text.substr(0, slash));
    std::optional<int64_t> denominator = ParsePositiveInteger(text.substr(slash + 1));
    if (numerator && denominator) {
      return Fraction{.numerator = *numerator, .denominator = *denominator};
    }
  }
  return InvalidArgument("must be n/m with positive integers n and m");
}

Result<double> DecimalToHongKong(double decimal) {
  RETURN_IF_ERROR(ValidateDecimal(decimal));
  return decimal - 1;
}

Result<double> HongKongToDecimal(double hk) {
  if (!std::isfinite(hk)) return InvalidArgument("must be finite");
  if (!(hk > 0)) return InvalidArgument("must be > 0");
  const double decimal = 1 + hk;
  if (!(decimal > 1)) return InvalidArgument("too small: the decimal price rounds to 1");
  if (!std::isfinite(decimal)) return InvalidArgument("too large: the decimal price overflows");
  return decimal;
}

Result<double> DecimalToMalay(double decimal) {
  RETURN_IF_ERROR(ValidateDecimal(decimal));
  // -1/(d - 1) for d >= 2 lies in [-1, 0) and never overflows.
  return decimal < 2 ? decimal - 1 : -1 / (decimal - 1);
}

Result<double> MalayToDecimal(double malay) {
  if (!std::isfinite(malay)) return InvalidArgument("must be finite");
  if (malay > 0 && malay <= 1) {
    const double decimal = 1 + malay;
    if (!(decimal > 1)) return InvalidArgument("too small: the decimal price rounds to 1");
    return decimal;
  }
  if (malay >= -1 && malay < 0) {
    const double decimal = 1 + 1 / -malay;
    if (!std::isfinite(decimal)) {
      return InvalidArgument("too small in magnitude: the decimal price overflows");
    }
    return decimal;
  }
  return InvalidArgument("must be in [-1, 0) or (0, 1]");
}

Result<double> DecimalToIndonesian(double decimal) {
  RETURN_IF_ERROR(ValidateDecimal(decimal));
  const double indonesian = decimal >= 2 ? decimal - 1 : -1 / (decimal - 1);
  if (!std::isfinite(indonesian)) {
    return InvalidArgument("too large: the Indonesian price overflows");
  }
  return indonesian;
}

Result<double> IndonesianToDecimal(double indonesian) {
  if (!std::isfinite(indonesian)) return InvalidArgument("must be finite");
  if (indonesian >= 1) {
    const double decimal = 1 + indonesian;
    if (!std::isfinite(decimal)) return InvalidArgument("too large: the decimal price overflows");
    return decimal;
  }
  if (indonesian > -1) return InvalidArgument("must be <= -1 or >= 1");
  const double decimal = 1 + 1 / -indonesian;
  if (!(decimal > 1)) {
    return InvalidArgument("too large in magnitude: the decimal price rounds to 1");
  }
  return decimal;
}

}  // namespace truthbook::odds
