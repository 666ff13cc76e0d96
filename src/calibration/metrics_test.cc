#include "calibration/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status_test_util.h"
#include "reference.h"

namespace truthbook::calibration {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Closed forms: sums of a few terms, so a few ulps at most.
constexpr double kTolerance = 1e-12;

using Vec = std::vector<double>;

class MetricsTest : public ::testing::Test {
 protected:
  // `result` failed with InvalidArgument and exactly `message`.
  static std::vector<ReliabilityBin> BinsOk(const Vec& p, const Vec& y, const Vec& w, int bins,
                                            BinStrategy strategy = BinStrategy::kUniform,
                                            Target target = Target::kPositiveClass) {
    Result<std::vector<ReliabilityBin>> result = ReliabilityBins(p, y, w, bins, strategy, target);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : std::vector<ReliabilityBin>{};
  }

  static CalibrationSummary ErrorsOk(const Vec& p, const Vec& y, const Vec& w, int bins,
                                     BinStrategy strategy = BinStrategy::kUniform,
                                     Target target = Target::kPositiveClass) {
    Result<CalibrationSummary> result = CalibrationErrors(p, y, w, bins, strategy, target);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : CalibrationSummary{};
  }

  static double Ok(const Result<double>& result) {
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : kNaN;
  }

  static MetricsReport ReportOk(const Vec& p, const Vec& y, const Vec& w,
                                MetricsOptions options = {}) {
    Result<MetricsReport> result = ComputeMetrics(p, y, w, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : MetricsReport{};
  }

  // The bin of v by the DESIGN rule, counted the slow way.
  static int NaiveUniformBin(double v, int bins) {
    int below = 0;
    for (int i = 1; i < bins; ++i) below += i * (1.0 / bins) < v ? 1 : 0;
    return below;
  }

  // n random forecasts with outcomes drawn from them (so roughly calibrated) and weights.
  struct Sample {
    Vec p;
    Vec y;
    Vec w;
  };
  static Sample RandomSample(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0, 1);
    Sample s;
    for (size_t i = 0; i < n; ++i) {
      const double p = unit(rng);
      s.p.push_back(p);
      s.y.push_back(unit(rng) < p ? 1 : 0);
      s.w.push_back(unit(rng) * 3);
    }
    return s;
  }
};

// --- Reliability bins: the DESIGN bin rule ---

TEST_F(MetricsTest, HalfWithTwoBinsGoesToTheLowerBin) {
  const std::vector<ReliabilityBin> bins = BinsOk({0.5, 0.5000001}, {0, 1}, {}, 2);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].mean_p, 0.5);
  EXPECT_EQ(bins[0].hi, 0.5);
  EXPECT_EQ(bins[1].mean_p, 0.5000001);
}

TEST_F(MetricsTest, PointThreeGoesToBinTwoOfTenBecauseThreeTimesPointOneIsAbove) {
  // 3 * 0.1 = 0.30000000000000004 > 0.3, so only e_1 and e_2 lie below 0.3.
  const std::vector<ReliabilityBin> bins = BinsOk({0.3}, {1}, {}, 10);
  ASSERT_EQ(bins.size(), 1u);
  EXPECT_EQ(bins[0].lo, 2 * 0.1);
  EXPECT_EQ(bins[0].hi, 3 * 0.1);
}

TEST_F(MetricsTest, ZeroAndOneFallInTheOuterBins) {
  const std::vector<ReliabilityBin> bins = BinsOk({0.0, 1.0}, {0, 1}, {}, 4);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].lo, 0.0);
  EXPECT_EQ(bins[0].hi, 0.25);
  EXPECT_EQ(bins[1].lo, 0.75);
  EXPECT_EQ(bins[1].hi, 1.0);
}

TEST_F(MetricsTest, EveryValueFollowsTheBinRuleOnEdgesAndTheirNeighbours) {
  for (int bins : {1, 2, 3, 7, 10, 13, 49, 100}) {
    SCOPED_TRACE("bins " + std::to_string(bins));
    Vec p;
    for (int i = 0; i <= bins; ++i) {
      for (double edge : {i * (1.0 / bins), static_cast<double>(i) / bins}) {
        for (double v : {std::nextafter(edge, -1.0), edge, std::nextafter(edge, 2.0)}) {
          if (v >= 0 && v <= 1) p.push_back(v);
        }
      }
    }
    for (double v : p) {
      const std::vector<ReliabilityBin> one = BinsOk({v}, {0}, {}, bins);
      ASSERT_EQ(one.size(), 1u);
      const int expected = NaiveUniformBin(v, bins);
      EXPECT_EQ(one[0].lo, expected * (1.0 / bins)) << "v = " << v;
    }
  }
}

