#include "service/summary.h"

#include <algorithm>
#include <vector>

#include "calibration/metrics.h"

namespace truthbook::service {
namespace {

using store::RollupFact;
using store::RollupSums;

// The bin of p among RollupSums::kBins equal-width bins, by DESIGN's rule (scikit-learn's
// calibration_curve): edges i·(1.0/B), the last exactly 1; bin = the number of inner edges
// strictly below p, so each bin holds (lo, hi] and the first also 0.
int BinOf(double p) {
  const double step = 1.0 / RollupSums::kBins;
  int bin = 0;
  while (bin + 1 < RollupSums::kBins && (bin + 1) * step < p) ++bin;
  return bin;
}

}  // namespace

void AddToSums(const RollupFact& f, RollupSums& sums) {
  Result<grading::Outcome> outcome = grading::ParseOutcome(f.outcome);
  if (!outcome.ok()) return;  // the grading table only holds the six outcomes
  const size_t index = static_cast<size_t>(
      std::find(grading::kOutcomes.begin(), grading::kOutcomes.end(), *outcome) -
      grading::kOutcomes.begin());
  ++sums.count_by_outcome[index];
  if (*outcome != grading::Outcome::kVoid) sums.stake += f.stake;
  sums.profit_units += f.profit_units;
  if (f.clv_price) {
    sums.clv_price_sum += *f.clv_price;
    ++sums.clv_price_n;
  }
  if (f.clv_fair) {
    sums.clv_fair_sum += *f.clv_fair;
    sums.clv_prob_pts_sum += f.clv_prob_pts.value_or(0);
    ++sums.clv_n;
    if (*f.clv_fair > 0) ++sums.beat_close_n;
  }
  if (f.brier) {
    sums.brier_sum += *f.brier;
    sums.log_loss_sum += f.log_loss.value_or(0);
    ++sums.scored_n;
    const size_t bin = static_cast<size_t>(BinOf(f.prob));
    ++sums.bin_n[bin];
    sums.bin_p_sum[bin] += f.prob;
    sums.bin_hit_sum[bin] += grading::Hit(*outcome);
  }
}

void MergeSums(const RollupSums& part, RollupSums& sums) {
  for (size_t o = 0; o < sums.count_by_outcome.size(); ++o) {
    sums.count_by_outcome[o] += part.count_by_outcome[o];
  }
  sums.stake += part.stake;
  sums.profit_units += part.profit_units;
  sums.clv_price_sum += part.clv_price_sum;
  sums.clv_price_n += part.clv_price_n;
  sums.clv_fair_sum += part.clv_fair_sum;
  sums.clv_prob_pts_sum += part.clv_prob_pts_sum;
  sums.clv_n += part.clv_n;
  sums.beat_close_n += part.beat_close_n;
  sums.brier_sum += part.brier_sum;
  sums.log_loss_sum += part.log_loss_sum;
  sums.scored_n += part.scored_n;
  for (size_t b = 0; b < RollupSums::kBins; ++b) {
    sums.bin_n[b] += part.bin_n[b];
    sums.bin_p_sum[b] += part.bin_p_sum[b];
    sums.bin_hit_sum[b] += part.bin_hit_sum[b];
  }
}

GradingSummary Summarize(const RollupSums& sums) {
  GradingSummary s;
  double decided = 0, won = 0;
  for (size_t o = 0; o < grading::kOutcomes.size(); ++o) {
    const int64_t n = sums.count_by_outcome[o];
    const double share = grading::DecidedShare(grading::kOutcomes[o]);
    s.count_by_outcome[o] = n;
    s.n += n;
    decided += share * static_cast<double>(n);
    won += share * grading::Hit(grading::kOutcomes[o]) * static_cast<double>(n);
  }
  auto mean = [](double total, int64_t n) {
    return n > 0 ? std::optional(total / static_cast<double>(n)) : std::nullopt;
  };
  s.units = sums.profit_units;
  if (decided > 0) s.win_rate = won / decided;
  if (sums.stake > 0) s.roi = sums.profit_units / sums.stake;
  s.mean_clv_price = mean(sums.clv_price_sum, sums.clv_price_n);
  s.mean_clv_fair = mean(sums.clv_fair_sum, sums.clv_n);
  s.mean_clv_prob_pts = mean(sums.clv_prob_pts_sum, sums.clv_n);
  s.beat_close_rate = mean(static_cast<double>(sums.beat_close_n), sums.clv_n);
  s.mean_brier = mean(sums.brier_sum, sums.scored_n);
  s.mean_log_loss = mean(sums.log_loss_sum, sums.scored_n);
  return s;
}

std::optional<double> ExpectedCalibrationError(const RollupSums& sums) {
  std::vector<calibration::ReliabilityBin> bins;
  const double step = 1.0 / RollupSums::kBins;
  for (size_t b = 0; b < RollupSums::kBins; ++b) {
    const int64_t n = sums.bin_n[b];
    if (n == 0) continue;
    const double weight = static_cast<double>(n);
    bins.push_back({static_cast<double>(b) * step, b + 1 == RollupSums::kBins ? 1.0 : (b + 1) * step,
                    sums.bin_p_sum[b] / weight, sums.bin_hit_sum[b] / weight, weight, n});
  }
  if (bins.empty()) return std::nullopt;
  return calibration::SummarizeBins(bins).ece;
}

}  // namespace truthbook::service
