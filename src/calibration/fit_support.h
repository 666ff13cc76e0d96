// Shared machinery of the calibrators (not part of the calibration interface): input checks,
// the canonical sort that makes fits independent of input order, a small Newton solver for
// weighted logistic regression, and readers for the "params" JSON object.
// Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

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

// Success when every x[i] is finite; otherwise InvalidArgument "<name>[i]: must be finite".
Status CheckFinite(std::string_view name, std::span<const double> x);

// One weighted observation.
struct WeightedPoint {
  double x = 0;
  double y = 0;
  double w = 1;
};

// The observations (x[i], y[i], w[i]) (w empty: weight 1) without those of weight 0, sorted
// by (x, y, w) ascending, with -0 stored as +0. Two inputs that hold the same multiset of
// triples give the same vector, so a fit that reads it in order gives the same bits. Large
// inputs are radix-sorted on x, small ones compared; both give the same order.
// REQUIRES: y and w (if not empty) have x's size; no NaN.
std::vector<WeightedPoint> SortedPoints(std::span<const double> x, std::span<const double> y,
                                        std::span<const double> w);

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

// Weighted logistic regression with up to two features and an intercept:
// z_i = coef[0] x_i0 + ... + coef[d-1] x_i,d-1 + coef[d], q_i = Sigmoid(z_i), minimizing
// sum_i w_i [t_i ln(1/q_i) + (1 - t_i) ln(1/(1 - q_i))] with targets t_i in [0, 1].
struct LogisticProblem {
  size_t num_features = 0;       // d, 0..2
  std::vector<double> features;  // row-major, n * d
  std::vector<double> targets;   // n, each in [0, 1]
  std::vector<double> weights;   // n, each > 0
};

inline constexpr size_t kMaxLogisticCoefficients = 3;
using LogisticCoefficients = std::array<double, kMaxLogisticCoefficients>;

// The objective above at `coef` (entries beyond d + 1 are ignored). Each term is computed as
// t·softplus(-z) + (1 - t)·softplus(z), which is accurate even where q rounds to 0 or 1.
double LogisticLoss(const LogisticProblem& problem, const LogisticCoefficients& coef);

// Minimizes the objective by Newton's method from `start`: damped by a backtracking (Armijo)
// line search while the Newton decrement is large, then full steps once it is below 1e-6
// (where the loss is flat to rounding but Newton converges quadratically) until a step is
// below 1e-15 relative, stops shrinking (rounding noise), or 8 such steps were taken; at most
// 200 iterations. A singular Hessian (collinear features) is regularized by a ridge just large
// enough to factor it. The result is a pure function of (problem, start).
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