TEST_F(MetricsTest, BinsCarryMeansCountsAndWeightsAndOmitEmptyOnes) {
  const std::vector<ReliabilityBin> bins =
      BinsOk({0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0}, {0, 0, 0, 0, 1, 1, 1, 1, 1}, {}, 5);
  // Bin 2 of (0.4, 0.6] is empty and left out.
  ASSERT_EQ(bins.size(), 4u);
  EXPECT_EQ(bins[0], (ReliabilityBin{0.0, 0.2, (0.1 + 0.2) / 2, 0, 2, 2}));
  EXPECT_EQ(bins[1].count, 2);
  EXPECT_EQ(bins[1].lo, 0.2);
  EXPECT_EQ(bins[2].lo, 3 * 0.2);
  EXPECT_EQ(bins[2].count, 3);
  EXPECT_EQ(bins[2].hit_rate, 1.0);
  EXPECT_EQ(bins[3].count, 2);
  EXPECT_EQ(bins[3].hi, 1.0);
}

TEST_F(MetricsTest, WeightsWeighTheBinAverages) {
  const std::vector<ReliabilityBin> bins = BinsOk({0.12, 0.18}, {1, 0}, {3, 1}, 10);
  ASSERT_EQ(bins.size(), 1u);
  EXPECT_NEAR(bins[0].mean_p, (3 * 0.12 + 0.18) / 4, kTolerance);
  EXPECT_EQ(bins[0].hit_rate, 0.75);
  EXPECT_EQ(bins[0].weight, 4.0);
  EXPECT_EQ(bins[0].count, 2);
}

TEST_F(MetricsTest, ABinOfZeroWeightIsLeftOut) {
  const std::vector<ReliabilityBin> bins = BinsOk({0.1, 0.9}, {0, 1}, {0, 1}, 2);
  ASSERT_EQ(bins.size(), 1u);
  EXPECT_EQ(bins[0].mean_p, 0.9);
}

TEST_F(MetricsTest, TopLabelBinsTheConfidenceOfTheMoreLikelyClass) {
  // 0.2 predicts 0 with confidence 0.8 and is right; 0.9 predicts 1 and is wrong; 0.5
  // predicts 0 (argmax takes the first class on a tie) and is right.
  const std::vector<ReliabilityBin> bins =
      BinsOk({0.2, 0.9, 0.5}, {0, 0, 0}, {}, 2, BinStrategy::kUniform, Target::kTopLabel);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].mean_p, 0.5);
  EXPECT_EQ(bins[0].hit_rate, 1.0);
  EXPECT_NEAR(bins[1].mean_p, (0.8 + 0.9) / 2, kTolerance);
  EXPECT_EQ(bins[1].hit_rate, 0.5);
}

TEST_F(MetricsTest, QuantileBinsHoldEqualCountsBetweenInterpolatedEdges) {
  // np.percentile([0, .1, .2, .5, .9, 1], [0, 50, 100]) = [0, 0.35, 1].
  const std::vector<ReliabilityBin> bins =
      BinsOk({0.0, 0.1, 0.2, 0.5, 0.9, 1.0}, {0, 0, 0, 0, 1, 1}, {}, 2, BinStrategy::kQuantile);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].count, 3);
  EXPECT_EQ(bins[1].count, 3);
  EXPECT_EQ(bins[0].lo, 0.0);
  EXPECT_NEAR(bins[0].hi, 0.35, kTolerance);
  EXPECT_EQ(bins[1].hi, 1.0);
}

TEST_F(MetricsTest, QuantileBinsIgnoreInputOrder) {
  Sample s = RandomSample(1001, 7);
  const std::vector<ReliabilityBin> forward = BinsOk(s.p, s.y, s.w, 7, BinStrategy::kQuantile);
  std::reverse(s.p.begin(), s.p.end());
  std::reverse(s.y.begin(), s.y.end());
  std::reverse(s.w.begin(), s.w.end());
  const std::vector<ReliabilityBin> backward = BinsOk(s.p, s.y, s.w, 7, BinStrategy::kQuantile);
  ASSERT_EQ(forward.size(), backward.size());
  for (size_t b = 0; b < forward.size(); ++b) {
    EXPECT_EQ(forward[b].lo, backward[b].lo);
    EXPECT_EQ(forward[b].hi, backward[b].hi);
    EXPECT_EQ(forward[b].count, backward[b].count);
    EXPECT_NEAR(forward[b].mean_p, backward[b].mean_p, kTolerance);
  }
}

