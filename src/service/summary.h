// The performance metrics of a set of gradings (grading-summary and the rollups) and the
// additive sums they are computed from, so that both answer with one definition.
// Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "grading/outcome.h"
#include "store/store.h"

namespace truthbook::service {

// Aggregates over current gradings (docs/GRADING.md "Summary").
struct GradingSummary {
  std::array<int64_t, grading::kOutcomes.size()> count_by_outcome{};  // kOutcomes order
  int64_t n = 0;
  std::optional<double> win_rate;  // PUSH and VOID excluded; half outcomes count half
  double units = 0;
  std::optional<double> roi;  // units / stake over non-VOID gradings
  std::optional<double> mean_clv_price;
  std::optional<double> mean_clv_fair;
  std::optional<double> mean_clv_prob_pts;
  std::optional<double> beat_close_rate;  // share of CLV-bearing gradings with clv_fair > 0
  std::optional<double> mean_brier;
  std::optional<double> mean_log_loss;
};

// Adds one current grading to `sums`.
void AddToSums(const store::RollupFact& fact, store::RollupSums& sums);
// Adds `part` to `sums`.
void MergeSums(const store::RollupSums& part, store::RollupSums& sums);
// The grading-summary metrics of `sums` (win rate, ROI, mean CLV, ...).
GradingSummary Summarize(const store::RollupSums& sums);
// The ECE (L1, 10 equal-width bins, DESIGN's bin rule) of the graded probabilities against
// their outcomes; nullopt when no grading is scored.
std::optional<double> ExpectedCalibrationError(const store::RollupSums& sums);

}  // namespace truthbook::service
