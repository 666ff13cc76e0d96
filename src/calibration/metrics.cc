#include "calibration/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "calibration/isotonic.h"

namespace truthbook::calibration {
namespace {

constexpr double kMaxFinite = std::numeric_limits<double>::max();
// scikit-learn 1.2.1 log_loss(eps="auto"): the machine epsilon of the input's dtype.
constexpr double kLogLossEps = std::numeric_limits<double>::epsilon();

// Neumaier's compensated sum: the totals of 10M terms stay within a few ulps, so Brier and log
// loss agree with numpy's pairwise sums to far better than 1e-12.
class CompensatedSum {
 public:
  void Add(double x) {
    const double t = sum_ + x;
    compensation_ += std::abs(sum_) >= std::abs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }
  double Value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0;
  double compensation_ = 0;
};

Status CheckShapes(std::span<const double> p, std::span<const double> y,
                   std::span<const double> w) {
  if (p.empty()) return InvalidArgument("p: must not be empty");
  if (y.size() != p.size()) {
    return InvalidArgument("y: size " + std::to_string(y.size()) + " != p size " +
                           std::to_string(p.size()));
  }
  if (!w.empty() && w.size() != p.size()) {
    return InvalidArgument("w: size " + std::to_string(w.size()) + " != p size " +
                           std::to_string(p.size()));
  }
  return Status::Ok();
}

Status CheckBins(int bins) {
  if (bins < 1 || bins > kMaxBins) {
    return InvalidArgument("bins: must be in [1, " + std::to_string(kMaxBins) + "]");
  }
  return Status::Ok();
}

bool ValidP(double p) { return (p >= 0) & (p <= 1); }  // false for NaN
bool ValidY(double y) { return (y == 0) | (y == 1); }
bool ValidW(double w) { return (w >= 0) & (w <= kMaxFinite); }

// InvalidArgument "<field>[<i>]: <what>", built by appending (GCC 12 warns, wrongly, with
// -Wrestrict on "[" + std::to_string(i) in release builds).
Status ElementError(std::string_view field, size_t i, std::string_view what) {
  std::string message(field);
  message += '[';
  message += std::to_string(i);
  message += "]: ";
  message += what;
  return InvalidArgument(std::move(message));
}

// The error for sample i, which failed one of the checks above.
Status SampleError(std::span<const double> p, std::span<const double> y, size_t i) {
  if (!ValidP(p[i])) return ElementError("p", i, "must be in [0, 1]");
  if (!ValidY(y[i])) return ElementError("y", i, "must be 0 or 1");
  return ElementError("w", i, "must be finite and >= 0");
}

Status PositiveWeightError() { return InvalidArgument("w: must have a positive sum"); }

// Calls visit(p_i, y_i, w_i) for every sample in order, after checking it; stops at the first
// bad sample with its error. kWeighted = false reads no weights (w_i = 1).
template <bool kWeighted, typename Visit>
Status ForEachSample(std::span<const double> p, std::span<const double> y,
                     std::span<const double> w, Visit&& visit) {
  const size_t n = p.size();
  const double* pp = p.data();
  const double* yy = y.data();
  const double* ww = w.data();
  for (size_t i = 0; i < n; ++i) {
    const double pi = pp[i];
    const double yi = yy[i];
    double wi = 1;
    if constexpr (kWeighted) wi = ww[i];
    // Bitwise, not short-circuit: a branch on a random outcome would mispredict half the time.
    bool ok = ValidP(pi) & ValidY(yi);
    if constexpr (kWeighted) ok &= ValidW(wi);
    if (!ok) [[unlikely]] {
      return SampleError(p, y, i);
    }
    visit(pi, yi, wi);
  }
  return Status::Ok();
}

// Runs f(std::true_type) with weights, f(std::false_type) for unit weights (empty w).
template <typename F>
Status WithWeights(std::span<const double> w, F&& f) {
  return w.empty() ? f(std::false_type{}) : f(std::true_type{});
}

// The value and outcome that are binned for `target`.
template <Target kTarget>
std::pair<double, double> Binned(double p, double y) {
  if constexpr (kTarget == Target::kPositiveClass) {
    return {p, y};
  } else {
    const bool predicts_one = p > 0.5;  // argmax of (1 - p, p) takes the first on a tie
    return {predicts_one ? p : 1 - p, (predicts_one == (y == 1)) ? 1.0 : 0.0};
  }
}

double BinnedValue(Target target, double p) {
  return target == Target::kTopLabel && !(p > 0.5) ? 1 - p : p;
}

// Bins by equal width: bin(v) = #{i in 1..B-1 : e_i < v} with e_i = i * (1.0 / B).
class UniformLocator {
 public:
  explicit UniformLocator(int bins) : last_(bins - 1), scale_(bins), edges_(bins + 1) {
    const double step = 1.0 / bins;
    for (int i = 0; i < bins; ++i) edges_[i] = i * step;
    edges_[bins] = 1.0;  // numpy.linspace sets the endpoint exactly
  }