TEST_F(MetricsTest, QuantileEdgesAreTheLinearSampleQuantilesAtEverySize) {
  // Sizes on both sides of the rank histogram's bucket counts, and a sample with heavy ties
  // (values on a grid of 0.05), whose equal values share one bucket.
  for (const auto& [n, grid] : std::vector<std::pair<size_t, bool>>{
           {1, false}, {2, false}, {37, false}, {997, false}, {200'003, false}, {50'000, true}}) {
    SCOPED_TRACE("n " + std::to_string(n) + (grid ? " on a grid" : ""));
    Sample s = RandomSample(n, 11 + n);
    if (grid) {
      for (double& p : s.p) p = std::round(p * 20) / 20;
    }
    Vec sorted = s.p;
    std::sort(sorted.begin(), sorted.end());
    const int b = 6;
    const std::vector<ReliabilityBin> bins = BinsOk(s.p, s.y, {}, b, BinStrategy::kQuantile);
    // The edges from a full sort, with numpy 1.24's arithmetic to the bit:
    // np.percentile(p, np.linspace(0, 1, b + 1) * 100) divides by 100 again, takes the virtual
    // index (n - 1) q and interpolates from the upper side when the fraction is >= 0.5.
    Vec edges;
    for (int i = 0; i <= b; ++i) {
      const double q = (i == b ? 1.0 : i * (1.0 / b)) * 100 / 100;
      const double h = static_cast<double>(sorted.size() - 1) * q;
      const auto lo = static_cast<size_t>(std::floor(h));
      const size_t hi = std::min(lo + 1, sorted.size() - 1);
      const double t = h - std::floor(h);
      const double diff = sorted[hi] - sorted[lo];
      edges.push_back(t >= 0.5 ? sorted[hi] - diff * (1 - t) : sorted[lo] + diff * t);
    }
    // Each sample in the bin numbered by the interior edges strictly below it.
    std::vector<int64_t> counts(b, 0);
    for (double v : s.p) {
      int bin = 0;
      for (int i = 1; i < b; ++i) bin += edges[i] < v ? 1 : 0;
      ++counts[static_cast<size_t>(bin)];
    }
    size_t listed = 0;
    for (int i = 0; i < b; ++i) {
      if (counts[static_cast<size_t>(i)] == 0) continue;
      ASSERT_LT(listed, bins.size());
      const ReliabilityBin& bin = bins[listed++];
      EXPECT_EQ(bin.lo, edges[static_cast<size_t>(i)]) << "bin " << i;
      EXPECT_EQ(bin.hi, edges[static_cast<size_t>(i) + 1]) << "bin " << i;
      EXPECT_EQ(bin.count, counts[static_cast<size_t>(i)]) << "bin " << i;
    }
    EXPECT_EQ(listed, bins.size());
  }
}

TEST_F(MetricsTest, MoreQuantileBinsThanDistinctValuesLeavesEmptyBinsOut) {
  const std::vector<ReliabilityBin> bins =
      BinsOk({0.4, 0.4, 0.4, 0.6}, {0, 1, 1, 1}, {}, 10, BinStrategy::kQuantile);
  int64_t total = 0;
  for (const ReliabilityBin& bin : bins) total += bin.count;
  EXPECT_EQ(total, 4);
  EXPECT_LE(bins.size(), 2u);
}

// --- Calibration errors ---

TEST_F(MetricsTest, PerfectlyCalibratedBinsHaveZeroErrors) {
  const CalibrationSummary s =
      ErrorsOk({0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75}, {0, 0, 0, 1, 1, 1, 1, 0}, {}, 10);
  EXPECT_EQ(s.ece, 0);
  EXPECT_EQ(s.mce, 0);
  EXPECT_EQ(s.l2, 0);
  EXPECT_EQ(s.nonempty_bins, 2);
}

TEST_F(MetricsTest, EceWeighsGapsByBinMassAndMceTakesTheLargest) {
  // Bin [0, .5]: mean .2, hit 0 (gap .2, 3 samples); bin (.5, 1]: mean .9, hit .5 (gap .4,
  // 2 samples).
  const CalibrationSummary s = ErrorsOk({0.2, 0.2, 0.2, 0.9, 0.9}, {0, 0, 0, 1, 0}, {}, 2);
  EXPECT_NEAR(s.ece, (3 * 0.2 + 2 * 0.4) / 5, kTolerance);
  EXPECT_NEAR(s.mce, 0.4, kTolerance);
  EXPECT_NEAR(s.mean_gap, 0.3, kTolerance);
  EXPECT_NEAR(s.l2, std::sqrt((3 * 0.04 + 2 * 0.16) / 5), kTolerance);
}

TEST_F(MetricsTest, SummaryOfNoBinsIsZero) {
  const CalibrationSummary s = SummarizeBins({});
  EXPECT_EQ(s.ece, 0);
  EXPECT_EQ(s.nonempty_bins, 0);
}

TEST_F(MetricsTest, DebiasedL2SubtractsTheBinomialVarianceOfEachBin) {
  // One bin of 4 samples: mean .5, hit .75; gap^2 = 1/16, variance .75 * .25 / 3 = 1/16.
  const CalibrationSummary s = ErrorsOk({0.5, 0.5, 0.5, 0.5}, {1, 1, 1, 0}, {}, 1);
  EXPECT_NEAR(s.l2_squared_debiased, 0, kTolerance);
  // A bin of one sample adds nothing.
  EXPECT_EQ(ErrorsOk({0.5}, {1}, {}, 1).l2_squared_debiased, 0);
}

TEST_F(MetricsTest, ExpectedAndAdaptiveErrorsAreTheSummariesOfTheirBins) {
  const Sample s = RandomSample(500, 3);
  EXPECT_EQ(Ok(ExpectedCalibrationError(s.p, s.y, s.w, 12)), ErrorsOk(s.p, s.y, s.w, 12).ece);
  EXPECT_EQ(Ok(AdaptiveCalibrationError(s.p, s.y, s.w, 12)),
            ErrorsOk(s.p, s.y, s.w, 12, BinStrategy::kQuantile).ece);
}

// --- Scores ---

