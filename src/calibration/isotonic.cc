#include "calibration/isotonic.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "calibration/fit_support.h"

namespace truthbook::calibration {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy.finfo(float64).resolution: scikit-learn's _make_unique treats x values closer than
// this to the first x of a run as ties.
constexpr double kTieResolution = 1e-15;

// Thresholds (x, y) of a fit before trimming.
struct Thresholds {
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> w;
};

// scikit-learn's _make_unique on sorted points: one entry per run of tied x, holding the
// run's first x, its summed weight and its weighted mean y, computed in the same order.
Thresholds MergeTies(const std::vector<internal::WeightedPoint>& points) {
  Thresholds merged;
  double current_x = points.front().x;
  double current_y = 0;
  double current_w = 0;
  for (const internal::WeightedPoint& point : points) {
    if (point.x - current_x >= kTieResolution) {
      merged.x.push_back(current_x);
      merged.w.push_back(current_w);
      merged.y.push_back(current_y / current_w);
      current_x = point.x;
      current_w = point.w;
      current_y = point.y * point.w;
    } else {
      current_w += point.w;
      current_y += point.y * point.w;
    }
  }
  merged.x.push_back(current_x);
  merged.w.push_back(current_w);
  merged.y.push_back(current_y / current_w);
  return merged;
}

// Keeps the first and last thresholds and every one whose y differs from a neighbour's: the
// dropped ones lie on the segment between their neighbours (scikit-learn trim_duplicates).
void TrimFlatInteriors(std::vector<double>& x, std::vector<double>& y) {
  const size_t n = y.size();
  if (n <= 2) return;
  std::vector<double> kept_x{x.front()};
  std::vector<double> kept_y{y.front()};
  for (size_t i = 1; i + 1 < n; ++i) {
    if (y[i] != y[i - 1] || y[i] != y[i + 1]) {
      kept_x.push_back(x[i]);
      kept_y.push_back(y[i]);
    }
  }
  kept_x.push_back(x.back());
  kept_y.push_back(y.back());
  x = std::move(kept_x);
  y = std::move(kept_y);
}

// numpy.interp(v, xs, ys) for xs.front() <= v <= xs.back(), bit for bit: the segment
// xs[j] <= v < xs[j + 1], slope (ys[j+1] - ys[j]) / (xs[j+1] - xs[j]), an exact threshold
// giving its own y, and numpy's fallbacks when the slope overflows.
// REQUIRES: xs.size() >= 2, xs strictly increasing, v in [xs.front(), xs.back()].
double Interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double v) {
  const size_t j = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), v) - xs.begin()) - 1;
  if (j >= xs.size() - 1 || xs[j] == v) return ys[j];
  const double slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
  double result = slope * (v - xs[j]) + ys[j];
  if (std::isnan(result)) {
    result = slope * (v - xs[j + 1]) + ys[j + 1];
    if (std::isnan(result) && ys[j] == ys[j + 1]) result = ys[j];
  }
  return result;
}

// The value of the piecewise-linear function through (xs, ys) at v, with v clipped into the
// thresholds' range; a single threshold is constant.
double PredictClipped(const std::vector<double>& xs, const std::vector<double>& ys, double v) {
  if (xs.size() == 1) return ys.front();
  if (std::isnan(v)) return v;
  return Interpolate(xs, ys, std::clamp(v, xs.front(), xs.back()));
}

}  // namespace