  // REQUIRES: 0 <= v <= 1.
  int Locate(double v) const {
    // v * B and each edge carry one rounding of relative size 2^-53, so floor(v * B) is the
    // bin or one off it either way; one step down and one up against the edges themselves
    // settle it, without branches (the bins of random samples are unpredictable). The step
    // up cannot pass the last bin: edges_[B] = 1 >= v.
    int b = std::min(static_cast<int>(v * scale_), last_);
    b -= static_cast<int>((b > 0) & (edges_[static_cast<size_t>(b)] >= v));
    b += static_cast<int>(edges_[static_cast<size_t>(b) + 1] < v);
    return b;
  }

  std::vector<double> TakeEdges() && { return std::move(edges_); }

 private:
  int last_;
  double scale_;
  std::vector<double> edges_;
};

// Bins by given edges (B + 1 of them, non-decreasing): bin(v) = #{interior edges < v}.
class EdgeLocator {
 public:
  explicit EdgeLocator(std::vector<double> edges) : edges_(std::move(edges)) {}

  // A branchless lower_bound: the bins of random samples are unpredictable, so a branch per
  // halving would mispredict about half the time.
  int Locate(double v) const {
    const double* const interior = edges_.data() + 1;
    size_t n = edges_.size() - 2;
    if (n == 0) return 0;
    const double* base = interior;
    while (n > 1) {
      const size_t half = n / 2;
      // Arithmetic rather than ?:, which GCC compiles to a branch here.
      base += static_cast<size_t>(base[half - 1] < v) * half;
      n -= half;
    }
    return static_cast<int>(base - interior) + (*base < v ? 1 : 0);
  }

  std::vector<double> TakeEdges() && { return std::move(edges_); }

 private:
  std::vector<double> edges_;
};

struct BinSums {
  double weight = 0;
  double weighted_p = 0;
  double weighted_y = 0;
  int64_t count = 0;
};

// Brier and log-loss totals, shared by BrierScore, LogLoss and ComputeMetrics so that the
// report's fields equal the standalone answers bit for bit.
class ScoreSums {
 public:
  void Add(double p, double y, double w) {
    weight_.Add(w);
    brier_.Add(w * ((p - y) * (p - y)));
    // log_loss clips, then renormalises the pair (1 - q, q) by its sum, which may be 1 +- ulp.
    const double q = std::clamp(p, kLogLossEps, 1 - kLogLossEps);
    const double s = (1 - q) + q;
    log_loss_.Add(w * -std::log((y == 1 ? q : 1 - q) / s));
  }
  double Weight() const { return weight_.Value(); }
  double Brier() const { return brier_.Value() / Weight(); }
  double LogLoss() const { return log_loss_.Value() / Weight(); }

