#include "calibration/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calibration/isotonic.h"
#include "calibration/metrics.h"
#include "reference.h"

namespace truthbook::calibration {
namespace {

using Vec = std::vector<double>;

constexpr double kTolerance = 1e-12;

class EvaluationTest : public ::testing::Test {
 protected:
  template <typename T>
  static void ExpectError(const Result<T>& result, StatusCode code, std::string_view message) {
    ASSERT_FALSE(result.ok()) << "expected the error \"" << message << "\", got a value";
    EXPECT_EQ(result.status().code(), code) << result.status().ToString();
    EXPECT_EQ(result.status().message(), message);
  }

  // scikit-learn's IsotonicRegression(out_of_bounds="clip") as a FitFn. std::function needs a
  // copyable callable, hence the shared_ptr.
  static FitFn Isotonic() {
    return [](std::span<const double> p, std::span<const double> y,
              std::span<const double> w) -> Result<CalibratorFn> {
      ASSIGN_OR_RETURN(std::unique_ptr<IsotonicCalibrator> fitted,
                       IsotonicCalibrator::Fit(p, y, w));
      std::shared_ptr<const IsotonicCalibrator> shared = std::move(fitted);
      return CalibratorFn([shared](double x) { return shared->Apply(x); });
    };
  }

  // A "calibrator" that predicts the weighted hit rate of its training data, and records what
  // it was trained on.
  struct Training {
    Vec p;
    Vec y;
    Vec w;
  };
  static FitFn BaseRate(std::vector<Training>* seen = nullptr) {
    return [seen](std::span<const double> p, std::span<const double> y,
                  std::span<const double> w) -> Result<CalibratorFn> {
      if (seen != nullptr) {
        seen->push_back(
            {Vec(p.begin(), p.end()), Vec(y.begin(), y.end()), Vec(w.begin(), w.end())});
      }
      double hits = 0;
      double total = 0;
      for (size_t i = 0; i < p.size(); ++i) {
        const double wi = w.empty() ? 1 : w[i];
        hits += wi * y[i];
        total += wi;
      }
      const double rate = hits / total;
      return CalibratorFn([rate](double) { return rate; });
    };
  }

  static FitFn Identity() {
    return [](std::span<const double>, std::span<const double>,
              std::span<const double>) -> Result<CalibratorFn> {
      return CalibratorFn([](double x) { return x; });
    };
  }

  static std::vector<int> FoldsOk(int64_t n, CrossFitOptions options) {
    Result<std::vector<int>> folds = AssignFolds(n, options);
    EXPECT_TRUE(folds.ok()) << folds.status().ToString();
    return folds.ok() ? *folds : std::vector<int>{};
  }

  static MetricsReport Report(int64_t n, double ece, double brier) {
    MetricsReport report;
    report.n = n;
    report.ece = ece;
    report.brier = brier;
    return report;
  }

  static Verdict VerdictOk(const MetricsReport& before, const MetricsReport& after,
                           const GateSettings& settings = {}) {
    Result<Verdict> verdict = ApplyGates(before, after, settings);
    EXPECT_TRUE(verdict.ok()) << verdict.status().ToString();
    return verdict.ok() ? *verdict : Verdict{};
  }