void PoolAdjacentViolators(std::span<double> y, std::span<double> w) {
  // A transcription of scikit-learn's _inplace_contiguous_isotonic_regression, so that
  // pooled means are summed in the same order and match it to the bit. `target` describes
  // the blocks: if [i..j] is a block, target[i] == j and target[j] == i; for a block start i,
  // w[i] is the block's weight and y[i] its weighted mean.
  const size_t n = y.size();
  std::vector<size_t> target(n);
  for (size_t i = 0; i < n; ++i) target[i] = i;
  size_t i = 0;
  while (i < n) {
    size_t k = target[i] + 1;
    if (k == n) break;
    if (y[i] < y[k]) {
      i = k;
      continue;
    }
    double sum_wy = w[i] * y[i];
    double sum_w = w[i];
    for (;;) {
      // Inside a non-increasing run: absorb the next block.
      const double prev_y = y[k];
      sum_wy += w[k] * y[k];
      sum_w += w[k];
      k = target[k] + 1;
      if (k == n || prev_y < y[k]) {
        y[i] = sum_wy / sum_w;
        w[i] = sum_w;
        target[i] = k - 1;
        target[k - 1] = i;
        // Step back one block so that the pass stays single and O(n).
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  for (i = 0; i < n;) {
    const size_t k = target[i] + 1;
    std::fill(y.begin() + static_cast<std::ptrdiff_t>(i) + 1,
              y.begin() + static_cast<std::ptrdiff_t>(k), y[i]);
    i = k;
  }
}

Result<IsotonicRegression> IsotonicRegression::Fit(std::span<const double> x,
                                                   std::span<const double> y,
                                                   std::span<const double> w,
                                                   const IsotonicOptions& options) {
  if (x.empty()) return InvalidArgument("x: must not be empty");
  RETURN_IF_ERROR(internal::CheckSameSize("y", y.size(), "x", x.size()));
  RETURN_IF_ERROR(internal::CheckFinite("x", x));
  RETURN_IF_ERROR(internal::CheckFinite("y", y));
  RETURN_IF_ERROR(internal::CheckWeights(w, "x", x.size()));
  if (options.y_min && std::isnan(*options.y_min)) return InvalidArgument("y_min: must not be NaN");
  if (options.y_max && std::isnan(*options.y_max)) return InvalidArgument("y_max: must not be NaN");
  if (options.y_min && options.y_max && *options.y_min > *options.y_max) {
    return InvalidArgument("y_min: must be <= y_max");
  }

  Thresholds t = MergeTies(internal::SortedPoints(x, y, w));
  if (options.increasing) {
    PoolAdjacentViolators(t.y, t.w);
  } else {
    // As scikit-learn: a non-increasing fit is the non-decreasing fit of the reversed data.
    std::reverse(t.y.begin(), t.y.end());
    std::reverse(t.w.begin(), t.w.end());
    PoolAdjacentViolators(t.y, t.w);
    std::reverse(t.y.begin(), t.y.end());
  }
  if (options.y_min || options.y_max) {
    const double lo = options.y_min.value_or(-std::numeric_limits<double>::infinity());
    const double hi = options.y_max.value_or(std::numeric_limits<double>::infinity());
    for (double& v : t.y) v = std::clamp(v, lo, hi);
  }
  TrimFlatInteriors(t.x, t.y);
  return IsotonicRegression(std::move(t.x), std::move(t.y), options.out_of_bounds);
}

double IsotonicRegression::Predict(double x) const {
  if (out_of_bounds_ == OutOfBounds::kNan && x_.size() > 1 && (x < x_.front() || x > x_.back())) {
    return kNaN;
  }
  return PredictClipped(x_, y_, x);
}

Result<std::unique_ptr<IsotonicCalibrator>> IsotonicCalibrator::Fit(std::span<const double> p,
                                                                    std::span<const double> y,
                                                                    std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  ASSIGN_OR_RETURN(IsotonicRegression regression, IsotonicRegression::Fit(p, y, w));
  return std::make_unique<IsotonicCalibrator>(Key(), regression.x_thresholds(),
                                              regression.y_thresholds());
}

Result<std::unique_ptr<IsotonicCalibrator>> IsotonicCalibrator::FromParams(
    const nlohmann::json& params) {
  RETURN_IF_ERROR(internal::CheckParamKeys(params, {"x", "y"}));
  ASSIGN_OR_RETURN(std::vector<double> x, internal::ParamArray(params, "x"));
  ASSIGN_OR_RETURN(std::vector<double> y, internal::ParamArray(params, "y"));
  RETURN_IF_ERROR(internal::CheckSameSize("params.y", y.size(), "params.x", x.size()));
  // Appended rather than "[" + ...: GCC 12 at -O3 warns -Wrestrict on that (a false positive).
  auto at = [](size_t i) { return std::string("[").append(std::to_string(i)).append("]"); };
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(y[i] >= 0 && y[i] <= 1)) {
      return InvalidArgument("params.y" + at(i) + ": must be in [0, 1]");
    }
    if (i > 0 && !(x[i] > x[i - 1])) {
      return InvalidArgument("params.x" + at(i) + ": must be > params.x" + at(i - 1));
    }
    if (i > 0 && !(y[i] >= y[i - 1])) {
      return InvalidArgument("params.y" + at(i) + ": must be >= params.y" + at(i - 1));
    }
  }
  return std::make_unique<IsotonicCalibrator>(Key(), std::move(x), std::move(y));
}

double IsotonicCalibrator::Apply(double p) const {
  if (std::isnan(p)) return p;
  return std::clamp(PredictClipped(x_, y_, p), 0.0, 1.0);
}

nlohmann::json IsotonicCalibrator::Params() const { return nlohmann::json{{"x", x_}, {"y", y_}}; }

}  // namespace truthbook::calibration