 private:
  CompensatedSum weight_;
  CompensatedSum brier_;
  CompensatedSum log_loss_;
};

// Adds every sample to its bin, and to *scores with kScores, checking it.
template <bool kWeighted, Target kTarget, bool kScores, typename Locator>
Status AccumulateBins(std::span<const double> p, std::span<const double> y,
                      std::span<const double> w, const Locator& locator, std::vector<BinSums>& sums,
                      ScoreSums* scores) {
  BinSums* out = sums.data();
  Status status = ForEachSample<kWeighted>(p, y, w, [&](double pi, double yi, double wi) {
    const auto [v, o] = Binned<kTarget>(pi, yi);
    BinSums& bin = out[locator.Locate(v)];
    if constexpr (kWeighted) {
      bin.weight += wi;
      bin.weighted_p += wi * v;
      bin.weighted_y += wi * o;
    } else {  // no multiplications, and sums in input order as numpy.bincount does
      bin.weighted_p += v;
      bin.weighted_y += o;
    }
    ++bin.count;
    if constexpr (kScores) scores->Add(pi, yi, wi);
  });
  if constexpr (!kWeighted) {
    for (BinSums& bin : sums) bin.weight = static_cast<double>(bin.count);
  }
  return status;
}

template <typename Locator>
Status AccumulateAll(std::span<const double> p, std::span<const double> y,
                     std::span<const double> w, Target target, const Locator& locator,
                     std::vector<BinSums>& sums, ScoreSums* scores) {
  return WithWeights(w, [&](auto weighted) {
    constexpr bool kWeighted = decltype(weighted)::value;
    if (scores != nullptr) {  // ComputeMetrics: positive class only
      return AccumulateBins<kWeighted, Target::kPositiveClass, true>(p, y, w, locator, sums,
                                                                     scores);
    }
    return target == Target::kTopLabel ? AccumulateBins<kWeighted, Target::kTopLabel, false>(
                                             p, y, w, locator, sums, nullptr)
                                       : AccumulateBins<kWeighted, Target::kPositiveClass, false>(
                                             p, y, w, locator, sums, nullptr);
  });
}

// The non-empty (positive weight) bins, with their edges.
std::vector<ReliabilityBin> MakeBins(const std::vector<BinSums>& sums,
                                     const std::vector<double>& edges) {
  std::vector<ReliabilityBin> bins;
  for (size_t b = 0; b < sums.size(); ++b) {
    const BinSums& s = sums[b];
    if (!(s.weight > 0)) continue;
    bins.push_back({.lo = edges[b],
                    .hi = edges[b + 1],
                    .mean_p = s.weighted_p / s.weight,
                    .hit_rate = s.weighted_y / s.weight,
                    .weight = s.weight,
                    .count = s.count});
  }
  return bins;
}

double TotalWeight(const std::vector<BinSums>& sums) {
  CompensatedSum total;
  for (const BinSums& s : sums) total.Add(s.weight);
  return total.Value();
}

// Partially sorts values[lo, hi) so that values[k] is the k-th smallest for every k in
// `positions` (sorted, unique, inside [lo, hi)): expected O(n log |positions|).
void SelectPositions(std::vector<double>& values, size_t lo, size_t hi,
                     std::span<const size_t> positions) {
  if (positions.empty() || hi - lo <= 1) return;
  const size_t mid = positions.size() / 2;
  const size_t k = positions[mid];
  std::nth_element(values.begin() + static_cast<std::ptrdiff_t>(lo),
                   values.begin() + static_cast<std::ptrdiff_t>(k),
                   values.begin() + static_cast<std::ptrdiff_t>(hi));
  SelectPositions(values, lo, k, positions.first(mid));
  SelectPositions(values, k + 1, hi, positions.subspan(mid + 1));
}

// An equal-width histogram of the binned values (all in [0, 1]) for exact order statistics
// in O(n): a counting pass finds the bucket of each wanted rank, a second pass gathers only
// those buckets, and a selection inside each gives the values. Buckets are ordered as the
// values are (v -> floor(v * K) is monotone), so the k-th value is in the bucket where the
// running count passes k. Equal values share a bucket: the worst case is one selection over
// all n values, as without the histogram.
class RankHistogram {
 public:
  // About 16 values per bucket for small inputs, at most 2^14 buckets (128 KiB of counts, in
  // L2) for large ones.
  explicit RankHistogram(size_t n)
      : buckets_(std::clamp<size_t>(n / 16, 1, size_t{1} << 14)),
        scale_(static_cast<double>(buckets_)),
        counts_(buckets_ + 1, 0) {}  // + 1: v = 1 lands on index K

  void Add(double v) { ++counts_[Bucket(v)]; }

