#include "calibration/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "calibration/calibrator.h"

namespace truthbook::calibration {
namespace {

// Slack for the gates' comparisons of computed metrics: a calibrator that reduces the ECE by
// exactly the threshold, or leaves the Brier score unchanged, must not fail on rounding.
constexpr double kGateSlack = 1e-12;

}  // namespace

Result<std::vector<int>> AssignFolds(int64_t n, const CrossFitOptions& options) {
  if (n < 2) return InvalidArgument("p: cross-fitting needs at least 2 samples");
  if (options.folds < 2 || options.folds > n) {
    return InvalidArgument("folds: must be in [2, " + std::to_string(n) + "]");
  }
  const auto size = static_cast<size_t>(n);
  const auto k = static_cast<size_t>(options.folds);
  std::vector<int> folds(size);
  switch (options.scheme) {
    case FoldScheme::kContiguous: {
      const size_t base = size / k;
      const size_t larger = size % k;  // the first `larger` folds hold base + 1
      size_t i = 0;
      for (size_t j = 0; j < k; ++j) {
        const size_t end = i + base + (j < larger ? 1 : 0);
        std::fill(folds.begin() + static_cast<std::ptrdiff_t>(i),
                  folds.begin() + static_cast<std::ptrdiff_t>(end), static_cast<int>(j));
        i = end;
      }
      return folds;
    }
    case FoldScheme::kInterleaved:
      for (size_t i = 0; i < size; ++i) folds[i] = static_cast<int>(i % k);
      return folds;
  }
  return InvalidArgument("scheme: unknown fold scheme");
}

Result<std::vector<double>> CrossFittedPredictions(std::span<const double> p,
                                                   std::span<const double> y,
                                                   std::span<const double> w, const FitFn& fit,
                                                   const CrossFitOptions& options) {
  RETURN_IF_ERROR(CheckBinarySample(p, y, w));
  ASSIGN_OR_RETURN(std::vector<int> folds, AssignFolds(static_cast<int64_t>(p.size()), options));
  std::vector<double> predictions(p.size());
  // One set of training buffers, refilled per fold: at most n samples each.
  std::vector<double> train_p;
  std::vector<double> train_y;
  std::vector<double> train_w;
  train_p.reserve(p.size());
  train_y.reserve(p.size());
  if (!w.empty()) train_w.reserve(p.size());
  for (int j = 0; j < options.folds; ++j) {
    train_p.clear();
    train_y.clear();
    train_w.clear();
    for (size_t i = 0; i < p.size(); ++i) {
      if (folds[i] == j) continue;
      train_p.push_back(p[i]);
      train_y.push_back(y[i]);
      if (!w.empty()) train_w.push_back(w[i]);
    }
    const std::string fold = "fold " + std::to_string(j) + ": ";
    Result<CalibratorFn> fitted = fit(train_p, train_y, train_w);
    if (!fitted.ok()) return Status(fitted.status().code(), fold + fitted.status().message());
    const CalibratorFn& calibrate = *fitted;
    if (!calibrate) return Internal(fold + "the fit returned no calibrator");
    for (size_t i = 0; i < p.size(); ++i) {
      if (folds[i] != j) continue;
      const double value = calibrate(p[i]);
      if (!(value >= 0 && value <= 1)) {
        return Internal(fold + "calibrator returned a value outside [0, 1] for p[" +
                        std::to_string(i) + "]");
      }
      predictions[i] = value;
    }
  }
  return predictions;
}

Result<HeldOutEvaluation> EvaluateHeldOut(std::span<const double> p, std::span<const double> y,
                                          std::span<const double> w, const FitFn& fit,
                                          const CrossFitOptions& cross_fit,
                                          const MetricsOptions& metrics) {
  HeldOutEvaluation evaluation;
  ASSIGN_OR_RETURN(evaluation.before, ComputeMetrics(p, y, w, metrics));
  ASSIGN_OR_RETURN(evaluation.predictions, CrossFittedPredictions(p, y, w, fit, cross_fit));
  ASSIGN_OR_RETURN(evaluation.after, ComputeMetrics(evaluation.predictions, y, w, metrics));
  return evaluation;
}

Status ValidateGateSettings(const GateSettings& settings) {
  if (settings.min_n < 0) return InvalidArgument("min_n: must be >= 0");
  if (!std::isfinite(settings.min_ece_reduction)) {
    return InvalidArgument("min_ece_reduction: must be finite");
  }
  return Status::Ok();
}

Result<Verdict> ApplyGates(const MetricsReport& before, const MetricsReport& after,
                           const GateSettings& settings) {
  RETURN_IF_ERROR(ValidateGateSettings(settings));
  Verdict verdict;
  verdict.gates.push_back({.name = std::string(kGateMinN),
                           .value = static_cast<double>(before.n),
                           .threshold = static_cast<double>(settings.min_n),
                           .passed = before.n >= settings.min_n});
  const double reduction = before.ece - after.ece;
  verdict.gates.push_back({.name = std::string(kGateEceReduction),
                           .value = reduction,
                           .threshold = settings.min_ece_reduction,
                           .passed = reduction >= settings.min_ece_reduction - kGateSlack});
  if (settings.brier_not_worse) {
    const double change = after.brier - before.brier;
    verdict.gates.push_back({.name = std::string(kGateBrierNotWorse),
                             .value = change,
                             .threshold = 0,
                             .passed = change <= kGateSlack});
  }
  verdict.passed = std::all_of(verdict.gates.begin(), verdict.gates.end(),
                               [](const GateResult& gate) { return gate.passed; });
  return verdict;
}

}  // namespace truthbook::calibration