TEST_F(MetricsTest, BrierIsTheWeightedMeanSquaredError) {
  EXPECT_NEAR(Ok(BrierScore(Vec{0.9, 0.2}, Vec{1, 1}, {})), (0.01 + 0.64) / 2, kTolerance);
  EXPECT_NEAR(Ok(BrierScore(Vec{0.9, 0.2}, Vec{1, 1}, Vec{3, 1})), (3 * 0.01 + 0.64) / 4,
              kTolerance);
  EXPECT_EQ(Ok(BrierScore(Vec{0.0, 1.0}, Vec{0, 1}, {})), 0);
}

TEST_F(MetricsTest, LogLossClipsAtTheMachineEpsilonOfDouble) {
  const double eps = std::numeric_limits<double>::epsilon();
  EXPECT_NEAR(Ok(LogLoss(Vec{0.0}, Vec{1}, {})), -std::log(eps), 1e-12);
  EXPECT_NEAR(Ok(LogLoss(Vec{1.0}, Vec{0}, {})), -std::log(eps), 1e-9);
  EXPECT_NEAR(Ok(LogLoss(Vec{0.8, 0.8}, Vec{1, 0}, Vec{3, 1})),
              (3 * -std::log(0.8) - std::log(0.2)) / 4, kTolerance);
}

TEST_F(MetricsTest, MurphyTermsAddUpToBrierOverDistinctForecasts) {
  const Vec p = {0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.7};
  const Vec y = {0, 1, 0, 1, 1, 0, 1};
  const Vec w = {1, 2, 1, 1, 1, 3, 1};
  Result<BrierDecomposition> d = MurphyDecomposition(p, y, w);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NEAR(d->reliability - d->resolution + d->uncertainty, Ok(BrierScore(p, y, w)), kTolerance);
  EXPECT_GE(d->reliability, 0);
  EXPECT_GE(d->resolution, 0);
}

TEST_F(MetricsTest, BinnedMurphyEqualsMurphyWhenEachBinHoldsOneForecastValue) {
  const Vec p = {0.15, 0.15, 0.45, 0.45, 0.45, 0.85};
  const Vec y = {0, 1, 0, 1, 1, 1};
  Result<BrierDecomposition> exact = MurphyDecomposition(p, y, {});
  ASSERT_TRUE(exact.ok());
  const BrierDecomposition binned = BinnedMurphyDecomposition(BinsOk(p, y, {}, 10));
  EXPECT_NEAR(binned.reliability, exact->reliability, kTolerance);
  EXPECT_NEAR(binned.resolution, exact->resolution, kTolerance);
  EXPECT_NEAR(binned.uncertainty, exact->uncertainty, kTolerance);
}

TEST_F(MetricsTest, CorpIsExactNonNegativeAndIndependentOfInputOrder) {
  Sample s = RandomSample(300, 5);
  Result<CorpDecomposition> d = CorpBrierDecomposition(s.p, s.y, s.w);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NEAR(d->miscalibration - d->discrimination + d->uncertainty, Ok(BrierScore(s.p, s.y, s.w)),
              kTolerance);
  EXPECT_GE(d->miscalibration, 0);
  EXPECT_GE(d->discrimination, -kTolerance);
  for (size_t i = 1; i < s.p.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (s.p[j] < s.p[i]) {
        ASSERT_LE(d->recalibrated[j], d->recalibrated[i]);
      }
    }
  }
  std::reverse(s.p.begin(), s.p.end());
  std::reverse(s.y.begin(), s.y.end());
  std::reverse(s.w.begin(), s.w.end());
  Result<CorpDecomposition> reversed = CorpBrierDecomposition(s.p, s.y, s.w);
  ASSERT_TRUE(reversed.ok());
  EXPECT_NEAR(reversed->miscalibration, d->miscalibration, kTolerance);
}

TEST_F(MetricsTest, CorpGivesZeroWeightSamplesTheirNeighboursValue) {
  Result<CorpDecomposition> d =
      CorpBrierDecomposition(Vec{0.1, 0.3, 0.5, 0.9}, Vec{0, 1, 0, 1}, Vec{0, 1, 1, 0});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->recalibrated, (Vec{0.5, 0.5, 0.5, 0.5}));
}

// --- The report ---

TEST_F(MetricsTest, ReportFieldsEqualTheirOwnFunctions) {
  const Sample s = RandomSample(2000, 9);
  for (const Vec& w : {Vec{}, s.w}) {
    const MetricsReport r = ReportOk(s.p, s.y, w);
    EXPECT_EQ(r.n, 2000);
    EXPECT_EQ(r.ece, Ok(ExpectedCalibrationError(s.p, s.y, w, 10)));
    EXPECT_EQ(r.ace, Ok(AdaptiveCalibrationError(s.p, s.y, w, 10)));
    EXPECT_EQ(r.brier, Ok(BrierScore(s.p, s.y, w)));
    EXPECT_EQ(r.log_loss, Ok(LogLoss(s.p, s.y, w)));
    const std::vector<ReliabilityBin> bins = BinsOk(s.p, s.y, w, 10);
    EXPECT_EQ(r.bins, bins);
    EXPECT_EQ(r.mce, SummarizeBins(bins).mce);
    EXPECT_EQ(r.decomposition, BinnedMurphyDecomposition(bins));
  }
  EXPECT_EQ(ReportOk(s.p, s.y, {}).weight, 2000.0);
}