  // The values at `ranks` (sorted, unique, each < n), in the order of `ranks`, reading
  // values[i] = value_at(i) for i < n again. REQUIRES: Add was called once for each of them.
  template <typename ValueAt>
  std::vector<double> Select(size_t n, const ValueAt& value_at,
                             std::span<const size_t> ranks) const {
    // Where each rank falls: its bucket and its rank inside the bucket.
    std::vector<size_t> bucket_of(ranks.size());
    std::vector<size_t> local_rank(ranks.size());
    std::vector<int> slot(counts_.size(), -1);  // bucket -> index into `gathered`
    std::vector<std::vector<double>> gathered;
    size_t bucket = 0;
    size_t before = 0;  // values in buckets < bucket
    for (size_t r = 0; r < ranks.size(); ++r) {
      while (before + counts_[bucket] <= ranks[r]) before += counts_[bucket++];
      bucket_of[r] = bucket;
      local_rank[r] = ranks[r] - before;
      if (slot[bucket] < 0) {
        slot[bucket] = static_cast<int>(gathered.size());
        gathered.emplace_back().reserve(counts_[bucket]);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const double v = value_at(i);
      const int s = slot[Bucket(v)];
      if (s >= 0) [[unlikely]] {
        gathered[static_cast<size_t>(s)].push_back(v);
      }
    }
    std::vector<double> out(ranks.size());
    size_t r = 0;
    while (r < ranks.size()) {
      // The ranks of one bucket are adjacent, as the ranks are sorted.
      size_t end = r;
      std::vector<size_t> positions;
      while (end < ranks.size() && bucket_of[end] == bucket_of[r]) {
        positions.push_back(local_rank[end++]);
      }
      std::vector<double>& values = gathered[static_cast<size_t>(slot[bucket_of[r]])];
      SelectPositions(values, 0, values.size(), positions);
      for (size_t k = r; k < end; ++k) out[k] = values[local_rank[k]];
      r = end;
    }
    return out;
  }

 private:
  size_t Bucket(double v) const { return static_cast<size_t>(v * scale_); }

  size_t buckets_;
  double scale_;
  std::vector<size_t> counts_;
};

// numpy 1.24's _lerp: a + (b - a) t, computed from b's side when t >= 0.5.
double NumpyLerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// The B + 1 edges of calibration_curve(strategy="quantile") over the binned values of p:
// np.percentile(values, np.linspace(0, 1, B + 1) * 100), method "linear", replayed step by
// step (q * 100 / 100, virtual index (n - 1) q, numpy's lerp) so that edges agree bit for bit.
// REQUIRES: p non-empty and valid; `histogram` holds each binned value once.
std::vector<double> QuantileEdges(std::span<const double> p, Target target,
                                  const RankHistogram& histogram, int bins) {
  const size_t n = p.size();
  struct Probe {
    size_t previous;
    size_t next;
    double gamma;
  };
  std::vector<Probe> probes(static_cast<size_t>(bins) + 1);
  std::vector<size_t> ranks;
  ranks.reserve(2 * probes.size());
  const double step = 1.0 / bins;
  for (int i = 0; i <= bins; ++i) {
    const double fraction = i == bins ? 1.0 : i * step;
    const double q = fraction * 100 / 100;
    const double virtual_index = static_cast<double>(n - 1) * q;
    Probe& probe = probes[static_cast<size_t>(i)];
    if (virtual_index >= static_cast<double>(n - 1)) {
      probe = {n - 1, n - 1, 0};
    } else {
      const double floor_index = std::floor(virtual_index);
      probe.previous = static_cast<size_t>(floor_index);
      probe.next = probe.previous + 1;
      probe.gamma = virtual_index - floor_index;
    }
    ranks.push_back(probe.previous);
    ranks.push_back(probe.next);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  const std::vector<double> values = histogram.Select(
      n, [&](size_t i) { return BinnedValue(target, p[i]); }, ranks);
  const auto value_at_rank = [&](size_t rank) {
    return values[static_cast<size_t>(std::lower_bound(ranks.begin(), ranks.end(), rank) -
                                      ranks.begin())];
  };
  std::vector<double> edges(probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    edges[i] = NumpyLerp(value_at_rank(probes[i].previous), value_at_rank(probes[i].next),
                         probes[i].gamma);
  }
  return edges;
}

// Checks every sample and counts its binned value into a histogram (for the quantiles).
Result<RankHistogram> CheckedHistogram(std::span<const double> p, std::span<const double> y,
                                       std::span<const double> w, Target target) {
  RankHistogram histogram(p.size());
  RETURN_IF_ERROR(WithWeights(w, [&](auto weighted) {
    return ForEachSample<decltype(weighted)::value>(
        p, y, w, [&](double pi, double, double) { histogram.Add(BinnedValue(target, pi)); });
  }));
  return histogram;
}

// Bins (p, y, w) by `strategy`: the sums per bin and the B + 1 edges. Adds every sample to
// `scores` when not null. REQUIRES: scores == nullptr or target == kPositiveClass.
Status BinAll(std::span<const double> p, std::span<const double> y, std::span<const double> w,
              int bins, BinStrategy strategy, Target target, std::vector<BinSums>& sums,
              std::vector<double>& edges, ScoreSums* scores) {
  sums.assign(static_cast<size_t>(bins), BinSums{});
  if (strategy == BinStrategy::kUniform) {
    UniformLocator locator(bins);
    RETURN_IF_ERROR(AccumulateAll(p, y, w, target, locator, sums, scores));
    edges = std::move(locator).TakeEdges();
  } else {
    ASSIGN_OR_RETURN(RankHistogram histogram, CheckedHistogram(p, y, w, target));
    EdgeLocator locator(QuantileEdges(p, target, histogram, bins));
    RETURN_IF_ERROR(AccumulateAll(p, y, w, target, locator, sums, scores));
    edges = std::move(locator).TakeEdges();
  }
  if (!(TotalWeight(sums) > 0)) return PositiveWeightError();
  return Status::Ok();
}

Result<ScoreSums> Scores(std::span<const double> p, std::span<const double> y,
                         std::span<const double> w) {
  RETURN_IF_ERROR(CheckShapes(p, y, w));
  ScoreSums scores;
  RETURN_IF_ERROR(WithWeights(w, [&](auto weighted) {
    return ForEachSample<decltype(weighted)::value>(
        p, y, w, [&](double pi, double yi, double wi) { scores.Add(pi, yi, wi); });
  }));
  if (!(scores.Weight() > 0)) return PositiveWeightError();
  return scores;
}

// Samples grouped by equal p, in increasing p.
struct Group {
  double p = 0;
  double weight = 0;
  double weighted_y = 0;
};

// Checks the samples; returns the groups of equal p and, for each sample, its group index.
Result<std::vector<Group>> GroupByP(std::span<const double> p, std::span<const double> y,
                                    std::span<const double> w, std::vector<size_t>* group_of) {
  RETURN_IF_ERROR(CheckShapes(p, y, w));
  RETURN_IF_ERROR(WithWeights(w, [&](auto weighted) {
    return ForEachSample<decltype(weighted)::value>(p, y, w, [](double, double, double) {});
  }));
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<Group> groups;
  if (group_of != nullptr) group_of->assign(p.size(), 0);
  for (size_t i : order) {
    if (groups.empty() || groups.back().p != p[i]) groups.push_back({.p = p[i]});
    const double wi = w.empty() ? 1.0 : w[i];
    groups.back().weight += wi;
    groups.back().weighted_y += wi * y[i];
    if (group_of != nullptr) (*group_of)[i] = groups.size() - 1;
  }
  double total = 0;
  for (const Group& g : groups) total += g.weight;
  if (!(total > 0)) return PositiveWeightError();
  return groups;
}

// Weighted isotonic (non-decreasing) regression of the groups' hit rates on their p
// (isotonic.h's PAVA): the fitted value per group. Zero-weight groups take the value of the
// nearest positive-weight group below them (above, if none is below).
std::vector<double> IsotonicGroupValues(const std::vector<Group>& groups) {
  std::vector<size_t> fitted_groups;  // the positive-weight groups, in order
  std::vector<double> means;
  std::vector<double> weights;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (!(groups[g].weight > 0)) continue;
    fitted_groups.push_back(g);
    means.push_back(groups[g].weighted_y / groups[g].weight);
    weights.push_back(groups[g].weight);
  }
  PoolAdjacentViolators(means, weights);
  std::vector<double> fitted(groups.size(), 0);
  for (size_t k = 0; k < fitted_groups.size(); ++k) fitted[fitted_groups[k]] = means[k];
  std::optional<double> last;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].weight > 0) {
      last = fitted[g];
    } else if (last) {
      fitted[g] = *last;
    }
  }
  if (!fitted_groups.empty()) {
    for (size_t g = 0; g < fitted_groups.front(); ++g) fitted[g] = fitted[fitted_groups.front()];
  }
  return fitted;
}

}  // namespace

