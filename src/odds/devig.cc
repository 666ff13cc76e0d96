#include "odds/devig.h"

#include <cmath>
#include <string>

#include "odds/price.h"

namespace truthbook::odds {

namespace {

// A validated market as implied probabilities: what every method starts from.
struct ImpliedMarket {
  std::span<const double> decimals;  // d_i, each > 1 and finite
  std::vector<double> implied;       // 1/d_i, each in (0, 1)
  double booksum = 0;                // sum of implied; > 0 and finite
};

// Each method returns fair probabilities and its parameter; a Result so that a method can
// report a market it cannot handle.
Result<DevigResult> Multiplicative(const ImpliedMarket& market) {
  DevigResult result;
  result.fair.reserve(market.implied.size());
  for (double q : market.implied) result.fair.push_back(q / market.booksum);
  return result;
}

// Divides by the sum so that rounding in a solved parameter cannot leave the sum off 1.
void Normalize(std::vector<double>& fair) {
  double sum = 0;
  for (double p : fair) sum += p;
  if (sum > 0) {
    for (double& p : fair) p /= sum;
  }
}

// Subtracts an equal share of the margin from each outcome. Outcomes whose share would take
// them below 0 are fixed at 0 and leave the active set, which shares the margin again; each
// pass removes at least one outcome, so it ends after at most n passes with at least one left.
Result<DevigResult> Additive(const ImpliedMarket& market) {
  const size_t n = market.implied.size();
  std::vector<bool> active(n, true);
  DevigResult result;
  result.fair.assign(n, 0);
  for (;;) {
    double active_sum = 0;
    size_t active_count = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!active[i]) continue;
      active_sum += market.implied[i];
      ++active_count;
    }
    const double share = (active_sum - 1) / static_cast<double>(active_count);
    bool removed = false;
    for (size_t i = 0; i < n; ++i) {
      if (!active[i]) continue;
      result.fair[i] = market.implied[i] - share;
      if (result.fair[i] < 0 && active_count > 1) {
        active[i] = false;
        result.fair[i] = 0;
        removed = true;
      }
    }
    if (!removed) break;
  }
  Normalize(result.fair);  // q_i - share cancels badly when the margin is near q_i
  return result;
}

// The root of a decreasing function f on [lo, hi] by bisection, to the last representable
// bit. If f does not change sign on the bracket, the nearer end is returned (the caller
// renormalises, so the result is still a probability vector).
template <typename F>
double Bisect(const F& f, double lo, double hi) {
  if (!(f(lo) > 0)) return lo;
  if (!(f(hi) < 0)) return hi;
  for (int i = 0; i < 2000; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    (f(mid) > 0 ? lo : hi) = mid;
  }
  return lo + (hi - lo) / 2;
}

// fair_i = q_i^k. Solved for t = ln k on [-50, 50], which holds every market of doubles
// (k reaches about 5e15 for prices one ulp above 1).
Result<DevigResult> Power(const ImpliedMarket& market) {
  auto fair_sum = [&](double t) {
    const double k = std::exp(t);
    double sum = 0;
    for (double q : market.implied) sum += std::pow(q, k);
    return sum - 1;
  };
  const double k = std::exp(Bisect(fair_sum, -50, 50));
  DevigResult result;
  result.fair.reserve(market.implied.size());
  for (double q : market.implied) result.fair.push_back(std::pow(q, k));
  Normalize(result.fair);
  result.param = k;
  return result;
}

// odds(q_i) = OR * odds(fair_i), so fair_i = 1 / (1 + OR (d_i - 1)), since (1 - q_i)/q_i =
// d_i - 1. Solved for u = ln OR on [-745, 745] (the whole range of exp).
Result<DevigResult> OddsRatio(const ImpliedMarket& market) {
  auto fair_at = [](double odds_ratio, double d) { return 1 / (1 + odds_ratio * (d - 1)); };
  auto fair_sum = [&](double u) {
    const double odds_ratio = std::exp(u);
    double sum = 0;
    for (double d : market.decimals) sum += fair_at(odds_ratio, d);
    return sum - 1;
  };
  const double odds_ratio = std::exp(Bisect(fair_sum, -745, 745));
  DevigResult result;
  result.fair.reserve(market.decimals.size());
  for (double d : market.decimals) result.fair.push_back(fair_at(odds_ratio, d));
  Normalize(result.fair);
  result.param = odds_ratio;
  return result;
}

