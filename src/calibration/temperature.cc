#include "calibration/temperature.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "calibration/fit_support.h"

namespace truthbook::calibration {

namespace {

constexpr int kMaxSolverIterations = 200;

// The loss's first and second derivatives with respect to beta = 1/T.
struct Slope {
  double first = 0;
  double second = 0;
};

// The beta in [1/kMaxTemperature, 1/kMinTemperature] where the convex loss with derivatives
// `slope(beta)` is least: beta = 1 if the derivative vanishes there (the loss ignores beta),
// the bound the loss falls towards if it has no interior minimum, else the root of the first
// derivative by Newton steps kept inside a shrinking bracket (geometric bisection when a step
// leaves it), until a step is below 2 ulp.
template <typename SlopeAt>
double MinimizeOverBeta(const SlopeAt& slope_at) {
  double lo = 1 / kMaxTemperature;
  double hi = 1 / kMinTemperature;
  double beta = 1;
  Slope slope = slope_at(beta);
  if (slope.first == 0) return beta;
  if (slope.first < 0) {
    if (slope_at(hi).first <= 0) return hi;
  } else if (slope_at(lo).first >= 0) {
    return lo;
  }
  for (int iteration = 0; iteration < kMaxSolverIterations; ++iteration) {
    if (slope.first == 0) break;
    (slope.first < 0 ? lo : hi) = beta;
    double next = beta - slope.first / slope.second;
    if (!(next > lo && next < hi)) {
      next = std::sqrt(lo * hi);
      if (!(next > lo && next < hi)) break;  // the bracket is two adjacent doubles
    }
    const bool converged =
        std::abs(next - beta) <= 2 * std::numeric_limits<double>::epsilon() * beta;
    beta = next;
    if (converged) break;
    slope = slope_at(beta);
  }
  return beta;
}

}  // namespace

Result<double> FitTemperature(std::span<const double> p, std::span<const double> y,
                              std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  const std::vector<internal::WeightedPoint> points = internal::SortedPoints(p, y, w);
  std::vector<double> logits(points.size());
  for (size_t i = 0; i < points.size(); ++i) logits[i] = ClippedLogit(points[i].x);
  const double beta = MinimizeOverBeta([&](double b) {
    // d/db of w·logloss(y, sigmoid(b z)) is w (q - y) z; the second derivative w q (1 - q) z^2.
    Slope slope;
    for (size_t i = 0; i < points.size(); ++i) {
      const double z = logits[i];
      const double q = internal::Sigmoid(b * z);
      slope.first += points[i].w * (q - points[i].y) * z;
      slope.second += points[i].w * q * (1 - q) * z * z;
    }
    return slope;
  });
  return 1 / beta;
}

double ApplyTemperature(double temperature, double p) {
  return internal::Sigmoid(ClippedLogit(p) / temperature);
}

Result<std::unique_ptr<TemperatureCalibrator>> TemperatureCalibrator::Fit(
    std::span<const double> p, std::span<const double> y, std::span<const double> w) {
  ASSIGN_OR_RETURN(const double temperature, FitTemperature(p, y, w));
  return std::make_unique<TemperatureCalibrator>(Key(), temperature);
}

namespace {

Result<double> TemperatureParam(const nlohmann::json& params) {
  RETURN_IF_ERROR(internal::CheckParamKeys(params, {"temperature"}));
  ASSIGN_OR_RETURN(const double temperature, internal::ParamNumber(params, "temperature"));
  if (!(temperature > 0)) return InvalidArgument("params.temperature: must be > 0");
  return temperature;
}

}  // namespace

Result<std::unique_ptr<TemperatureCalibrator>> TemperatureCalibrator::FromParams(
    const nlohmann::json& params) {
  ASSIGN_OR_RETURN(const double temperature, TemperatureParam(params));
  return std::make_unique<TemperatureCalibrator>(Key(), temperature);
}

double TemperatureCalibrator::Apply(double p) const { return ApplyTemperature(temperature_, p); }

nlohmann::json TemperatureCalibrator::Params() const {
  return nlohmann::json{{"temperature", temperature_}};
}

Result<MulticlassTemperature> MulticlassTemperature::Fit(std::span<const double> probabilities,
                                                         size_t num_classes,
                                                         std::span<const int> labels,
                                                         std::span<const double> w) {
  if (num_classes < 2) return InvalidArgument("num_classes: must be >= 2");
  if (labels.empty()) return InvalidArgument("labels: must not be empty");
  const size_t k = num_classes;
  const size_t n = labels.size();
  if (probabilities.size() != n * k) {
    return InvalidArgument("p: size " + std::to_string(probabilities.size()) + " != labels size " +
                           std::to_string(n) + " * num_classes " + std::to_string(k));
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < k; ++c) {
      const double v = probabilities[i * k + c];
      if (!(v >= 0 && v <= 1)) {
        return InvalidArgument("p[" + std::to_string(i) + "][" + std::to_string(c) +
                               "]: must be in [0, 1]");
      }
    }
    if (labels[i] < 0 || static_cast<size_t>(labels[i]) >= k) {
      return InvalidArgument("labels[" + std::to_string(i) + "]: must be in [0, " +
                             std::to_string(k) + ")");
    }
  }
  RETURN_IF_ERROR(internal::CheckWeights(w, "labels", n));