Result<std::vector<ReliabilityBin>> ReliabilityBins(std::span<const double> p,
                                                    std::span<const double> y,
                                                    std::span<const double> w, int bins,
                                                    BinStrategy strategy, Target target) {
  RETURN_IF_ERROR(CheckShapes(p, y, w));
  RETURN_IF_ERROR(CheckBins(bins));
  std::vector<BinSums> sums;
  std::vector<double> edges;
  RETURN_IF_ERROR(BinAll(p, y, w, bins, strategy, target, sums, edges, nullptr));
  return MakeBins(sums, edges);
}

CalibrationSummary SummarizeBins(std::span<const ReliabilityBin> bins) {
  CalibrationSummary summary;
  if (bins.empty()) return summary;
  double total = 0;
  double l1 = 0;
  double l2_squared = 0;
  double debiased = 0;
  double gap_sum = 0;
  for (const ReliabilityBin& bin : bins) {
    const double gap = std::abs(bin.hit_rate - bin.mean_p);
    total += bin.weight;
    l1 += bin.weight * gap;
    l2_squared += bin.weight * gap * gap;
    if (bin.count >= 2) {
      const double variance =
          bin.hit_rate * (1 - bin.hit_rate) / static_cast<double>(bin.count - 1);
      debiased += bin.weight * (gap * gap - variance);
    }
    gap_sum += gap;
    summary.mce = std::max(summary.mce, gap);
  }
  summary.nonempty_bins = static_cast<int64_t>(bins.size());
  summary.ece = l1 / total;
  summary.mean_gap = gap_sum / static_cast<double>(bins.size());
  summary.l2 = std::sqrt(l2_squared / total);
  summary.l2_squared_debiased = debiased / total;
  return summary;
}

