#include "odds/devig.h"

#include <cmath>
#include <string>

#include "odds/price.h"

namespace truthbook::odds {

namespace {

// A validated market as implied probabilities: what every method starts from.
struct ImpliedMarket {
  std::vector<double> implied;  // 1/d_i, each in (0, 1)
  double booksum = 0;           // sum of implied; > 0 and finite
};

// Each method returns fair probabilities and its parameter; a Result so that the iterative
// methods to come can report a solve that does not converge.
Result<DevigResult> Multiplicative(const ImpliedMarket& market) {
  DevigResult result;
  result.fair.reserve(market.implied.size());
  for (double q : market.implied) result.fair.push_back(q / market.booksum);
  return result;
}

Result<DevigResult> Dispatch(const ImpliedMarket& market, DevigMethod method) {
  switch (method) {
    case DevigMethod::kMultiplicative:
      return Multiplicative(market);
  }
  return InvalidArgument("unknown de-vig method");
}

}  // namespace

std::string_view DevigMethodName(DevigMethod method) {
  switch (method) {
    case DevigMethod::kMultiplicative:
      return "multiplicative";
  }
  return "unknown";
}

Result<DevigMethod> ParseDevigMethod(std::string_view name) {
  std::string expected;
  for (DevigMethod method : kDevigMethods) {
    if (DevigMethodName(method) == name) return method;
    if (!expected.empty()) expected += ", ";
    expected += DevigMethodName(method);
  }
  return InvalidArgument("unknown de-vig method \"" + std::string(name) +
                         "\"; expected one of: " + expected);
}

Result<DevigResult> Devig(std::span<const double> decimals, DevigMethod method) {
  RETURN_IF_ERROR(ValidateMarket(decimals));
  ImpliedMarket market;
  market.implied.reserve(decimals.size());
  for (double d : decimals) {
    market.implied.push_back(1 / d);
    market.booksum += market.implied.back();
  }
  ASSIGN_OR_RETURN(DevigResult result, Dispatch(market, method));
  // The contract is "never NaN"; a method that breaks it is a bug, not bad input.
  for (double p : result.fair) {
    if (!std::isfinite(p)) {
      return Internal("de-vig " + std::string(DevigMethodName(method)) +
                      " produced a non-finite probability");
    }
  }
  result.overround = market.booksum - 1;
  return result;
}

}  // namespace truthbook::odds