TEST_F(MetricsTest, AdaptiveReportListsEqualMassBins) {
  const Sample s = RandomSample(1000, 13);
  const MetricsReport r = ReportOk(s.p, s.y, {}, {.bins = 4, .adaptive = true});
  EXPECT_EQ(r.bins, BinsOk(s.p, s.y, {}, 4, BinStrategy::kQuantile));
  EXPECT_EQ(r.ece, Ok(ExpectedCalibrationError(s.p, s.y, {}, 4)));
}

// --- Bad input ---

TEST_F(MetricsTest, EmptyInputIsRefused) {
  ExpectInvalid(ReliabilityBins({}, {}, {}, 10), "p: must not be empty");
  ExpectInvalid(BrierScore({}, {}, {}), "p: must not be empty");
  ExpectInvalid(ComputeMetrics({}, {}, {}), "p: must not be empty");
}

TEST_F(MetricsTest, MismatchedSizesAreRefused) {
  ExpectInvalid(ReliabilityBins(Vec{0.1, 0.2}, Vec{1}, {}, 10), "y: size 1 != p size 2");
  ExpectInvalid(LogLoss(Vec{0.1, 0.2}, Vec{1, 0}, Vec{1, 1, 1}), "w: size 3 != p size 2");
  ExpectInvalid(MurphyDecomposition(Vec{0.1}, Vec{1, 0}, {}), "y: size 2 != p size 1");
}

TEST_F(MetricsTest, ProbabilitiesOutsideTheUnitIntervalOrNaNAreRefused) {
  ExpectInvalid(ReliabilityBins(Vec{0.1, 1.5}, Vec{1, 0}, {}, 10), "p[1]: must be in [0, 1]");
  ExpectInvalid(ReliabilityBins(Vec{-0.0001}, Vec{1}, {}, 10, BinStrategy::kQuantile),
                "p[0]: must be in [0, 1]");
  ExpectInvalid(BrierScore(Vec{0.1, kNaN}, Vec{1, 0}, {}), "p[1]: must be in [0, 1]");
  ExpectInvalid(ComputeMetrics(Vec{0.5, 0.5, kInf}, Vec{1, 0, 1}, {}), "p[2]: must be in [0, 1]");
  ExpectInvalid(CorpBrierDecomposition(Vec{kNaN}, Vec{1}, {}), "p[0]: must be in [0, 1]");
}

TEST_F(MetricsTest, OutcomesOtherThanZeroOrOneAreRefused) {
  ExpectInvalid(ReliabilityBins(Vec{0.1, 0.2}, Vec{1, 0.5}, {}, 10), "y[1]: must be 0 or 1");
  ExpectInvalid(LogLoss(Vec{0.1}, Vec{kNaN}, {}), "y[0]: must be 0 or 1");
  ExpectInvalid(ReliabilityBins(Vec{0.1, 0.2}, Vec{1, 2}, {}, 3, BinStrategy::kQuantile),
                "y[1]: must be 0 or 1");
}

TEST_F(MetricsTest, NegativeOrNonFiniteWeightsAreRefused) {
  ExpectInvalid(ReliabilityBins(Vec{0.1, 0.2}, Vec{1, 0}, Vec{1, -1}, 10),
                "w[1]: must be finite and >= 0");
  ExpectInvalid(BrierScore(Vec{0.1, 0.2}, Vec{1, 0}, Vec{kInf, 1}),
                "w[0]: must be finite and >= 0");
  ExpectInvalid(ComputeMetrics(Vec{0.1, 0.2}, Vec{1, 0}, Vec{1, kNaN}),
                "w[1]: must be finite and >= 0");
}

TEST_F(MetricsTest, AllZeroWeightsAreRefused) {
  ExpectInvalid(ReliabilityBins(Vec{0.1, 0.2}, Vec{1, 0}, Vec{0, 0}, 10),
                "w: must have a positive sum");
  ExpectInvalid(LogLoss(Vec{0.1, 0.2}, Vec{1, 0}, Vec{0, 0}), "w: must have a positive sum");
  ExpectInvalid(MurphyDecomposition(Vec{0.1}, Vec{1}, Vec{0}), "w: must have a positive sum");
}

TEST_F(MetricsTest, BinCountsOutsideTheRangeAreRefused) {
  ExpectInvalid(ReliabilityBins(Vec{0.1}, Vec{1}, {}, 0), "bins: must be in [1, 1000000]");
  ExpectInvalid(ReliabilityBins(Vec{0.1}, Vec{1}, {}, kMaxBins + 1),
                "bins: must be in [1, 1000000]");
  ExpectInvalid(ComputeMetrics(Vec{0.1}, Vec{1}, {}, {.bins = -3}),
                "bins: must be in [1, 1000000]");
}

