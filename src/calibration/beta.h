// Beta calibration (Kull, Silva Filho and Flach, AISTATS 2017):
// p' = 1 / (1 + 1 / (e^c · p^a / (1 - p)^b)), i.e. logistic regression on the features
// ln p and -ln(1 - p) with intercept c, fitted by Newton's method on the weighted log loss
// without regularization. A negative a or b is dropped and the rest refitted, as the paper's
// reference implementation (betacal) does, so that the map never decreases.
// BetaCalibrator is immutable: safe from many threads; the free functions are pure.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>

#include "base/status.h"
#include "calibration/calibrator.h"

namespace truthbook::calibration {

// p' = sigmoid(c + a·ln p - b·ln(1 - p)), with p clipped to
// [kProbabilityClip, 1 - kProbabilityClip]. a = b = 1, c = 0 is the identity.
struct BetaParams {
  double a = 1;
  double b = 1;
  double c = 0;

  friend bool operator==(const BetaParams&, const BetaParams&) = default;
};

// sigmoid(c + a·ln p - b·ln(1 - p)) for p clipped as above; a term whose coefficient is 0 is
// left out.
double BetaProbability(const BetaParams& params, double p);

// Fits (a, b, c) by Newton's method on sum_i w_i logloss(y_i, p'_i) from the identity. If
// a < 0, the feature ln p is dropped (a = 0) and (b, c) refitted; else if b < 0, likewise
// for -ln(1 - p). If the coefficient left is still negative it is dropped too, leaving the
// constant c = logit of the weighted base rate (betacal would keep a decreasing map). When
// every p is equal, a = b = 0 for the same reason. Deterministic and independent of input
// order. If the outcomes are perfectly separated by p the likelihood has no maximum; the
// result is then the finite point where Newton's method stops, still a non-decreasing map.
// Success: the parameters, a >= 0 and b >= 0. Failure: InvalidArgument from
// CheckBinarySample, or "y: beta calibration needs both outcomes with positive weight".
Result<BetaParams> FitBeta(std::span<const double> p, std::span<const double> y,
                           std::span<const double> w);

// Beta calibration. Params: {"a": a, "b": b, "c": c}; a and b finite and >= 0, c finite.
class BetaCalibrator final : public Calibrator {
 public:
  // Success: the fitted calibrator. Failure: as FitBeta.
  static Result<std::unique_ptr<BetaCalibrator>> Fit(std::span<const double> p,
                                                     std::span<const double> y,
                                                     std::span<const double> w);
  // Loads Params(). Failure: InvalidArgument "params.a: missing", "params.b: must be >= 0",
  // "params.d: unknown field", ...
  static Result<std::unique_ptr<BetaCalibrator>> FromParams(const nlohmann::json& params);

  Method method() const override { return Method::kBeta; }
  double Apply(double p) const override;
  nlohmann::json Params() const override;

  const BetaParams& params() const { return params_; }

 private:
  // Only Fit and FromParams, which validate, can name this key (passkey idiom).
  struct Key {
    explicit Key() = default;
  };

 public:
  BetaCalibrator(Key, const BetaParams& params) : params_(params) {}

 private:
  BetaParams params_;
};

}  // namespace truthbook::calibration
