#include "odds/price.h"

#include <cmath>
#include <string>

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