TEST_F(MetricsTest, TheFirstBadSampleIsNamedWhateverTheStrategy) {
  for (BinStrategy strategy : {BinStrategy::kUniform, BinStrategy::kQuantile}) {
    ExpectInvalid(ReliabilityBins(Vec{0.1, 0.2, 7}, Vec{1, 3, 0}, {}, 3, strategy),
                  "y[1]: must be 0 or 1");
  }
}

// --- Known answers: ../shared/reference/calibration.json ---

class MetricsReferenceTest : public MetricsTest {
 protected:
  void SetUp() override {
    LOAD_REFERENCE_OR_SKIP(reference_, "calibration.json");
    sports20_p_ = Numbers(reference_["sports20"]["p"]);
    sports20_y_ = Numbers(reference_["sports20"]["y"]);
    sports20_w_ = Numbers(reference_["sports20"]["w"]);
  }

  static Vec Numbers(const nlohmann::json& array) {
    Vec out;
    for (const nlohmann::json& v : array) out.push_back(v.get<double>());
    return out;
  }

  static void ExpectNear(const Vec& actual, const nlohmann::json& expected, double tolerance,
                         std::string_view what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    for (size_t i = 0; i < actual.size(); ++i) {
      EXPECT_NEAR(actual[i], expected[i].get<double>(), tolerance) << what << "[" << i << "]";
    }
  }

  static Vec MeanP(const std::vector<ReliabilityBin>& bins) {
    Vec out;
    for (const ReliabilityBin& bin : bins) out.push_back(bin.mean_p);
    return out;
  }
  static Vec HitRate(const std::vector<ReliabilityBin>& bins) {
    Vec out;
    for (const ReliabilityBin& bin : bins) out.push_back(bin.hit_rate);
    return out;
  }

  nlohmann::json reference_;
  Vec sports20_p_;
  Vec sports20_y_;
  Vec sports20_w_;
};

// scikit-learn's test_calibration_curve inputs, which the vector test_2bins leaves out.
const Vec kSklearnTestY = {0, 0, 0, 1, 1, 1};
const Vec kSklearnTestP = {0.0, 0.1, 0.2, 0.8, 0.9, 1.0};

TEST_F(MetricsReferenceTest, CalibrationCurveVectors) {
  struct Case {
    int bins;
    BinStrategy strategy;
  };
  const std::vector<std::pair<std::string, Case>> cases = {
      {"doc_example_3bins", {3, BinStrategy::kUniform}},
      {"test_2bins", {2, BinStrategy::kUniform}},
      {"test_quantile_2bins", {2, BinStrategy::kQuantile}},
      {"edge_0.5_goes_to_lower_bin", {2, BinStrategy::kUniform}},
      {"sports20_uniform10", {10, BinStrategy::kUniform}},
      {"sports20_quantile4", {4, BinStrategy::kQuantile}},
  };
  int checked = 0;
  for (const auto& [name, vector] : reference_["calibration_curve"].items()) {
    SCOPED_TRACE(name);
    if (name == "edge_semantics_10bins") continue;  // its own test below
    const std::string key = name;  // clang rejects capturing the structured binding
    const auto it =
        std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.first == key; });
    ASSERT_NE(it, cases.end()) << "a calibration_curve vector this test does not know";
    Vec p = kSklearnTestP;
    Vec y = kSklearnTestY;
    if (vector.contains("y_prob")) {
      p = Numbers(vector["y_prob"]);
      y = Numbers(vector["y_true"]);
    } else if (name.starts_with("sports20")) {
      p = sports20_p_;
      y = sports20_y_;
    }
    const std::vector<ReliabilityBin> bins = BinsOk(p, y, {}, it->second.bins, it->second.strategy);
    // Same sums in the same order as numpy.bincount: equal to the last bit.
    ExpectNear(MeanP(bins), vector["prob_pred"], 0, "prob_pred");
    ExpectNear(HitRate(bins), vector["prob_true"], 0, "prob_true");
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

TEST_F(MetricsReferenceTest, EdgeProbesFollowSearchsortedNotHistogramNorFloor) {
  const nlohmann::json& v = reference_["calibration_curve"]["edge_semantics_10bins"];
  const std::vector<std::string> hex = v["linspace_edges_hex"].get<std::vector<std::string>>();
  ASSERT_EQ(hex.size(), 11u);
  const Vec probes = Numbers(v["probe"]);
  const Vec expected = Numbers(v["sklearn_searchsorted_left"]);
  ASSERT_EQ(probes.size(), expected.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    const std::vector<ReliabilityBin> bins = BinsOk({probes[i]}, {0}, {}, 10);
    ASSERT_EQ(bins.size(), 1u);
    const auto bin = static_cast<size_t>(expected[i]);
    // The bin's edges are numpy.linspace(0, 1, 11)'s, to the bit.
    EXPECT_EQ(bins[0].lo, std::strtod(hex[bin].c_str(), nullptr)) << "probe " << probes[i];
    EXPECT_EQ(bins[0].hi, std::strtod(hex[bin + 1].c_str(), nullptr)) << "probe " << probes[i];
  }
}

