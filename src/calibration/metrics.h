// How well binary probability forecasts are calibrated: reliability bins, ECE/MCE and adaptive
// ECE, Brier with its decompositions, and log loss (DESIGN §3 "Calibration"). Every function
// takes weights and follows scikit-learn 1.2.1's semantics where it has the metric; the
// reference vectors are in ../shared/reference/calibration.json. Pure functions, no I/O and no
// globals; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <vector>

#include "base/status.h"

namespace truthbook::calibration {

// Shared conventions for the inputs of every function below:
//   p: probabilities of the positive outcome, each in [0, 1] (NaN is refused);
//   y: outcomes, each exactly 0 or 1, one per p;
//   w: weights, each finite and >= 0 with a positive sum, one per p; an EMPTY span means
//      unit weights (and is faster).
// A function that validates them fails with InvalidArgument naming the field:
// "p: must not be empty", "y: size 4 != p size 5", "w: size 4 != p size 5",
// "p[3]: must be in [0, 1]", "y[3]: must be 0 or 1", "w[3]: must be finite and >= 0",
// "w: must have a positive sum" (the messages of calibrator.h's CheckBinarySample, which
// checks a sample on its own). With several bad samples, the first one is named.

// The most bins a function accepts: each costs memory (two arrays of B entries), not time per
// sample.
inline constexpr int kMaxBins = 1'000'000;

enum class BinStrategy {
  // Equal width: edges e_i = i * (1.0 / B) in double, last edge 1.0 (numpy.linspace). A value
  // goes to the bin numbered by how many interior edges e_1..e_{B-1} lie strictly below it, so
  // 0.5 with B = 2 goes to the lower bin and 0.3 with B = 10 to bin 2 (as 3 * 0.1 > 0.3).
  // Exactly scikit-learn's calibration_curve (searchsorted on the interior edges).
  kUniform,
  // Equal mass: the edges are the unweighted sample quantiles of the values at i / B (numpy
  // percentile, method "linear"), so each bin holds about n / B samples whatever the weights;
  // the same bin rule as kUniform. calibration_curve(strategy="quantile").
  kQuantile,
};

// What is binned.
enum class Target {
  kPositiveClass,  // value p, outcome y (scikit-learn's calibration_curve)
  kTopLabel,       // value max(p, 1 - p), outcome "the more likely class happened"; the
                   // predicted class is 1 when p > 0.5, so p = 0.5 predicts class 0 (argmax)
};

// One non-empty bin of a reliability diagram.
struct ReliabilityBin {
  double lo = 0;  // the bin's edges; the bin holds values in (lo, hi], the first also lo
  double hi = 0;
  double mean_p = 0;    // weighted mean of the values in the bin
  double hit_rate = 0;  // weighted mean of the outcomes in the bin
  double weight = 0;    // sum of the weights in the bin (the count with unit weights)
  int64_t count = 0;    // samples in the bin

  friend bool operator==(const ReliabilityBin&, const ReliabilityBin&) = default;
};

// The reliability diagram of (p, y, w) in `bins` bins by `strategy`, over `target`.
// Success: the non-empty bins in increasing order (empty ones are left out, as
// calibration_curve does, so each bin carries its own lo and hi). With unit weights mean_p and
// hit_rate equal calibration_curve's prob_pred and prob_true bit for bit (sums in input order).
// Failure: InvalidArgument for bad inputs (see the conventions above) or
// "bins: must be in [1, 1000000]".
Result<std::vector<ReliabilityBin>> ReliabilityBins(std::span<const double> p,
                                                    std::span<const double> y,
                                                    std::span<const double> w, int bins,
                                                    BinStrategy strategy = BinStrategy::kUniform,
                                                    Target target = Target::kPositiveClass);

// Calibration errors of one set of bins; gap_b = |hit_rate_b - mean_p_b|, W_b a bin's weight
// and W their sum.
struct CalibrationSummary {
  double ece = 0;       // L1: sum_b (W_b / W) gap_b (Guo et al. 2017)
  double mce = 0;       // max_b gap_b
  double mean_gap = 0;  // unweighted mean of gap_b over the bins: netcal's "ACE" (Neumann et
                        // al. 2018), not the equal-mass ECE this module calls adaptive
  double l2 = 0;        // sqrt(sum_b (W_b / W) gap_b^2), Kumar et al. 2019's plug-in
  double l2_squared_debiased = 0;  // sum_b (W_b / W) (gap_b^2 - h_b (1 - h_b) / (count_b - 1))
                                   // with h_b the hit rate; a bin of one sample adds 0. May be
                                   // negative; the debiased L2 error is sqrt(max(0, this)).
                                   // Kumar's estimator, exact for unit weights.
  int64_t nonempty_bins = 0;
};

// The errors of `bins` as returned by ReliabilityBins. Every field is 0 for no bins.
// REQUIRES: every bin's weight > 0 and count >= 1 (as ReliabilityBins returns them).
CalibrationSummary SummarizeBins(std::span<const ReliabilityBin> bins);

// ReliabilityBins then SummarizeBins. Success and failure as ReliabilityBins.
Result<CalibrationSummary> CalibrationErrors(std::span<const double> p, std::span<const double> y,
                                             std::span<const double> w, int bins,
                                             BinStrategy strategy = BinStrategy::kUniform,
                                             Target target = Target::kPositiveClass);

// The expected calibration error (L1) with `bins` equal-width bins, and the adaptive one with
// equal-mass bins. Success and failure as ReliabilityBins.
Result<double> ExpectedCalibrationError(std::span<const double> p, std::span<const double> y,
                                        std::span<const double> w, int bins = 10);
Result<double> AdaptiveCalibrationError(std::span<const double> p, std::span<const double> y,
                                        std::span<const double> w, int bins = 10);

// The weighted mean of (p - y)^2 (brier_score_loss). Failure: InvalidArgument for bad inputs.
Result<double> BrierScore(std::span<const double> p, std::span<const double> y,
                          std::span<const double> w);

// The weighted mean of -ln(probability given to the outcome), as scikit-learn 1.2.1's log_loss
// with eps="auto": p is clipped to [eps, 1 - eps] with eps the machine epsilon of double
// (2^-52), so a certain forecast that missed costs 36.04 rather than infinity.
// Failure: InvalidArgument for bad inputs.
Result<double> LogLoss(std::span<const double> p, std::span<const double> y,
                       std::span<const double> w);

// Murphy (1973): Brier = reliability - resolution + uncertainty, with ō the weighted base rate,
// reliability = sum_g (W_g / W)(p_g - o_g)^2, resolution = sum_g (W_g / W)(o_g - ō)^2 and
// uncertainty = ō(1 - ō) over groups g with mean forecast p_g and hit rate o_g.
struct BrierDecomposition {
  double reliability = 0;
  double resolution = 0;
  double uncertainty = 0;

