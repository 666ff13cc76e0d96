#include "calibration/fit_support.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

// The wide-lane kernels pass 64-byte vectors between functions that are always inlined into
// one compiled for AVX-512; -Wpsabi notes the ABI such a call would have, but none is made.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace truthbook::calibration::internal {

namespace {

// Newton's decrement squared (g' H^-1 g) below which the loss can no longer measure progress
// in double precision, while Newton's method is deep in its quadratic phase: from here full
// steps are taken without a line search.
constexpr double kPolishDecrement = 1e-6;
constexpr int kMaxPolishSteps = 8;
constexpr int kMaxNewtonIterations = 200;
// A step that moves no coefficient by more than this (relative to max(1, |coef|)) has
// converged.
constexpr double kStepTolerance = 1e-15;

struct Evaluation {
  double loss = 0;
  LogisticCoefficients gradient{};
  std::array<LogisticCoefficients, kMaxLogisticCoefficients> hessian{};  // lower triangle
};

// What bounds the terms of the sums: the largest weight and the largest |feature| of each
// column (the intercept's column is 1).
struct Scales {
  double max_weight = 1;
  LogisticCoefficients max_abs_feature{1, 1, 1};
};

Scales ScalesOf(const LogisticProblem& problem) {
  Scales scales;
  if (!problem.weights.empty()) {
    scales.max_weight = *std::max_element(problem.weights.begin(), problem.weights.end());
  }
  for (size_t j = 0; j < problem.num_features; ++j) {
    double max_abs = 0;
    for (const double x : problem.features[j]) max_abs = std::max(max_abs, std::abs(x));
    scales.max_abs_feature[j] = max_abs;
  }
  return scales;
}

// The loss (if kLoss) and its gradient and Hessian (if kDerivatives), in one pass, with d = kD
// features. Each sum is a ReproducibleSum, bounded by |q - t| <= 1, q (1 - q) <= 1/4 and a
// loss term <= w (|z| + ln 2).
template <size_t kD, bool kLoss, bool kDerivatives>
Evaluation EvaluateFixed(const LogisticProblem& problem, const Scales& scales,
                         const LogisticCoefficients& coef) {
  constexpr size_t kM = kD + 1;
  const size_t n = problem.targets.size();
  const double* const t = problem.targets.data();
  const double* const w = problem.weights.data();
  const bool weighted = !problem.weights.empty();
  std::array<const double*, kMaxLogisticCoefficients> x{};
  for (size_t j = 0; j != kD; ++j) x[j] = problem.features[j].data();
  double max_abs_z = std::abs(coef[kD]);
  for (size_t j = 0; j != kD; ++j) max_abs_z += std::abs(coef[j]) * scales.max_abs_feature[j];
  return RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    ReproducibleSum<V> loss(scales.max_weight * (max_abs_z + 1), n);
    std::array<ReproducibleSum<V>, kM> gradient;
    std::array<ReproducibleSum<V>, kM*(kM + 1) / 2> hessian;  // row-major lower triangle
    for (size_t j = 0, jk = 0; j < kM; ++j) {
      gradient[j] = ReproducibleSum<V>(scales.max_weight * scales.max_abs_feature[j], n);
      for (size_t k = 0; k <= j; ++k, ++jk) {
        hessian[jk] = ReproducibleSum<V>(
            scales.max_weight * scales.max_abs_feature[j] * scales.max_abs_feature[k] / 4, n);
      }
    }
    for (size_t i = 0; i < n; i += kLanesOf<V>) {
      // Lanes past n hold weight 0 (or, unweighted, are masked below), so their terms are 0.
      std::array<V, kM> row;
      row[kD] = Broadcast<V>(1);
      V z = Broadcast<V>(coef[kD]);
      for (size_t j = 0; j != kD; ++j) {
        row[j] = LoadLanes<V>(x[j], i, n);
        z += coef[j] * row[j];
      }
      const V target = LoadLanes<V>(t, i, n);
      V weight = Broadcast<V>(1);
      if (weighted) {
        weight = LoadLanes<V>(w, i, n);
      } else if (i + kLanesOf<V> > n) {
        for (size_t l = n - i; l < kLanesOf<V>; ++l) weight[l] = 0;
      }
      const V e = ExpNonPositive(-Abs(z));
      if constexpr (kLoss) {
        const V l = Log1pUnit(e);
        const V softplus_z = (z > 0 ? z : V{}) + l;         // ln(1 + e^z)
        const V softplus_minus_z = (z < 0 ? -z : V{}) + l;  // ln(1 + e^-z)
        loss.Add(weight * (target * softplus_minus_z + (1.0 - target) * softplus_z));
      }
      if constexpr (kDerivatives) {
        const V inverse = 1.0 / (1.0 + e);
        const V q = z >= 0 ? inverse : e * inverse;
        const V r = weight * (q - target);
        const V h = weight * e * inverse * inverse;  // w q (1 - q)
        for (size_t j = 0, jk = 0; j < kM; ++j) {
          gradient[j].Add(r * row[j]);
          for (size_t k = 0; k <= j; ++k, ++jk) hessian[jk].Add(h * row[j] * row[k]);
        }
      }
    }
    Evaluation ev;
    if constexpr (kLoss) ev.loss = loss.Total();
    if constexpr (kDerivatives) {
      for (size_t j = 0, jk = 0; j < kM; ++j) {
        ev.gradient[j] = gradient[j].Total();
        for (size_t k = 0; k <= j; ++k, ++jk) ev.hessian[j][k] = hessian[jk].Total();
      }
    }
    return ev;
  });
}