TEST_F(MetricsReferenceTest, EceVectors) {
  struct Case {
    int bins;
    BinStrategy strategy;
    bool weighted;
    Target target;
  };
  const std::vector<std::pair<std::string, Case>> cases = {
      {"sports20_uniform10_positive_class",
       {10, BinStrategy::kUniform, false, Target::kPositiveClass}},
      {"sports20_uniform5_positive_class",
       {5, BinStrategy::kUniform, false, Target::kPositiveClass}},
      {"sports20_equal_mass4", {4, BinStrategy::kQuantile, false, Target::kPositiveClass}},
      {"sports20_equal_mass5", {5, BinStrategy::kQuantile, false, Target::kPositiveClass}},
      {"sports20_uniform10_weighted", {10, BinStrategy::kUniform, true, Target::kPositiveClass}},
      {"sports20_toplabel_uniform10", {10, BinStrategy::kUniform, false, Target::kTopLabel}},
      {"sports20_kumar_l2_equal_mass4", {4, BinStrategy::kQuantile, false, Target::kPositiveClass}},
  };
  int from_data = 0;
  for (const auto& [name, vector] : reference_["ece"].items()) {
    SCOPED_TRACE(name);
    // Every vector with bins: its ece, mce and netcal ACE follow from its own counts and gaps
    // (hf_example_2bins gives no inputs, so this is all that can be checked of it).
    if (vector.contains("gaps")) {
      std::vector<ReliabilityBin> listed;
      size_t g = 0;
      for (const nlohmann::json& count : vector["counts"]) {
        if (count.get<double>() == 0) continue;
        ASSERT_LT(g, vector["gaps"].size());
        listed.push_back({.mean_p = 0,
                          .hit_rate = vector["gaps"][g++].get<double>(),
                          .weight = count.get<double>(),
                          .count = static_cast<int64_t>(count.get<double>())});
      }
      EXPECT_EQ(g, vector["gaps"].size());
      const CalibrationSummary s = SummarizeBins(listed);
      EXPECT_NEAR(s.ece, vector["ece"].get<double>(), kTolerance);
      EXPECT_NEAR(s.mce, vector["mce"].get<double>(), kTolerance);
      EXPECT_NEAR(s.mean_gap, vector["ace_netcal"].get<double>(), kTolerance);
      EXPECT_EQ(s.nonempty_bins, vector["nonempty"].get<int64_t>());
    }
    const std::string key = name;  // clang rejects capturing the structured binding
    const auto it =
        std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.first == key; });
    if (it == cases.end()) {
      EXPECT_EQ(name, "hf_example_2bins") << "an ece vector this test does not know";
      continue;
    }
    const Case& c = it->second;
    const std::vector<ReliabilityBin> bins = BinsOk(
        sports20_p_, sports20_y_, c.weighted ? sports20_w_ : Vec{}, c.bins, c.strategy, c.target);
    const CalibrationSummary s = SummarizeBins(bins);
    if (vector.contains("plugin_l2")) {
      EXPECT_NEAR(s.l2, vector["plugin_l2"].get<double>(), kTolerance);
      EXPECT_NEAR(s.l2_squared_debiased, vector["debiased_sq"].get<double>(), kTolerance);
      EXPECT_NEAR(std::sqrt(std::max(0.0, s.l2_squared_debiased)),
                  vector["debiased_l2"].get<double>(), kTolerance);
    } else {
      EXPECT_NEAR(s.ece, vector["ece"].get<double>(), kTolerance);
      EXPECT_NEAR(s.mce, vector["mce"].get<double>(), kTolerance);
      EXPECT_NEAR(s.mean_gap, vector["ace_netcal"].get<double>(), kTolerance);
      EXPECT_EQ(s.nonempty_bins, vector["nonempty"].get<int64_t>());
      Vec counts;
      Vec gaps;
      for (const ReliabilityBin& bin : bins) {
        counts.push_back(bin.weight);
        gaps.push_back(std::abs(bin.hit_rate - bin.mean_p));
      }
      nlohmann::json nonzero_counts = nlohmann::json::array();
      for (const nlohmann::json& count : vector["counts"]) {
        if (count.get<double>() != 0) nonzero_counts.push_back(count);
      }
      ExpectNear(counts, nonzero_counts, 0, "counts");
      ExpectNear(gaps, vector["gaps"], kTolerance, "gaps");
    }
    if (c.strategy == BinStrategy::kQuantile && !c.weighted && c.bins == 4 &&
        vector.contains("ece")) {
      EXPECT_NEAR(Ok(AdaptiveCalibrationError(sports20_p_, sports20_y_, {}, 4)),
                  vector["ece"].get<double>(), kTolerance);
    }
    ++from_data;
  }
  EXPECT_EQ(from_data, static_cast<int>(cases.size()));
}

// sklearn issue #10883: twelve forecasts of two models on the same outcomes.
// https://github.com/scikit-learn/scikit-learn/issues/10883
const Vec kIssue10883Y = {0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1};
const Vec kIssue10883ModelA = {0.0, 0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75, 1.0};
const Vec kIssue10883ModelB = {0.0, 0.25, 0.25, 0.25, 0.75, 0.5, 0.5, 0.25, 0.75, 0.75, 0.75, 1.0};