  friend bool operator==(const BrierDecomposition&, const BrierDecomposition&) = default;
};

// Murphy's decomposition grouping the samples by distinct p, where the identity is exact. Only
// meaningful for forecasts on a few distinct values: with all p distinct every group is one
// sample, so reliability = Brier and resolution = uncertainty, whatever the forecasts.
// O(n log n). Failure: InvalidArgument for bad inputs.
Result<BrierDecomposition> MurphyDecomposition(std::span<const double> p, std::span<const double> y,
                                               std::span<const double> w);

// Murphy's terms over bins (each bin a group with its mean p): the usual binned estimate for
// continuous forecasts. Brier = reliability - resolution + uncertainty holds only up to the
// within-bin terms (Stephenson et al. 2008). All 0 for no bins.
// REQUIRES: bins as ReliabilityBins returns them.
BrierDecomposition BinnedMurphyDecomposition(std::span<const ReliabilityBin> bins);

// The CORP decomposition (Dimitriadis, Gneiting and Jordan 2021): the forecasts are
// recalibrated by weighted isotonic regression of y on p (isotonic.h's PAVA; equal p pooled
// first; a zero-weight sample takes the value of the nearest p below it, or above), then
// Brier = miscalibration - discrimination + uncertainty exactly, with
// miscalibration = Brier(p) - Brier(recalibrated) >= 0,
// discrimination = uncertainty - Brier(recalibrated) >= 0, uncertainty = ō(1 - ō).
struct CorpDecomposition {
  double miscalibration = 0;
  double discrimination = 0;
  double uncertainty = 0;
  std::vector<double> recalibrated;  // one per sample, in input order
};

// O(n log n). Failure: InvalidArgument for bad inputs.
Result<CorpDecomposition> CorpBrierDecomposition(std::span<const double> p,
                                                 std::span<const double> y,
                                                 std::span<const double> w);

// What `truthbook calib metrics` prints.
struct MetricsOptions {
  int bins = 10;          // B for every binned metric; in [1, kMaxBins]
  bool adaptive = false;  // false: the report lists the equal-width bins; true: equal-mass
};

struct MetricsReport {
  int64_t n = 0;                     // samples
  double weight = 0;                 // sum of the weights (n with unit weights)
  double ece = 0;                    // equal-width bins, L1
  double mce = 0;                    // equal-width bins
  double ace = 0;                    // adaptive ECE: L1 over equal-mass bins
  double brier = 0;                  // BrierScore
  BrierDecomposition decomposition;  // BinnedMurphyDecomposition over the equal-width bins
  double log_loss = 0;               // LogLoss
  std::vector<ReliabilityBin> bins;  // equal-width, or equal-mass when options.adaptive
};

// Every metric above at once: one pass over the samples for the equal-width bins, Brier and log
// loss, then three more for the equal-mass bins (count, gather the edges' order statistics,
// bin); O(n), and no allocation per sample.
// Success: each field equal to its own function's answer. Failure: as ReliabilityBins.
Result<MetricsReport> ComputeMetrics(std::span<const double> p, std::span<const double> y,
                                     std::span<const double> w, const MetricsOptions& options = {});

// The report as API.md's `calib metrics --json` document: {"n", "ece", "mce", "ace", "brier",
// "reliability_term", "resolution_term", "uncertainty_term", "log_loss", "bins": [{"lo", "hi",
// "mean_p", "hit_rate", "count"}]}. The service stores the same shape.
nlohmann::json ToJson(const MetricsReport& report);

}  // namespace truthbook::calibration
