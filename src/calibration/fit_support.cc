#include "calibration/fit_support.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <utility>

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

// The loss (if kLoss) and its gradient and Hessian (if kDerivatives), in one pass.
template <bool kLoss, bool kDerivatives>
Evaluation Evaluate(const LogisticProblem& problem, const LogisticCoefficients& coef) {
  const size_t d = problem.num_features;
  const size_t n = problem.targets.size();
  Evaluation ev;
  std::array<double, kMaxLogisticCoefficients> row{};
  row[d] = 1;
  for (size_t i = 0; i < n; ++i) {
    const double* x = problem.features.data() + i * d;
    double z = coef[d];
    for (size_t j = 0; j < d; ++j) z += coef[j] * x[j];
    const double t = problem.targets[i];
    const double w = problem.weights[i];
    const double e = std::exp(-std::abs(z));
    if constexpr (kLoss) {
      const double l = std::log1p(e);
      const double softplus_z = (z > 0 ? z : 0) + l;         // ln(1 + e^z)
      const double softplus_minus_z = (z < 0 ? -z : 0) + l;  // ln(1 + e^-z)
      ev.loss += w * (t * softplus_minus_z + (1 - t) * softplus_z);
    }
    if constexpr (kDerivatives) {
      const double q = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      const double r = w * (q - t);
      const double h = w * e / ((1 + e) * (1 + e));  // w q (1 - q)
      for (size_t j = 0; j < d; ++j) row[j] = x[j];
      for (size_t j = 0; j <= d; ++j) {
        ev.gradient[j] += r * row[j];
        for (size_t k = 0; k <= j; ++k) ev.hessian[j][k] += h * row[j] * row[k];
      }
    }
  }
  return ev;
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

// Below this size std::sort is faster than the radix sort's passes.
constexpr size_t kRadixSortMinimum = 4096;
constexpr int kRadixBits = 11;
constexpr size_t kRadixBuckets = size_t{1} << kRadixBits;
constexpr int kRadixPasses = (64 + kRadixBits - 1) / kRadixBits;

// The bits of a non-NaN double, mapped so that unsigned order is numeric order (-0 < +0; the
// caller has already made every zero +0).
uint64_t OrderedBits(double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

// Sorts by x ascending, stably, in kRadixPasses counting passes over 11-bit digits; a pass
// whose digit is the same for every point is skipped.
void RadixSortByX(std::vector<WeightedPoint>& points) {
  const size_t n = points.size();
  std::vector<std::array<size_t, kRadixBuckets>> counts(kRadixPasses);
  for (const WeightedPoint& point : points) {
    const uint64_t key = OrderedBits(point.x);
    for (int pass = 0; pass < kRadixPasses; ++pass) {
      ++counts[pass][(key >> (pass * kRadixBits)) & (kRadixBuckets - 1)];
    }
  }
  std::vector<WeightedPoint> scratch(n);
  for (int pass = 0; pass < kRadixPasses; ++pass) {
    std::array<size_t, kRadixBuckets>& count = counts[pass];
    if (std::find(count.begin(), count.end(), n) != count.end()) continue;
    size_t offset = 0;
    for (size_t& c : count) offset += std::exchange(c, offset);
    for (const WeightedPoint& point : points) {
      scratch[count[(OrderedBits(point.x) >> (pass * kRadixBits)) & (kRadixBuckets - 1)]++] = point;
    }
    points.swap(scratch);
  }
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
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return InvalidArgument(std::string(name) + "[" + std::to_string(i) + "]: must be finite");
    }
  }
  return Status::Ok();
}

std::vector<WeightedPoint> SortedPoints(std::span<const double> x, std::span<const double> y,
                                        std::span<const double> w) {
  std::vector<WeightedPoint> points;
  points.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double weight = w.empty() ? 1.0 : w[i];
    if (weight == 0) continue;
    // Adding +0 turns -0 into +0, so that equal keys are equal bits.
    points.push_back({x[i] + 0.0, y[i] + 0.0, weight});
  }
  const auto less = [](const WeightedPoint& a, const WeightedPoint& b) {
    return std::tie(a.x, a.y, a.w) < std::tie(b.x, b.y, b.w);
  };
  if (points.size() < kRadixSortMinimum) {
    std::sort(points.begin(), points.end(), less);
    return points;
  }
  // Large samples: a stable LSD radix sort on x, then each run of equal x by (y, w). The
  // order is the same total order either way, so the result does not depend on the path.
  RadixSortByX(points);
  for (size_t begin = 0; begin < points.size();) {
    size_t end = begin + 1;
    while (end < points.size() && points[end].x == points[begin].x) ++end;
    if (end - begin > 1)
      std::sort(points.begin() + static_cast<std::ptrdiff_t>(begin),
                points.begin() + static_cast<std::ptrdiff_t>(end), less);
    begin = end;
  }
  return points;
}

double LogisticLoss(const LogisticProblem& problem, const LogisticCoefficients& coef) {
  return Evaluate<true, false>(problem, coef).loss;
}

LogisticCoefficients FitLogistic(const LogisticProblem& problem,
                                 const LogisticCoefficients& start) {
  const size_t m = problem.num_features + 1;
  LogisticCoefficients coef = start;
  Evaluation ev = Evaluate<true, true>(problem, coef);
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
      ev = Evaluate<false, true>(problem, coef);
      continue;
    }
    double step = 1;
    bool accepted = false;
    LogisticCoefficients candidate = coef;
    for (int halving = 0; halving < 60; ++halving, step /= 2) {
      for (size_t j = 0; j < m; ++j) candidate[j] = coef[j] + step * direction[j];
      Evaluation trial = Evaluate<true, true>(problem, candidate);
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
