// Isotonic regression with scikit-learn's IsotonicRegression semantics (weighted PAVA, ties in
// x averaged with their weights first, zero weights dropped, linear interpolation between
// thresholds, clip or NaN outside them), and the isotonic calibrator built on it.
// IsotonicRegression and IsotonicCalibrator are immutable once fitted: safe to use from many
// threads at once. PoolAdjacentViolators is a pure function of its arguments.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "base/status.h"
#include "calibration/calibrator.h"

namespace truthbook::calibration {

// What Predict returns outside [min x, max x] of the training data.
enum class OutOfBounds {
  kClip,  // the value at the nearer end (scikit-learn out_of_bounds="clip")
  kNan,   // NaN (scikit-learn out_of_bounds="nan")
};

struct IsotonicOptions {
  // Default true: fit a non-decreasing function; false fits a non-increasing one.
  bool increasing = true;
  // Default none: the fitted values are clipped to [y_min, y_max] after pooling.
  std::optional<double> y_min;
  std::optional<double> y_max;
  // Default kClip.
  OutOfBounds out_of_bounds = OutOfBounds::kClip;
};

// Pools adjacent violators in place, exactly as scikit-learn's
// _inplace_contiguous_isotonic_regression: afterwards y is the weighted least-squares
// non-decreasing fit to the input y. w is used as scratch (it ends holding block weights).
// REQUIRES: y.size() == w.size(); every w[i] > 0; no NaN.
void PoolAdjacentViolators(std::span<double> y, std::span<double> w);

// A fitted isotonic regression: a piecewise-linear function through its thresholds.
class IsotonicRegression {
 public:
  // Fits y against x with weights w (empty: unit weights). As scikit-learn: samples of weight
  // 0 are dropped; samples are sorted by x; samples whose x is within 1e-15 of the first x of
  // a run are merged into one with the weighted mean y and the summed weight; PAVA fits the
  // merged values; the result is clipped to [y_min, y_max]; and interior thresholds equal to
  // both neighbours are dropped. Deterministic and independent of input order.
  // Success: the fitted regression. Failure: InvalidArgument "x: must not be empty",
  // "y: size 3 != x size 4", "x[2]: must be finite", "y[2]: must be finite", a weight error
  // (see CheckBinarySample), "y_min: must be <= y_max", "y_min: must not be NaN".
  static Result<IsotonicRegression> Fit(std::span<const double> x, std::span<const double> y,
                                        std::span<const double> w,
                                        const IsotonicOptions& options = {});

  // The fitted function at x: linear interpolation between the thresholds as numpy.interp
  // computes it (an x equal to a threshold gives its value exactly); outside the thresholds,
  // per out_of_bounds. With a single threshold, its value everywhere. NaN gives NaN.
  double Predict(double x) const;

  const std::vector<double>& x_thresholds() const { return x_; }
  const std::vector<double>& y_thresholds() const { return y_; }

 private:
  IsotonicRegression(std::vector<double> x, std::vector<double> y, OutOfBounds out_of_bounds)
      : x_(std::move(x)), y_(std::move(y)), out_of_bounds_(out_of_bounds) {}

  std::vector<double> x_;  // strictly increasing, at least one
  std::vector<double> y_;  // same size; monotone
  OutOfBounds out_of_bounds_;
};

// The isotonic calibrator: IsotonicRegression of y on p (increasing, clip), its output
// clipped to [0, 1]. Params: {"x": [thresholds in p, strictly increasing],
// "y": [calibrated values, non-decreasing, each in [0, 1]]}.
class IsotonicCalibrator final : public Calibrator {
 public:
  // Success: the fitted calibrator. Failure: InvalidArgument from CheckBinarySample.
  static Result<std::unique_ptr<IsotonicCalibrator>> Fit(std::span<const double> p,
                                                         std::span<const double> y,
                                                         std::span<const double> w);
  // Loads Params(). Failure: InvalidArgument naming the member ("params.x: missing",
  // "params.y: size 2 != params.x size 3", "params.x[1]: must be > params.x[0]",
  // "params.y[1]: must be >= params.y[0]", "params.y[0]: must be in [0, 1]").
  static Result<std::unique_ptr<IsotonicCalibrator>> FromParams(const nlohmann::json& params);

  Method method() const override { return Method::kIsotonic; }
  double Apply(double p) const override;
  // The same bits as Apply for each point; for many points, each segment is found in O(1)
  // through a uniform grid over the thresholds instead of by a binary search.
  void ApplyAll(std::span<const double> in, std::span<double> out) const override;
  nlohmann::json Params() const override;

  const std::vector<double>& x_thresholds() const { return x_; }
  const std::vector<double>& y_thresholds() const { return y_; }

 private:
  // Only Fit and FromParams, which validate, can name this key (passkey idiom).
  struct Key {
    explicit Key() = default;
  };

 public:
  IsotonicCalibrator(Key, std::vector<double> x, std::vector<double> y)
      : x_(std::move(x)), y_(std::move(y)) {}

 private:
  std::vector<double> x_;
  std::vector<double> y_;
};

}  // namespace truthbook::calibration