template <bool kLoss, bool kDerivatives>
Evaluation Evaluate(const LogisticProblem& problem, const Scales& scales,
                    const LogisticCoefficients& coef) {
  switch (problem.num_features) {
    case 0:
      return EvaluateFixed<0, kLoss, kDerivatives>(problem, scales, coef);
    case 1:
      return EvaluateFixed<1, kLoss, kDerivatives>(problem, scales, coef);
    default:
      return EvaluateFixed<2, kLoss, kDerivatives>(problem, scales, coef);
  }
}

// Solves (H + damping·diag(H)) x = rhs by Cholesky for the m x m lower triangle H. False if
// a pivot falls to 1e-13 of its diagonal entry or below: a feature that is, to working
// precision, a combination of the others. Scaling by the diagonal keeps both the test and the
// damping independent of the features' units.
bool SolveCholesky(const std::array<LogisticCoefficients, kMaxLogisticCoefficients>& hessian,
                   size_t m, double damping, const LogisticCoefficients& rhs,
                   LogisticCoefficients& x) {
  std::array<LogisticCoefficients, kMaxLogisticCoefficients> l{};
  for (size_t j = 0; j < m; ++j) {
    const double scale = hessian[j][j] > 0 ? hessian[j][j] : 1;
    double s = hessian[j][j] + damping * scale;
    for (size_t k = 0; k < j; ++k) s -= l[j][k] * l[j][k];
    if (!(s > 1e-13 * scale)) return false;
    l[j][j] = std::sqrt(s);
    for (size_t i = j + 1; i < m; ++i) {
      double v = hessian[i][j];
      for (size_t k = 0; k < j; ++k) v -= l[i][k] * l[j][k];
      l[i][j] = v / l[j][j];
    }
  }
  LogisticCoefficients u{};
  for (size_t i = 0; i < m; ++i) {
    double v = rhs[i];
    for (size_t k = 0; k < i; ++k) v -= l[i][k] * u[k];
    u[i] = v / l[i][i];
  }
  for (size_t i = m; i-- > 0;) {
    double v = u[i];
    for (size_t k = i + 1; k < m; ++k) v -= l[k][i] * x[k];
    x[i] = v / l[i][i];
  }
  return true;
}

// The Newton direction -H^-1 g. A Hessian that is singular to working precision gets the
// smallest Levenberg-Marquardt damping (1e-12 of its diagonal, times powers of 100) that lets
// it factor; one that does not factor even then (it has vanished, or is not finite) gives the
// steepest-descent direction.
LogisticCoefficients NewtonDirection(const Evaluation& ev, size_t m) {
  LogisticCoefficients minus_gradient{};
  for (size_t j = 0; j < m; ++j) minus_gradient[j] = -ev.gradient[j];
  LogisticCoefficients direction{};
  for (double damping = 0; damping <= 1; damping = damping == 0 ? 1e-12 : damping * 100) {
    if (SolveCholesky(ev.hessian, m, damping, minus_gradient, direction)) return direction;
  }
  return minus_gradient;
}

