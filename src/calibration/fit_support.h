// Shared machinery of the calibrators (not part of the calibration interface): input checks,
// order-free sums and the logits of a whole sample, a small Newton solver for weighted logistic
// regression whose result does not depend on the order of the samples, and readers for the
// "params" JSON object. Pure functions; safe from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "calibration/calibrator.h"
#include "calibration/lane_math.h"

namespace truthbook::calibration::internal {

// Success when `size` equals `reference_size`; otherwise InvalidArgument
// "<name>: size <size> != <reference_name> size <reference_size>".
Status CheckSameSize(std::string_view name, size_t size, std::string_view reference_name,
                     size_t reference_size);

// Success when w is empty (unit weights) or has n entries, each finite and >= 0, with a
// positive, finite sum. Failure: InvalidArgument "w: size ...", "w[i]: must be finite and
// >= 0", "w: must have a positive sum" or "w: must have a finite sum". `reference_name` names
// the array w must match ("p").
Status CheckWeights(std::span<const double> w, std::string_view reference_name, size_t n);

// The index of the first v[i] that `bad` flags, or v.size(). bad(lanes) gives 1 in each of
// the two lanes it flags and 0 in the others (`?:` on comparisons, so that NaN can be flagged);
// it must not flag 0, which pads the last lanes. Blocks are scanned two lanes at a time without
// an early exit, which is 2x faster than a loop of branches; only a flagged block is searched.
// (Eight lanes would be no faster: the compiler splits AVX-512 comparison masks into lanes.)
template <typename Flag>
size_t FirstFlagged(std::span<const double> v, const Flag& bad) {
  constexpr size_t kBlock = 1024;
  for (size_t begin = 0; begin < v.size(); begin += kBlock) {
    const size_t end = std::min(v.size(), begin + kBlock);
    Lanes flagged{};
    for (size_t i = begin; i < end; i += kLanesOf<Lanes>) {
      flagged += bad(LoadLanes<Lanes>(v.data(), i, end));
    }
    if (flagged[0] + flagged[1] == 0) continue;
    for (size_t i = begin; i < end; ++i) {
      if (bad(Broadcast<Lanes>(v[i]))[0] != 0) return i;
    }
  }
  return v.size();
}

// Success when every x[i] is finite; otherwise InvalidArgument "<name>[i]: must be finite".
Status CheckFinite(std::string_view name, std::span<const double> x);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"  // see lane_math.h

// ClippedLogit (calibrator.h) per lane: ln(q / (1 - q)) for q = p clamped to
// [kProbabilityClip, 1 - kProbabilityClip]. ClippedLogit is this on one lane.
// REQUIRES: no lane is NaN.
template <typename V>
[[gnu::always_inline]] inline V ClippedLogit(const V& p) {
  const V q = Clamp(p, kProbabilityClip, 1 - kProbabilityClip);
  return LogPositive(q / (1.0 - q));
}

#pragma GCC diagnostic pop

// The logistic function 1 / (1 + e^-z), without overflow for any z.
inline double Sigmoid(double z) {
  if (z >= 0) return 1 / (1 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1 + e);
}

// ln(1 + e^z), without overflow or cancellation for any z.
inline double Softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

// The sum of v, the same bits in any order of v (a ReproducibleSum bounded by max |v[i]|).
// REQUIRES: every v[i] is finite.
double ReproducibleTotal(std::span<const double> v);

// The least and the greatest v[i]. REQUIRES: v is not empty; no NaN.
std::pair<double, double> Range(std::span<const double> v);

// The summed weights of the samples labelled 1 and of those labelled 0 (weights empty: every
// weight is 1), the same bits in any order of the samples.
// REQUIRES: every labels[i] is 0 or 1; weights empty or of labels' size, each finite.
std::pair<double, double> LabelWeights(std::span<const double> labels,
                                       std::span<const double> weights);

// out[i] = ClippedLogit(p[i]), the same bits, many lanes at a time.
// REQUIRES: out.size() == p.size(); no p[i] is NaN.
void ClippedLogits(std::span<const double> p, std::span<double> out);

// Weighted logistic regression with up to two features and an intercept:
// z_i = coef[0] x_i0 + ... + coef[d-1] x_i,d-1 + coef[d], q_i = Sigmoid(z_i), minimizing
// sum_i w_i [t_i ln(1/q_i) + (1 - t_i) ln(1/(1 - q_i))] with targets t_i in [0, 1].
// The problem views arrays its caller owns.
struct LogisticProblem {
  size_t num_features = 0;                          // d, 0..2
  std::array<std::span<const double>, 2> features;  // features[j][i]: feature j of sample i
  std::span<const double> targets;                  // n, each in [0, 1]
  std::span<const double> weights;                  // n, each > 0; empty: every weight is 1
};

inline constexpr size_t kMaxLogisticCoefficients = 3;
using LogisticCoefficients = std::array<double, kMaxLogisticCoefficients>;

// The objective above at `coef` (entries beyond d + 1 are ignored). Each term is computed as
// t·softplus(-z) + (1 - t)·softplus(z), which is accurate even where q rounds to 0 or 1, and
// the terms are summed by a ReproducibleSum: the same bits in any order of the samples.
// REQUIRES: every feature finite.
double LogisticLoss(const LogisticProblem& problem, const LogisticCoefficients& coef);

// Minimizes the objective by Newton's method from `start`: damped by a backtracking (Armijo)
// line search while the Newton decrement is large, then full steps once it is below 1e-6
// (where the loss is flat to rounding but Newton converges quadratically) until a step is
// below 1e-15 relative, stops shrinking (rounding noise), or 8 such steps were taken; at most
// 200 iterations. A singular Hessian (collinear features) is regularized by a ridge just large
// enough to factor it. Every sum is a ReproducibleSum, so the result is a pure function of
// (the multiset of samples, start): the order of the samples does not matter.
// REQUIRES: every feature finite.
LogisticCoefficients FitLogistic(const LogisticProblem& problem, const LogisticCoefficients& start);

// Readers for a calibrator's "params" object; errors name the member as "params.<key>".
// Success when `params` is an object whose keys are all in `allowed`; otherwise
// InvalidArgument "params: must be an object" or "params.<key>: unknown field".
Status CheckParamKeys(const nlohmann::json& params,
                      std::initializer_list<std::string_view> allowed);
// The finite number params[key]. Failure: "params.<key>: missing" or
// "params.<key>: must be a finite number".
Result<double> ParamNumber(const nlohmann::json& params, std::string_view key);
// The non-empty array of finite numbers params[key]. Failure: "params.<key>: missing",
// "params.<key>: must be a non-empty array", "params.<key>[i]: must be a finite number".
Result<std::vector<double>> ParamArray(const nlohmann::json& params, std::string_view key);

}  // namespace truthbook::calibration::internal
