// Temperature scaling: binary, p' = sigmoid(logit(p) / T), and multi-class for 1X2 rows,
// p'_k = softmax_k(ln(p_k) / T). T > 0 minimizes the weighted log loss; the loss is convex in
// 1/T, so the fit solves for the root of its derivative by safeguarded Newton steps to full
// double precision. TemperatureCalibrator and MulticlassTemperature are immutable: safe from
// many threads; the free functions are pure.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>

#include "base/status.h"
#include "calibration/calibrator.h"

namespace truthbook::calibration {

// The fitted temperature is kept in [kMinTemperature, kMaxTemperature]: the loss has no
// minimum when the outcomes are separated by the raw logits (T -> 0) or run against them
// (no T > 0 is best), and the nearer bound is returned then.
inline constexpr double kMinTemperature = 1e-3;
inline constexpr double kMaxTemperature = 1e3;

// The binary temperature minimizing sum_i w_i·logloss(y_i, sigmoid(z_i / T)) with
// z_i = ClippedLogit(p_i). T = 1 when every p is 0.5 (the loss does not depend on T).
// Deterministic and independent of input order.
// Success: T in [kMinTemperature, kMaxTemperature]. Failure: InvalidArgument from
// CheckBinarySample.
Result<double> FitTemperature(std::span<const double> p, std::span<const double> y,
                              std::span<const double> w);

// sigmoid(ClippedLogit(p) / temperature). REQUIRES: temperature > 0.
double ApplyTemperature(double temperature, double p);

// Binary temperature scaling. Params: {"temperature": T}, a finite number > 0.
class TemperatureCalibrator final : public Calibrator {
 public:
  // Success: the fitted calibrator. Failure: InvalidArgument from CheckBinarySample.
  static Result<std::unique_ptr<TemperatureCalibrator>> Fit(std::span<const double> p,
                                                            std::span<const double> y,
                                                            std::span<const double> w);
  // Loads Params(). Failure: InvalidArgument "params.temperature: missing",
  // "params.temperature: must be > 0", "params.x: unknown field", ...
  static Result<std::unique_ptr<TemperatureCalibrator>> FromParams(const nlohmann::json& params);

  Method method() const override { return Method::kTemperature; }
  double Apply(double p) const override;
  nlohmann::json Params() const override;

  double temperature() const { return temperature_; }

 private:
  // Only Fit and FromParams, which validate, can name this key (passkey idiom).
  struct Key {
    explicit Key() = default;
  };

 public:
  TemperatureCalibrator(Key, double temperature) : temperature_(temperature) {}

 private:
  double temperature_;
};

// Multi-class temperature scaling of probability rows (home/draw/away for 1X2):
// p'_k = softmax_k(ln(max(p_k, kProbabilityClip)) / T), fitted on rows whose observed class
// is known. Params: {"temperature": T}.
class MulticlassTemperature {
 public:
  // Fits T on `probabilities`, row-major with `num_classes` entries per row, `labels[i]` the
  // observed class of row i, and weights w (empty: unit weights) minimizing the weighted
  // log loss. Rows need not sum to 1 exactly (softmax normalizes them). Deterministic and
  // independent of row order.
  // Success: T in [kMinTemperature, kMaxTemperature]. Failure: InvalidArgument
  // "num_classes: must be >= 2", "labels: must not be empty",
  // "p: size 23 != labels size 8 * num_classes 3", "p[2][1]: must be in [0, 1]",
  // "labels[3]: must be in [0, 3)", or a weight error ("w: size 7 != labels size 8", ...).
  static Result<MulticlassTemperature> Fit(std::span<const double> probabilities,
                                           size_t num_classes, std::span<const int> labels,
                                           std::span<const double> w);
  // Loads Params(). Failure: as TemperatureCalibrator::FromParams.
  static Result<MulticlassTemperature> FromParams(const nlohmann::json& params);

  double temperature() const { return temperature_; }

  // The calibrated row. REQUIRES: out.size() == row.size() >= 1; every row[k] in [0, 1].
  void ApplyRow(std::span<const double> row, std::span<double> out) const;

  nlohmann::json Params() const;

 private:
  explicit MulticlassTemperature(double temperature) : temperature_(temperature) {}

  double temperature_;
};

}  // namespace truthbook::calibration