// The largest change `step` makes to a coefficient, relative to max(1, |coefficient|).
double RelativeStepSize(const LogisticCoefficients& coef, const LogisticCoefficients& step,
                        size_t m) {
  double size = 0;
  for (size_t j = 0; j < m; ++j) {
    size = std::max(size, std::abs(step[j]) / std::max(1.0, std::abs(coef[j])));
  }
  return size;
}

std::string ParamName(std::string_view key) { return "params." + std::string(key); }

}  // namespace

Status CheckSameSize(std::string_view name, size_t size, std::string_view reference_name,
                     size_t reference_size) {
  if (size == reference_size) return Status::Ok();
  return InvalidArgument(std::string(name) + ": size " + std::to_string(size) + " != " +
                         std::string(reference_name) + " size " + std::to_string(reference_size));
}

Status CheckWeights(std::span<const double> w, std::string_view reference_name, size_t n) {
  if (w.empty()) return Status::Ok();
  RETURN_IF_ERROR(CheckSameSize("w", w.size(), reference_name, n));
  double sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (!(std::isfinite(w[i]) && w[i] >= 0)) {
      return InvalidArgument("w[" + std::to_string(i) + "]: must be finite and >= 0");
    }
    sum += w[i];
  }
  if (!(sum > 0)) return InvalidArgument("w: must have a positive sum");
  if (!std::isfinite(sum)) return InvalidArgument("w: must have a finite sum");
  return Status::Ok();
}

Status CheckFinite(std::string_view name, std::span<const double> x) {
  // |v| <= max is false for infinities and NaN.
  const size_t i = FirstFlagged(x, [](const Lanes& v) {
    return Abs(v) <= std::numeric_limits<double>::max() ? Lanes{} : Broadcast<Lanes>(1);
  });
  if (i == x.size()) return Status::Ok();
  return InvalidArgument(std::string(name) + "[" + std::to_string(i) + "]: must be finite");
}

double ReproducibleTotal(std::span<const double> v) {
  double max_abs = 0;
  for (const double x : v) max_abs = std::max(max_abs, std::abs(x));
  return RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    ReproducibleSum<V> sum(max_abs, v.size());
    for (size_t i = 0; i < v.size(); i += kLanesOf<V>) sum.Add(LoadLanes<V>(v.data(), i, v.size()));
    return sum.Total();
  });
}

std::pair<double, double> Range(std::span<const double> v) {
  return RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    V lo = Broadcast<V>(v[0]);
    V hi = lo;
    size_t i = 0;
    for (; i + kLanesOf<V> <= v.size(); i += kLanesOf<V>) {
      const V lanes = LoadLanes<V>(v.data(), i, v.size());
      lo = lanes < lo ? lanes : lo;
      hi = lanes > hi ? lanes : hi;
    }
    std::pair<double, double> range(v[0], v[0]);
    for (size_t lane = 0; lane < kLanesOf<V>; ++lane) {
      range.first = std::min(range.first, lo[lane]);
      range.second = std::max(range.second, hi[lane]);
    }
    for (; i < v.size(); ++i) {
      range.first = std::min(range.first, v[i]);
      range.second = std::max(range.second, v[i]);
    }
    return range;
  });
}

std::pair<double, double> LabelWeights(std::span<const double> labels,
                                       std::span<const double> weights) {
  if (weights.empty()) {
    size_t positives = 0;
    for (const double label : labels) positives += label > 0 ? 1 : 0;
    return {static_cast<double>(positives), static_cast<double>(labels.size() - positives)};
  }
  const double max_weight = *std::max_element(weights.begin(), weights.end());
  return RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    ReproducibleSum<V> positive(max_weight, labels.size());
    ReproducibleSum<V> negative(max_weight, labels.size());
    for (size_t i = 0; i < labels.size(); i += kLanesOf<V>) {
      const V label = LoadLanes<V>(labels.data(), i, labels.size());
      const V weight = LoadLanes<V>(weights.data(), i, labels.size());
      positive.Add(label * weight);
      negative.Add((1.0 - label) * weight);
    }
    return std::pair<double, double>(positive.Total(), negative.Total());
  });
}

