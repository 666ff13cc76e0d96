// Held-out evaluation of a calibration method and the gates that decide whether a fitted
// version may be activated (DESIGN §3 "Calibration"). "Held-out" means cross-fitted: the
// samples, in time order, are cut into k folds and each fold is scored by a calibrator fitted
// on the other folds only, so no calibrator is scored on data it was fitted on. The method is
// a callback (FitFn), so this file does not depend on any calibrator. Pure functions; safe from
// any thread as long as the FitFn is.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "calibration/metrics.h"

namespace truthbook::calibration {

// A fitted calibrator: raw probability in, calibrated probability in [0, 1] out.
using CalibratorFn = std::function<double(double)>;

// Fits a calibrator on (p, y, w), with the conventions of metrics.h (w empty = unit weights).
using FitFn = std::function<Result<CalibratorFn>(
    std::span<const double> p, std::span<const double> y, std::span<const double> w)>;

// How samples, given in time order, are assigned to the k folds.
enum class FoldScheme {
  // Fold j is the j-th contiguous block of the time order; the first n % k folds hold one
  // sample more (scikit-learn's KFold without shuffling).
  kContiguous,
  // Sample i goes to fold i % k: with k = 2 the even and the odd samples.
  kInterleaved,
};

struct CrossFitOptions {
  int folds = 5;                                // k; 2 <= k <= the number of samples
  FoldScheme scheme = FoldScheme::kContiguous;  // see FoldScheme
};

// The fold of each of `n` samples under `options`.
// Success: n fold numbers in [0, k), every fold non-empty.
// Failure: InvalidArgument "p: cross-fitting needs at least 2 samples", or
// "folds: must be in [2, 20]" (with n's value as the bound).
Result<std::vector<int>> AssignFolds(int64_t n, const CrossFitOptions& options);

// The cross-fitted predictions: for each fold, `fit` on the samples outside it (in their
// original order, with their weights), applied to the fold's p.
// Success: one prediction per sample, in input order, each in [0, 1].
// Failure: InvalidArgument for bad inputs (metrics.h conventions) or folds; the first error of
// `fit`, with its code and the message prefixed by "fold j: "; Internal "fold j: calibrator
// returned a value outside [0, 1] for p[i]" (NaN included), or "fold j: the fit returned no
// calibrator" for an empty CalibratorFn.
Result<std::vector<double>> CrossFittedPredictions(std::span<const double> p,
                                                   std::span<const double> y,
                                                   std::span<const double> w, const FitFn& fit,
                                                   const CrossFitOptions& options = {});

// The metrics of the raw forecasts and of their cross-fitted calibration, on the same samples
// and weights.
struct HeldOutEvaluation {
  std::vector<double> predictions;  // CrossFittedPredictions
  MetricsReport before;             // ComputeMetrics(p, y, w)
  MetricsReport after;              // ComputeMetrics(predictions, y, w)
};

// Success and failure as CrossFittedPredictions and ComputeMetrics.
Result<HeldOutEvaluation> EvaluateHeldOut(std::span<const double> p, std::span<const double> y,
                                          std::span<const double> w, const FitFn& fit,
                                          const CrossFitOptions& cross_fit = {},
                                          const MetricsOptions& metrics = {});

// When a calibration version may be activated. Every setting can be given per job.
struct GateSettings {
  int64_t min_n = 1000;             // at least this many samples (gate "min_n"); >= 0
  double min_ece_reduction = 0.01;  // held-out ECE at least this much below the raw ECE (gate
                                    // "ece_reduction"); finite, may be <= 0 to relax the gate
  bool brier_not_worse = true;      // held-out Brier <= raw Brier (gate "brier_not_worse");
                                    // false leaves the gate out
};

// The stable names of the gates, as stored.
inline constexpr std::string_view kGateMinN = "min_n";
inline constexpr std::string_view kGateEceReduction = "ece_reduction";
inline constexpr std::string_view kGateBrierNotWorse = "brier_not_worse";

// One gate's outcome: passed iff value >= threshold, except for brier_not_worse where
// value = Brier after - Brier before and passed iff value <= threshold (= 0). The two metric
// gates allow 1e-12 of rounding, so an ECE reduced by exactly the threshold passes.
struct GateResult {
  std::string name;
  double value = 0;
  double threshold = 0;
  bool passed = false;

  friend bool operator==(const GateResult&, const GateResult&) = default;
};

struct Verdict {
  std::vector<GateResult> gates;  // min_n, ece_reduction, then brier_not_worse when enabled
  bool passed = false;            // every gate passed

  friend bool operator==(const Verdict&, const Verdict&) = default;
};

// Failure: InvalidArgument "min_n: must be >= 0" or "min_ece_reduction: must be finite".
Status ValidateGateSettings(const GateSettings& settings);

// The gates of a held-out evaluation: min_n on before.n, ece_reduction = before.ece -
// after.ece, brier_not_worse = after.brier - before.brier.
// Success: every enabled gate with its value and verdict. Failure: as ValidateGateSettings.
Result<Verdict> ApplyGates(const MetricsReport& before, const MetricsReport& after,
                           const GateSettings& settings = {});

}  // namespace truthbook::calibration