  static const GateResult* Gate(const Verdict& verdict, std::string_view name) {
    for (const GateResult& gate : verdict.gates) {
      if (gate.name == name) return &gate;
    }
    return nullptr;
  }
};

// --- Folds ---

TEST_F(EvaluationTest, ContiguousFoldsAreTimeOrderedBlocksWithTheLargerOnesFirst) {
  EXPECT_EQ(FoldsOk(10, {.folds = 3, .scheme = FoldScheme::kContiguous}),
            (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(FoldsOk(4, {.folds = 4}), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(EvaluationTest, InterleavedTwoFoldsAreTheEvenAndTheOddSamples) {
  EXPECT_EQ(FoldsOk(5, {.folds = 2, .scheme = FoldScheme::kInterleaved}),
            (std::vector<int>{0, 1, 0, 1, 0}));
}

TEST_F(EvaluationTest, FoldCountsOutsideTwoToNAreRefused) {
  ExpectError(AssignFolds(10, {.folds = 1}), StatusCode::kInvalidArgument,
              "folds: must be in [2, 10]");
  ExpectError(AssignFolds(10, {.folds = 11}), StatusCode::kInvalidArgument,
              "folds: must be in [2, 10]");
  ExpectError(AssignFolds(1, {.folds = 2}), StatusCode::kInvalidArgument,
              "p: cross-fitting needs at least 2 samples");
  ExpectError(
      CrossFittedPredictions(Vec{0.2, 0.4, 0.6}, Vec{0, 1, 1}, {}, BaseRate(), {.folds = 4}),
      StatusCode::kInvalidArgument, "folds: must be in [2, 3]");
}

// --- Cross-fitting ---

TEST_F(EvaluationTest, EachFoldIsScoredByACalibratorFittedWithoutIt) {
  const Vec p = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  const Vec y = {0, 0, 1, 1, 1, 1};
  const Vec w = {1, 2, 3, 4, 5, 6};
  std::vector<Training> seen;
  Result<std::vector<double>> predictions =
      CrossFittedPredictions(p, y, w, BaseRate(&seen), {.folds = 3});
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  ASSERT_EQ(seen.size(), 3u);
  // Fold 1 is samples 2 and 3: trained on the rest in time order, with their weights.
  EXPECT_EQ(seen[1].p, (Vec{0.1, 0.2, 0.5, 0.6}));
  EXPECT_EQ(seen[1].y, (Vec{0, 0, 1, 1}));
  EXPECT_EQ(seen[1].w, (Vec{1, 2, 5, 6}));
  // Fold 0's samples get the hit rate of folds 1 and 2: weights 3+4+5+6, all hits.
  EXPECT_EQ((*predictions)[0], 1.0);
  EXPECT_EQ((*predictions)[1], 1.0);
  EXPECT_NEAR((*predictions)[2], 11.0 / 14, kTolerance);
  EXPECT_NEAR((*predictions)[5], 7.0 / 10, kTolerance);
}

TEST_F(EvaluationTest, UnitWeightsReachTheFitAsAnEmptySpan) {
  std::vector<Training> seen;
  Result<std::vector<double>> predictions =
      CrossFittedPredictions(Vec{0.1, 0.9}, Vec{0, 1}, {}, BaseRate(&seen), {.folds = 2});
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].w.empty());
  EXPECT_EQ(*predictions, (Vec{1, 0}));
}

TEST_F(EvaluationTest, AFailedFitKeepsItsCodeAndNamesItsFold) {
  int calls = 0;
  const FitFn fails_second = [&calls](std::span<const double>, std::span<const double>,
                                      std::span<const double>) -> Result<CalibratorFn> {
    if (calls++ == 1) return InvalidArgument("y: needs both outcomes");
    return CalibratorFn([](double x) { return x; });
  };
  ExpectError(
      CrossFittedPredictions(Vec{0.1, 0.2, 0.3}, Vec{0, 1, 1}, {}, fails_second, {.folds = 3}),
      StatusCode::kInvalidArgument, "fold 1: y: needs both outcomes");
}

TEST_F(EvaluationTest, ACalibratorOutputOutsideTheUnitIntervalIsAnInternalError) {
  const FitFn broken = [](std::span<const double>, std::span<const double>,
                          std::span<const double>) -> Result<CalibratorFn> {
    return CalibratorFn([](double x) { return x > 0.5 ? 1.5 : x; });
  };
  ExpectError(CrossFittedPredictions(Vec{0.1, 0.7, 0.3, 0.2}, Vec{0, 1, 1, 0}, {}, broken,
                                     {.folds = 2, .scheme = FoldScheme::kInterleaved}),
              StatusCode::kInternal, "fold 1: calibrator returned a value outside [0, 1] for p[1]");
  const FitFn empty = [](std::span<const double>, std::span<const double>,
                         std::span<const double>) -> Result<CalibratorFn> {
    return CalibratorFn();
  };
  ExpectError(CrossFittedPredictions(Vec{0.1, 0.7}, Vec{0, 1}, {}, empty, {.folds = 2}),
              StatusCode::kInternal, "fold 0: the fit returned no calibrator");
}

TEST_F(EvaluationTest, BadSamplesAreRefusedBeforeAnyFit) {
  std::vector<Training> seen;
  ExpectError(CrossFittedPredictions(Vec{0.1, 1.2}, Vec{0, 1}, {}, BaseRate(&seen), {.folds = 2}),
              StatusCode::kInvalidArgument, "p[1]: must be in [0, 1]");
  ExpectError(
      CrossFittedPredictions(Vec{0.1, 0.2}, Vec{0, 1}, Vec{1, -1}, BaseRate(&seen), {.folds = 2}),
      StatusCode::kInvalidArgument, "w[1]: must be finite and >= 0");
  ExpectError(EvaluateHeldOut(Vec{0.1, 0.2}, Vec{0, 1}, Vec{1}, BaseRate(&seen)),
              StatusCode::kInvalidArgument, "w: size 1 != p size 2");
  EXPECT_TRUE(seen.empty());
}

TEST_F(EvaluationTest, HeldOutIdentityLeavesEveryMetricUnchanged) {
  const Vec p = {0.1, 0.35, 0.4, 0.62, 0.8, 0.9, 0.15, 0.55};
  const Vec y = {0, 0, 1, 1, 1, 1, 0, 0};
  Result<HeldOutEvaluation> evaluation =
      EvaluateHeldOut(p, y, {}, Identity(), {.folds = 4}, {.bins = 5});
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  EXPECT_EQ(evaluation->predictions, p);
  EXPECT_EQ(evaluation->after.ece, evaluation->before.ece);
  EXPECT_EQ(evaluation->after.brier, evaluation->before.brier);
  EXPECT_EQ(evaluation->after.bins, evaluation->before.bins);
  EXPECT_EQ(evaluation->before.bins.size(), 5u);
}

// --- Gates ---

TEST_F(EvaluationTest, GateDefaultsAreTheDesignsThousandSamplesOnePointOfEceAndNoWorseBrier) {
  const GateSettings defaults;
  EXPECT_EQ(defaults.min_n, 1000);
  EXPECT_EQ(defaults.min_ece_reduction, 0.01);
  EXPECT_TRUE(defaults.brier_not_worse);
}

TEST_F(EvaluationTest, AVersionThatHelpsOnEnoughDataPassesEveryGate) {
  const Verdict verdict = VerdictOk(Report(5000, 0.08, 0.20), Report(5000, 0.03, 0.19));
  EXPECT_TRUE(verdict.passed);
  ASSERT_EQ(verdict.gates.size(), 3u);
  EXPECT_EQ(verdict.gates[0], (GateResult{"min_n", 5000, 1000, true}));
  EXPECT_EQ(verdict.gates[1].name, "ece_reduction");
  EXPECT_NEAR(verdict.gates[1].value, 0.05, kTolerance);
  EXPECT_EQ(verdict.gates[1].threshold, 0.01);
  EXPECT_EQ(verdict.gates[2].name, "brier_not_worse");
  EXPECT_NEAR(verdict.gates[2].value, -0.01, kTolerance);
  EXPECT_EQ(verdict.gates[2].threshold, 0);
}

TEST_F(EvaluationTest, TooFewSamplesFailOnlyTheMinNGate) {
  const Verdict verdict = VerdictOk(Report(999, 0.08, 0.20), Report(999, 0.03, 0.19));
  EXPECT_FALSE(verdict.passed);
  EXPECT_FALSE(Gate(verdict, kGateMinN)->passed);
  EXPECT_TRUE(Gate(verdict, kGateEceReduction)->passed);
  EXPECT_TRUE(Gate(verdict, kGateBrierNotWorse)->passed);
}

TEST_F(EvaluationTest, EceReducedByExactlyTheThresholdPassesDespiteRounding) {
  // 0.1245 - 0.1145 = 0.009999999999999995 in double.
  const Verdict verdict = VerdictOk(Report(2000, 0.1245, 0.2), Report(2000, 0.1145, 0.2));
  EXPECT_TRUE(Gate(verdict, kGateEceReduction)->passed);
  EXPECT_TRUE(Gate(verdict, kGateBrierNotWorse)->passed) << "an unchanged Brier is not worse";
  EXPECT_TRUE(verdict.passed);
}

TEST_F(EvaluationTest, AWorseBrierFailsItsGateUnlessTheGateIsOff) {
  const MetricsReport before = Report(2000, 0.1, 0.20);
  const MetricsReport after = Report(2000, 0.05, 0.21);
  const Verdict on = VerdictOk(before, after);
  EXPECT_FALSE(on.passed);
  EXPECT_FALSE(Gate(on, kGateBrierNotWorse)->passed);
  const Verdict off = VerdictOk(before, after, {.brier_not_worse = false});
  EXPECT_TRUE(off.passed);
  EXPECT_EQ(Gate(off, kGateBrierNotWorse), nullptr);
  EXPECT_EQ(off.gates.size(), 2u);
}

TEST_F(EvaluationTest, InvalidGateSettingsAreRefused) {
  const MetricsReport report = Report(10, 0.1, 0.2);
  ExpectError(ApplyGates(report, report, {.min_n = -1}), StatusCode::kInvalidArgument,
              "min_n: must be >= 0");
  ExpectError(
      ApplyGates(report, report, {.min_ece_reduction = std::numeric_limits<double>::quiet_NaN()}),
      StatusCode::kInvalidArgument, "min_ece_reduction: must be finite");
  EXPECT_EQ(ValidateGateSettings({.min_ece_reduction = -0.5}), Status::Ok());
}

// --- Known answers: segments_and_gates in ../shared/reference/calibration.json ---

class EvaluationReferenceTest : public EvaluationTest {
 protected:
  void SetUp() override {
    LOAD_REFERENCE_OR_SKIP(reference_, "calibration.json");
    p_ = Numbers(reference_["sports20"]["p"]);
    y_ = Numbers(reference_["sports20"]["y"]);
    vectors_ = reference_["segments_and_gates"];
  }

  static Vec Numbers(const nlohmann::json& array) {
    Vec out;
    for (const nlohmann::json& v : array) out.push_back(v.get<double>());
    return out;
  }

  static double Ece(const Vec& p, const Vec& y) {
    Result<double> ece = ExpectedCalibrationError(p, y, {}, 10);
    EXPECT_TRUE(ece.ok()) << ece.status().ToString();
    return ece.ok() ? *ece : std::numeric_limits<double>::quiet_NaN();
  }

  // `n` forecasts of `p` of which the first `wins` won.
  static void Append(Vec& p, Vec& y, double value, int n, int wins) {
    for (int i = 0; i < n; ++i) {
      p.push_back(value);
      y.push_back(i < wins ? 1 : 0);
    }
  }

  nlohmann::json reference_;
  nlohmann::json vectors_;
  Vec p_;
  Vec y_;
};

TEST_F(EvaluationReferenceTest, EveryVectorIsCovered) {
  std::set<std::string> names;
  for (const auto& [name, vector] : vectors_.items()) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"segments", "in_sample_isotonic",
                                          "cross_fitted_isotonic_2fold_even_odd"}));
}

TEST_F(EvaluationReferenceTest, PoolingSegmentsHidesTheirMiscalibration) {
  const nlohmann::json& v = vectors_["segments"];
  Vec a_p, a_y, b_p, b_y;
  Append(a_p, a_y, 0.7, 10, 5);  // "0.7 x10 (5 wins), 0.3 x10 (5 wins)"
  Append(a_p, a_y, 0.3, 10, 5);
  Append(b_p, b_y, 0.7, 10, 9);  // "0.7 x10 (9 wins), 0.3 x10 (1 win)"
  Append(b_p, b_y, 0.3, 10, 1);
  const double ece_a = Ece(a_p, a_y);
  const double ece_b = Ece(b_p, b_y);
  EXPECT_NEAR(ece_a, v["segA"]["ece"].get<double>(), kTolerance);
  EXPECT_NEAR(ece_b, v["segB"]["ece"].get<double>(), kTolerance);
  Vec pooled_p = a_p;
  Vec pooled_y = a_y;
  pooled_p.insert(pooled_p.end(), b_p.begin(), b_p.end());
  pooled_y.insert(pooled_y.end(), b_y.begin(), b_y.end());
  EXPECT_NEAR(Ece(pooled_p, pooled_y), v["pooled_ece"].get<double>(), kTolerance);
  const auto size = [](const Vec& v) { return static_cast<double>(v.size()); };
  const double size_weighted = (size(a_p) * ece_a + size(b_p) * ece_b) / size(pooled_p);
  EXPECT_NEAR(size_weighted, v["size_weighted_mean_segment_ece"].get<double>(), kTolerance);
}

TEST_F(EvaluationReferenceTest, InSampleIsotonicLooksPerfect) {
  const nlohmann::json& v = vectors_["in_sample_isotonic"];
  Result<CalibratorFn> fitted = Isotonic()(p_, y_, {});
  ASSERT_TRUE(fitted.ok()) << fitted.status().ToString();
  Vec in_sample;
  for (double p : p_) in_sample.push_back((*fitted)(p));
  EXPECT_NEAR(Ece(p_, y_), v["ece_before"].get<double>(), kTolerance);
  EXPECT_NEAR(Ece(in_sample, y_), v["ece_after_in_sample"].get<double>(), kTolerance);
}

TEST_F(EvaluationReferenceTest, CrossFittedIsotonicOnEvenAndOddSamplesIsWorseAndRejected) {
  const nlohmann::json& v = vectors_["cross_fitted_isotonic_2fold_even_odd"];
  const CrossFitOptions even_odd = {.folds = 2, .scheme = FoldScheme::kInterleaved};
  Result<HeldOutEvaluation> evaluation = EvaluateHeldOut(p_, y_, {}, Isotonic(), even_odd);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  const Vec expected = Numbers(v["predictions"]);
  ASSERT_EQ(evaluation->predictions.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(evaluation->predictions[i], expected[i], kTolerance) << "predictions[" << i << "]";
  }
  EXPECT_NEAR(evaluation->after.ece, v["ece_after_heldout"].get<double>(), kTolerance);
  EXPECT_NEAR(evaluation->before.brier, v["brier_before"].get<double>(), kTolerance);
  EXPECT_NEAR(evaluation->after.brier, v["brier_after_heldout"].get<double>(), kTolerance);

  // With the default gates every one fails: 20 samples, ECE up, Brier up.
  const Verdict verdict = VerdictOk(evaluation->before, evaluation->after);
  EXPECT_FALSE(verdict.passed);
  for (const GateResult& gate : verdict.gates) EXPECT_FALSE(gate.passed) << gate.name;
  EXPECT_NEAR(Gate(verdict, kGateEceReduction)->value,
              vectors_["in_sample_isotonic"]["ece_before"].get<double>() -
                  v["ece_after_heldout"].get<double>(),
              kTolerance);

  // Even without the sample-size gate, held-out isotonic is rejected, while the same gates
  // on the in-sample fit would have accepted it.
  const GateSettings any_n = {.min_n = 0};
  EXPECT_FALSE(VerdictOk(evaluation->before, evaluation->after, any_n).passed);
  Result<CalibratorFn> fitted = Isotonic()(p_, y_, {});
  ASSERT_TRUE(fitted.ok());
  Vec in_sample;
  for (double p : p_) in_sample.push_back((*fitted)(p));
  Result<MetricsReport> in_sample_report = ComputeMetrics(in_sample, y_, {});
  ASSERT_TRUE(in_sample_report.ok());
  EXPECT_TRUE(VerdictOk(evaluation->before, *in_sample_report, any_n).passed);
}

}  // namespace
}  // namespace truthbook::calibration