void ClippedLogits(std::span<const double> p, std::span<double> out) {
  RunOnLanes([&]<typename V>() __attribute__((always_inline)) {
    for (size_t i = 0; i < p.size(); i += kLanesOf<V>) {
      StoreLanes<V>(ClippedLogit(LoadLanes<V>(p.data(), i, p.size())), out.data(), i, p.size());
    }
    return 0;
  });
}

double LogisticLoss(const LogisticProblem& problem, const LogisticCoefficients& coef) {
  return Evaluate<true, false>(problem, ScalesOf(problem), coef).loss;
}

LogisticCoefficients FitLogistic(const LogisticProblem& problem,
                                 const LogisticCoefficients& start) {
  const size_t m = problem.num_features + 1;
  const Scales scales = ScalesOf(problem);
  LogisticCoefficients coef = start;
  Evaluation ev = Evaluate<true, true>(problem, scales, coef);
  bool polishing = false;
  int polish_steps = 0;
  double last_polish_step = std::numeric_limits<double>::infinity();
  for (int iteration = 0; iteration < kMaxNewtonIterations; ++iteration) {
    const LogisticCoefficients direction = NewtonDirection(ev, m);
    double slope = 0;  // g . d = -(Newton decrement)^2 for a Newton direction
    for (size_t j = 0; j < m; ++j) slope += ev.gradient[j] * direction[j];
    if (!(slope < 0)) break;  // zero gradient: at the optimum
    if (polishing || -slope <= kPolishDecrement) {
      // The loss is flat to rounding here, so it cannot referee a line search; Newton's
      // quadratic convergence makes each full step square the remaining error, until the
      // steps stop shrinking (rounding noise in the gradient) or vanish.
      polishing = true;
      for (size_t j = 0; j < m; ++j) coef[j] += direction[j];
      const double size = RelativeStepSize(coef, direction, m);
      if (size <= kStepTolerance || size > 0.5 * last_polish_step ||
          ++polish_steps >= kMaxPolishSteps) {
        break;
      }
      last_polish_step = size;
      ev = Evaluate<false, true>(problem, scales, coef);
      continue;
    }
    double step = 1;
    bool accepted = false;
    LogisticCoefficients candidate = coef;
    for (int halving = 0; halving < 60; ++halving, step /= 2) {
      for (size_t j = 0; j < m; ++j) candidate[j] = coef[j] + step * direction[j];
      Evaluation trial = Evaluate<true, true>(problem, scales, candidate);
      if (trial.loss <= ev.loss + 1e-4 * step * slope) {
        ev = trial;
        accepted = true;
        break;
      }
    }
    if (!accepted) break;
    LogisticCoefficients taken{};
    for (size_t j = 0; j < m; ++j) taken[j] = candidate[j] - coef[j];
    coef = candidate;
    if (RelativeStepSize(coef, taken, m) <= kStepTolerance) break;
  }
  return coef;
}

Status CheckParamKeys(const nlohmann::json& params,
                      std::initializer_list<std::string_view> allowed) {
  if (!params.is_object()) return InvalidArgument("params: must be an object");
  for (const auto& [key, value] : params.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgument(ParamName(key) + ": unknown field");
    }
  }
  return Status::Ok();
}

Result<double> ParamNumber(const nlohmann::json& params, std::string_view key) {
  const auto it = params.find(key);
  if (it == params.end()) return InvalidArgument(ParamName(key) + ": missing");
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return InvalidArgument(ParamName(key) + ": must be a finite number");
  }
  return it->get<double>();
}

Result<std::vector<double>> ParamArray(const nlohmann::json& params, std::string_view key) {
  const auto it = params.find(key);
  if (it == params.end()) return InvalidArgument(ParamName(key) + ": missing");
  if (!it->is_array() || it->empty()) {
    return InvalidArgument(ParamName(key) + ": must be a non-empty array");
  }
  std::vector<double> values;
  values.reserve(it->size());
  for (const nlohmann::json& element : *it) {
    if (!element.is_number() || !std::isfinite(element.get<double>())) {
      return InvalidArgument(ParamName(key) + "[" + std::to_string(values.size()) +
                             "]: must be a finite number");
    }
    values.push_back(element.get<double>());
  }
  return values;
}

}  // namespace truthbook::calibration::internal