TEST_F(MetricsReferenceTest, ScoreVectors) {
  int checked = 0;
  for (const auto& [name, vector] : reference_["scores"].items()) {
    SCOPED_TRACE(name);
    if (name == "sports20") {
      EXPECT_NEAR(Ok(BrierScore(sports20_p_, sports20_y_, {})), vector["brier"].get<double>(),
                  kTolerance);
      EXPECT_NEAR(Ok(LogLoss(sports20_p_, sports20_y_, {})), vector["log_loss"].get<double>(),
                  kTolerance);
      EXPECT_NEAR(Ok(BrierScore(sports20_p_, sports20_y_, sports20_w_)),
                  vector["brier_weighted"].get<double>(), kTolerance);
      EXPECT_NEAR(Ok(LogLoss(sports20_p_, sports20_y_, sports20_w_)),
                  vector["log_loss_weighted"].get<double>(), kTolerance);
    } else if (name == "doc_log_loss") {
      // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]):
      // "spam" sorts after "ham", so it is class 1 with the second column.
      EXPECT_NEAR(Ok(LogLoss(Vec{0.9, 0.1, 0.2, 0.65}, Vec{1, 0, 0, 1}, {})), vector.get<double>(),
                  kTolerance);
    } else if (name == "log_loss_clip_p0_y1") {
      // A certain miss (p = 0, y = 1) beside a certain hit: -ln(eps) / 2.
      EXPECT_NEAR(Ok(LogLoss(Vec{0.0, 0.0}, Vec{1, 0}, {})), vector["value"].get<double>(),
                  kTolerance);
    } else if (name.starts_with("issue10883_model")) {
      const Vec& p = name.ends_with("A") ? kIssue10883ModelA : kIssue10883ModelB;
      const nlohmann::json& murphy = vector["murphy"];
      Result<BrierDecomposition> d = MurphyDecomposition(p, kIssue10883Y, {});
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_NEAR(d->reliability, murphy["REL"].get<double>(), kTolerance);
      EXPECT_NEAR(d->resolution, murphy["RES"].get<double>(), kTolerance);
      EXPECT_NEAR(d->uncertainty, murphy["UNC"].get<double>(), kTolerance);
      EXPECT_NEAR(d->reliability - d->resolution + d->uncertainty,
                  murphy["REL_minus_RES_plus_UNC"].get<double>(), kTolerance);
      EXPECT_NEAR(Ok(BrierScore(p, kIssue10883Y, {})), murphy["brier"].get<double>(), kTolerance);
      const nlohmann::json& corp = vector["corp"];
      Result<CorpDecomposition> c = CorpBrierDecomposition(p, kIssue10883Y, {});
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      EXPECT_NEAR(c->miscalibration, corp["MCB"].get<double>(), kTolerance);
      EXPECT_NEAR(c->discrimination, corp["DSC"].get<double>(), kTolerance);
      EXPECT_NEAR(c->uncertainty, corp["UNC"].get<double>(), kTolerance);
      EXPECT_NEAR(c->miscalibration - c->discrimination + c->uncertainty,
                  corp["check"].get<double>(), kTolerance);
      EXPECT_NEAR(Ok(BrierScore(p, kIssue10883Y, {})), corp["score"].get<double>(), kTolerance);
    } else if (name == "sports20_corp") {
      Result<CorpDecomposition> c = CorpBrierDecomposition(sports20_p_, sports20_y_, {});
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      EXPECT_NEAR(c->miscalibration, vector["MCB"].get<double>(), kTolerance);
      EXPECT_NEAR(c->discrimination, vector["DSC"].get<double>(), kTolerance);
      EXPECT_NEAR(c->uncertainty, vector["UNC"].get<double>(), kTolerance);
      EXPECT_NEAR(c->miscalibration - c->discrimination + c->uncertainty,
                  vector["check"].get<double>(), kTolerance);
      EXPECT_NEAR(Ok(BrierScore(sports20_p_, sports20_y_, {})), vector["score"].get<double>(),
                  kTolerance);
      ExpectNear(c->recalibrated, vector["recalibrated"], kTolerance, "recalibrated");
    } else if (name == "sports20_murphy_distinct") {
      // Every p distinct: each group is one sample, so REL = Brier and RES = UNC.
      Result<BrierDecomposition> d = MurphyDecomposition(sports20_p_, sports20_y_, {});
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_NEAR(d->reliability, vector["REL"].get<double>(), kTolerance);
      EXPECT_NEAR(d->resolution, vector["RES"].get<double>(), kTolerance);
      EXPECT_NEAR(d->uncertainty, vector["UNC"].get<double>(), kTolerance);
      EXPECT_NEAR(d->reliability - d->resolution + d->uncertainty,
                  vector["REL_minus_RES_plus_UNC"].get<double>(), kTolerance);
      EXPECT_NEAR(Ok(BrierScore(sports20_p_, sports20_y_, {})), vector["brier"].get<double>(),
                  kTolerance);
    } else {
      ADD_FAILURE() << "a scores vector this test does not know";
      continue;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 7);
}

}  // namespace
}  // namespace truthbook::calibration