// Shin's fair probability of an outcome with implied probability q, for insider share z.
// For z > 0 the form sqrt(a) - z = (a - z^2)/(sqrt(a) + z) avoids cancellation as z -> 1.
double ShinFair(double q, double booksum, double z) {
  if (z == 0) return q / std::sqrt(booksum);  // also where q^2 underflows and 0/0 would follow
  const double q2b = q * q / booksum;
  const double root = std::sqrt(z * z + 4 * (1 - z) * q2b);
  if (z > 0) return 2 * q2b / (root + z);
  return (root - z) / (2 * (1 - z));
}

// Shin: z closed form for two outcomes (Jullien and Salanié; as in mberk/shin), otherwise
// the root of sum_i fair_i(z) = 1, which is the fixed point of Shin's iteration
// z = (sum_i sqrt(z^2 + 4(1 - z) q_i^2 / B) - 2) / (n - 2). z is in [0, 1) when B >= 1 and
// negative for an arbitrage market (B < 1).
Result<DevigResult> Shin(const ImpliedMarket& market) {
  const double b = market.booksum;
  double z = 0;
  if (market.implied.size() == 2) {
    const double diff = market.implied[0] - market.implied[1];
    const double diff2 = diff * diff;
    z = ((b - 1) * (diff2 - b)) / (b * (diff2 - 1));
  } else {
    auto fair_sum = [&](double zz) {
      double sum = 0;
      for (double q : market.implied) sum += ShinFair(q, b, zz);
      return sum - 1;
    };
    if (b >= 1) {
      z = Bisect(fair_sum, 0, 1);
    } else {
      double lo = -1;
      while (fair_sum(lo) <= 0 && lo > -1e150) lo *= 2;
      z = Bisect(fair_sum, lo, 0);
    }
  }
  DevigResult result;
  result.fair.reserve(market.implied.size());
  for (double q : market.implied) result.fair.push_back(ShinFair(q, b, z));
  Normalize(result.fair);
  result.param = z;
  return result;
}

Result<DevigResult> Dispatch(const ImpliedMarket& market, DevigMethod method) {
  switch (method) {
    case DevigMethod::kMultiplicative:
      return Multiplicative(market);
    case DevigMethod::kAdditive:
      return Additive(market);
    case DevigMethod::kPower:
      return Power(market);
    case DevigMethod::kShin:
      return Shin(market);
    case DevigMethod::kOddsRatio:
      return OddsRatio(market);
  }
  return InvalidArgument("unknown de-vig method");
}

}  // namespace

std::string_view DevigMethodName(DevigMethod method) {
  switch (method) {
    case DevigMethod::kMultiplicative:
      return "multiplicative";
    case DevigMethod::kAdditive:
      return "additive";
    case DevigMethod::kPower:
      return "power";
    case DevigMethod::kShin:
      return "shin";
    case DevigMethod::kOddsRatio:
      return "odds_ratio";
  }
  return "unknown";
}

std::string_view DevigParamName(DevigMethod method) {
  switch (method) {
    case DevigMethod::kPower:
      return "k";
    case DevigMethod::kShin:
      return "z";
    case DevigMethod::kOddsRatio:
      return "OR";
    case DevigMethod::kMultiplicative:
    case DevigMethod::kAdditive:
      return "";
  }
  return "";
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
  market.decimals = decimals;
  market.implied.reserve(decimals.size());
  for (double d : decimals) {
    market.implied.push_back(1 / d);
    market.booksum += market.implied.back();
  }
  ASSIGN_OR_RETURN(DevigResult result, Dispatch(market, method));
  // The contract is "never NaN"; a method that breaks it is a bug, not bad input.
  if (result.param && !std::isfinite(*result.param)) {
    return Internal("de-vig " + std::string(DevigMethodName(method)) +
                    " produced a non-finite parameter");
  }
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