Result<CalibrationSummary> CalibrationErrors(std::span<const double> p, std::span<const double> y,
                                             std::span<const double> w, int bins,
                                             BinStrategy strategy, Target target) {
  ASSIGN_OR_RETURN(std::vector<ReliabilityBin> reliability,
                   ReliabilityBins(p, y, w, bins, strategy, target));
  return SummarizeBins(reliability);
}

Result<double> ExpectedCalibrationError(std::span<const double> p, std::span<const double> y,
                                        std::span<const double> w, int bins) {
  ASSIGN_OR_RETURN(CalibrationSummary summary,
                   CalibrationErrors(p, y, w, bins, BinStrategy::kUniform));
  return summary.ece;
}

Result<double> AdaptiveCalibrationError(std::span<const double> p, std::span<const double> y,
                                        std::span<const double> w, int bins) {
  ASSIGN_OR_RETURN(CalibrationSummary summary,
                   CalibrationErrors(p, y, w, bins, BinStrategy::kQuantile));
  return summary.ece;
}

Result<double> BrierScore(std::span<const double> p, std::span<const double> y,
                          std::span<const double> w) {
  ASSIGN_OR_RETURN(ScoreSums scores, Scores(p, y, w));
  return scores.Brier();
}

Result<double> LogLoss(std::span<const double> p, std::span<const double> y,
                       std::span<const double> w) {
  ASSIGN_OR_RETURN(ScoreSums scores, Scores(p, y, w));
  return scores.LogLoss();
}

Result<BrierDecomposition> MurphyDecomposition(std::span<const double> p, std::span<const double> y,
                                               std::span<const double> w) {
  ASSIGN_OR_RETURN(std::vector<Group> groups, GroupByP(p, y, w, nullptr));
  double total = 0;
  double hits = 0;
  for (const Group& g : groups) {
    total += g.weight;
    hits += g.weighted_y;
  }
  const double base_rate = hits / total;
  BrierDecomposition d;
  for (const Group& g : groups) {
    if (!(g.weight > 0)) continue;
    const double hit_rate = g.weighted_y / g.weight;
    d.reliability += g.weight * (g.p - hit_rate) * (g.p - hit_rate);
    d.resolution += g.weight * (hit_rate - base_rate) * (hit_rate - base_rate);
  }
  d.reliability /= total;
  d.resolution /= total;
  d.uncertainty = base_rate * (1 - base_rate);
  return d;
}

