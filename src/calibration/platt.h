// Platt scaling: P(y = 1 | f) = 1 / (1 + exp(a·f + b)), fitted as scikit-learn's
// _sigmoid_calibration does (Platt's smoothed targets, weighted counts), but minimized to full
// convergence by Newton's method, so its loss is never above scikit-learn's early-stopped one.
// The calibrator applies it to f = logit(p) (DESIGN §3). PlattCalibrator is immutable: safe
// from many threads; the free functions are pure.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>

#include "base/status.h"
#include "calibration/calibrator.h"

namespace truthbook::calibration {

// Platt's parameters A and B: P(y = 1 | f) = 1 / (1 + exp(a·f + b)). A calibrator that
// increases with f has a < 0.
struct PlattParams {
  double a = 0;
  double b = 0;

  friend bool operator==(const PlattParams&, const PlattParams&) = default;
};

// 1 / (1 + exp(a·f + b)), without overflow for any f.
double SigmoidProbability(const PlattParams& params, double f);

// Fits Platt's sigmoid to scores f and labels y (positive where y > 0, as scikit-learn: 1/0 and
// 1/-1 both work) with weights w (empty: unit weights). With smoothed_targets (the default),
// positives aim at t+ = (N+ + 1)/(N+ + 2) and negatives at t- = 1/(N- + 2), N± being the
// weighted counts; without, at 1 and 0 (plain maximum likelihood). Minimizes
// sum_i w_i [-t_i ln P_i - (1 - t_i) ln(1 - P_i)] by Newton's method with a line search, to
// full double precision; when every f is equal, a = 0 and b is the closed form. Deterministic
// and independent of input order.
// Success: the parameters. Failure: InvalidArgument "f: must not be empty",
// "y: size 2 != f size 3", "f[1]: must be finite", "y[1]: must be finite", a weight error
// (see CheckBinarySample), or without smoothed targets "y: plain maximum likelihood needs both
// outcomes with positive weight".
Result<PlattParams> FitSigmoid(std::span<const double> f, std::span<const double> y,
                               std::span<const double> w, bool smoothed_targets = true);

// The objective FitSigmoid minimizes, at `params` (computed stably: each term as
// t·ln(1 + e^z) + (1 - t)·ln(1 + e^-z) with z = a·f + b). For comparing fits.
// REQUIRES: FitSigmoid(f, y, w, smoothed_targets) would succeed.
double SigmoidLoss(std::span<const double> f, std::span<const double> y, std::span<const double> w,
                   const PlattParams& params, bool smoothed_targets = true);

// Platt scaling on f = ClippedLogit(p), with smoothed targets.
// Params: {"a": A, "b": B}, finite numbers.
class PlattCalibrator final : public Calibrator {
 public:
  // Success: the fitted calibrator. Failure: InvalidArgument from CheckBinarySample.
  static Result<std::unique_ptr<PlattCalibrator>> Fit(std::span<const double> p,
                                                      std::span<const double> y,
                                                      std::span<const double> w);
  // Loads Params(). Failure: InvalidArgument "params.a: missing", "params.b: must be a finite
  // number", "params.c: unknown field", ...
  static Result<std::unique_ptr<PlattCalibrator>> FromParams(const nlohmann::json& params);

  Method method() const override { return Method::kPlatt; }
  double Apply(double p) const override;
  nlohmann::json Params() const override;

  const PlattParams& params() const { return params_; }

 private:
  // Only Fit and FromParams, which validate, can name this key (passkey idiom).
  struct Key {
    explicit Key() = default;
  };

 public:
  PlattCalibrator(Key, const PlattParams& params) : params_(params) {}

 private:
  PlattParams params_;
};

}  // namespace truthbook::calibration
