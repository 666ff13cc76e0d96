#include "calibration/temperature.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "calibration/fit_support.h"
#include "calibration/lane_math.h"
#include "calibration/scratch.h"

// The wide-lane kernels pass 64-byte vectors between functions that are always inlined into
// one compiled for AVX-512; -Wpsabi notes the ABI such a call would have, but none is made.
#pragma GCC diagnostic ignored "-Wpsabi"

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
    const double tolerance = 2 * std::numeric_limits<double>::epsilon() * beta;
    double next = beta - slope.first / slope.second;
    if (!(next > lo && next < hi)) {
      // A step that rounds onto the end of the bracket that beta just became has converged;
      // a longer one left the bracket.
      if (std::abs(next - beta) <= tolerance) break;
      next = std::sqrt(lo * hi);
      if (!(next > lo && next < hi)) break;  // the bracket is two adjacent doubles
    }
    const bool converged = std::abs(next - beta) <= tolerance;
    beta = next;
    if (converged) break;
    slope = slope_at(beta);
  }
  return beta;
}

// The binary sample as the slope needs it. With s_i = z_i where y_i = 0 and s_i = -z_i where
// y_i = 1 (z_i = ClippedLogit(p_i)), each term depends on (s_i, w_i) alone:
// w (q - y) z = w sigmoid(b s) s and w q (1 - q) z^2 = w sigmoid'(b s) s^2, q = sigmoid(b z).
struct BinarySample {
  internal::ScratchArray<double> signed_logits;  // s_i; samples of weight 0 dropped
  internal::ScratchArray<double> weights;        // w_i, or empty when every weight is 1
  double max_abs_logit = 0;
  double max_weight = 1;
};

BinarySample MakeBinarySample(std::span<const double> p, std::span<const double> y,
                              std::span<const double> w) {
  BinarySample sample;
  // First p itself, its sign bit set where y = 1 (-0.0 for p = 0); then the logits in place.
  sample.signed_logits = internal::ScratchArray<double>(p.size());
  double* s = sample.signed_logits.data();
  size_t n = 0;
  if (w.empty()) {
    for (size_t i = 0; i < p.size(); ++i) s[i] = y[i] > 0 ? -p[i] : p[i];
    n = p.size();
  } else {
    sample.weights = internal::ScratchArray<double>(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      if (w[i] == 0) continue;
      sample.weights[n] = w[i];
      s[n++] = y[i] > 0 ? -p[i] : p[i];
    }
    sample.weights.Truncate(n);
    sample.signed_logits.Truncate(n);
    sample.max_weight = *std::max_element(sample.weights.begin(), sample.weights.end());
  }
  sample.max_abs_logit = internal::RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    V max_abs{};
    for (size_t i = 0; i < n; i += internal::kLanesOf<V>) {
      const V signed_p = internal::LoadLanes<V>(s, i, n);
      const V z = internal::ClippedLogit(internal::Abs(signed_p));
      max_abs = internal::Abs(z) > max_abs ? internal::Abs(z) : max_abs;
      const auto negative = (internal::MaskOf<V>)signed_p < 0;  // the sign bit
      internal::StoreLanes<V>(negative ? -z : z, s, i, n);
    }
    double result = 0;
    for (size_t lane = 0; lane < internal::kLanesOf<V>; ++lane) {
      result = std::max(result, max_abs[lane]);
    }
    return result;
  });
  return sample;
}

// The loss's derivatives in beta over the binary sample, the same bits in any order.
Slope BinarySlope(const BinarySample& sample, double beta) {
  const double* s = sample.signed_logits.data();
  const double* w = sample.weights.data();
  const bool weighted = !sample.weights.empty();
  const size_t n = sample.signed_logits.size();
  // |sigmoid(b s) s| <= |s|, sigmoid' <= 1/4.
  const double first_bound = sample.max_weight * sample.max_abs_logit;
  const double second_bound = first_bound * sample.max_abs_logit / 4;
  return internal::RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    internal::ReproducibleSum<V> first(first_bound, n);
    internal::ReproducibleSum<V> second(second_bound, n);
    for (size_t i = 0; i < n; i += internal::kLanesOf<V>) {
      // Lanes past n hold s = 0, whose terms are 0.
      const V si = internal::LoadLanes<V>(s, i, n);
      const V u = beta * si;
      const V e = internal::ExpNonPositive(-internal::Abs(u));
      const V inverse = 1.0 / (1.0 + e);
      const V sigmoid = u >= 0 ? inverse : e * inverse;
      V first_term = sigmoid * si;
      V second_term = e * inverse * inverse * si * si;
      if (weighted) {
        const V wi = internal::LoadLanes<V>(w, i, n);
        first_term *= wi;
        second_term *= wi;
      }
      first.Add(first_term);
      second.Add(second_term);
    }
    return Slope{first.Total(), second.Total()};
  });
}

}  // namespace

Result<double> FitTemperature(std::span<const double> p, std::span<const double> y,
                              std::span<const double> w) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  const BinarySample sample = MakeBinarySample(p, y, w);
  return 1 / MinimizeOverBeta([&](double b) { return BinarySlope(sample, b); });
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