  // Rows in a canonical order (by probabilities, then label, then weight), so that the sums
  // below do not depend on the input order.
  auto weight = [&](size_t i) { return w.empty() ? 1.0 : w[i]; };
  std::vector<size_t> order;
  order.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (weight(i) > 0) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto row_a = probabilities.subspan(a * k, k);
    const auto row_b = probabilities.subspan(b * k, k);
    for (size_t c = 0; c < k; ++c) {
      if (row_a[c] != row_b[c]) return row_a[c] < row_b[c];
    }
    if (labels[a] != labels[b]) return labels[a] < labels[b];
    return weight(a) < weight(b);
  });
  const size_t m = order.size();
  std::vector<double> logs(m * k);
  std::vector<double> observed(m);
  std::vector<double> weights(m);
  for (size_t r = 0; r < m; ++r) {
    const size_t i = order[r];
    for (size_t c = 0; c < k; ++c) {
      logs[r * k + c] = std::log(std::max(probabilities[i * k + c], kProbabilityClip));
    }
    observed[r] = logs[r * k + static_cast<size_t>(labels[i])];
    weights[r] = weight(i);
  }

  std::vector<double> s(k);
  const double beta = MinimizeOverBeta([&](double b) {
    // d/db of -ln softmax_y(b z) is E_s[z] - z_y; the second derivative Var_s[z], with s the
    // softmax of b z.
    Slope slope;
    for (size_t r = 0; r < m; ++r) {
      const double* z = logs.data() + r * k;
      double max_bz = b * z[0];
      for (size_t c = 1; c < k; ++c) max_bz = std::max(max_bz, b * z[c]);
      double total = 0;
      for (size_t c = 0; c < k; ++c) total += s[c] = std::exp(b * z[c] - max_bz);
      double mean = 0;
      for (size_t c = 0; c < k; ++c) mean += (s[c] /= total) * z[c];
      double variance = 0;
      for (size_t c = 0; c < k; ++c) variance += s[c] * (z[c] - mean) * (z[c] - mean);
      slope.first += weights[r] * (mean - observed[r]);
      slope.second += weights[r] * variance;
    }
    return slope;
  });
  return MulticlassTemperature(1 / beta);
}

Result<MulticlassTemperature> MulticlassTemperature::FromParams(const nlohmann::json& params) {
  ASSIGN_OR_RETURN(const double temperature, TemperatureParam(params));
  return MulticlassTemperature(temperature);
}

void MulticlassTemperature::ApplyRow(std::span<const double> row, std::span<double> out) const {
  assert(out.size() == row.size() && !row.empty());
  double max_z = -std::numeric_limits<double>::infinity();
  for (size_t c = 0; c < row.size(); ++c) {
    out[c] = std::log(std::max(row[c], kProbabilityClip)) / temperature_;
    max_z = std::max(max_z, out[c]);
  }
  double total = 0;
  for (double& v : out) total += v = std::exp(v - max_z);
  for (double& v : out) v /= total;
}

nlohmann::json MulticlassTemperature::Params() const {
  return nlohmann::json{{"temperature", temperature_}};
}

}  // namespace truthbook::calibration