BrierDecomposition BinnedMurphyDecomposition(std::span<const ReliabilityBin> bins) {
  BrierDecomposition d;
  double total = 0;
  double hits = 0;
  for (const ReliabilityBin& bin : bins) {
    total += bin.weight;
    hits += bin.weight * bin.hit_rate;
  }
  if (!(total > 0)) return d;
  const double base_rate = hits / total;
  for (const ReliabilityBin& bin : bins) {
    d.reliability += bin.weight * (bin.mean_p - bin.hit_rate) * (bin.mean_p - bin.hit_rate);
    d.resolution += bin.weight * (bin.hit_rate - base_rate) * (bin.hit_rate - base_rate);
  }
  d.reliability /= total;
  d.resolution /= total;
  d.uncertainty = base_rate * (1 - base_rate);
  return d;
}

Result<CorpDecomposition> CorpBrierDecomposition(std::span<const double> p,
                                                 std::span<const double> y,
                                                 std::span<const double> w) {
  std::vector<size_t> group_of;
  ASSIGN_OR_RETURN(std::vector<Group> groups, GroupByP(p, y, w, &group_of));
  const std::vector<double> fitted = IsotonicGroupValues(groups);
  CorpDecomposition d;
  d.recalibrated.resize(p.size());
  CompensatedSum total;
  CompensatedSum hits;
  CompensatedSum brier;
  CompensatedSum brier_recalibrated;
  for (size_t i = 0; i < p.size(); ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    const double r = fitted[group_of[i]];
    d.recalibrated[i] = r;
    total.Add(wi);
    hits.Add(wi * y[i]);
    brier.Add(wi * (p[i] - y[i]) * (p[i] - y[i]));
    brier_recalibrated.Add(wi * (r - y[i]) * (r - y[i]));
  }
  const double base_rate = hits.Value() / total.Value();
  const double recalibrated_score = brier_recalibrated.Value() / total.Value();
  d.uncertainty = base_rate * (1 - base_rate);
  d.miscalibration = brier.Value() / total.Value() - recalibrated_score;
  d.discrimination = d.uncertainty - recalibrated_score;
  return d;
}

Result<MetricsReport> ComputeMetrics(std::span<const double> p, std::span<const double> y,
                                     std::span<const double> w, const MetricsOptions& options) {
  RETURN_IF_ERROR(CheckShapes(p, y, w));
  RETURN_IF_ERROR(CheckBins(options.bins));
  // Pass 1 checks every sample and gathers the equal-width bins, Brier and log loss.
  ScoreSums scores;
  std::vector<BinSums> sums;
  std::vector<double> edges;
  RETURN_IF_ERROR(BinAll(p, y, w, options.bins, BinStrategy::kUniform, Target::kPositiveClass, sums,
                         edges, &scores));
  std::vector<ReliabilityBin> uniform = MakeBins(sums, edges);
  // Pass 2: the equal-mass bins.
  RETURN_IF_ERROR(BinAll(p, y, w, options.bins, BinStrategy::kQuantile, Target::kPositiveClass,
                         sums, edges, nullptr));
  std::vector<ReliabilityBin> equal_mass = MakeBins(sums, edges);

  MetricsReport report;
  report.n = static_cast<int64_t>(p.size());
  report.weight = scores.Weight();
  const CalibrationSummary uniform_summary = SummarizeBins(uniform);
  report.ece = uniform_summary.ece;
  report.mce = uniform_summary.mce;
  report.ace = SummarizeBins(equal_mass).ece;
  report.brier = scores.Brier();
  report.decomposition = BinnedMurphyDecomposition(uniform);
  report.log_loss = scores.LogLoss();
  report.bins = options.adaptive ? std::move(equal_mass) : std::move(uniform);
  return report;
}

nlohmann::json ToJson(const MetricsReport& m) {
  nlohmann::json bins = nlohmann::json::array();
  for (const ReliabilityBin& b : m.bins) {
    bins.push_back({{"lo", b.lo},
                    {"hi", b.hi},
                    {"mean_p", b.mean_p},
                    {"hit_rate", b.hit_rate},
                    {"count", b.count}});
  }
  return {{"n", m.n},
          {"ece", m.ece},
          {"mce", m.mce},
          {"ace", m.ace},
          {"brier", m.brier},
          {"reliability_term", m.decomposition.reliability},
          {"resolution_term", m.decomposition.resolution},
          {"uncertainty_term", m.decomposition.uncertainty},
          {"log_loss", m.log_loss},
          {"bins", std::move(bins)}};
}

}  // namespace truthbook::calibration
