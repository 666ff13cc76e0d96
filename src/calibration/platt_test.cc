#include "calibration/platt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
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
// The reference "newton" values are the optimum from a 50-digit Newton solve; ours is solved
// to double precision (it lands within a few ulps), far inside the 1e-6 that an
// early-stopping optimizer would need.
constexpr double kOptimumTolerance = 1e-12;
// scikit-learn's BFGS stops early; a full solve may not be above its loss by more than this.
constexpr double kLossSlack = 1e-12;

using Vec = std::vector<double>;

class PlattTest : public ::testing::Test {
 protected:
  static PlattParams FitOk(const Vec& f, const Vec& y, const Vec& w = {}, bool smoothed = true) {
    Result<PlattParams> result = FitSigmoid(f, y, w, smoothed);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : PlattParams{kNaN, kNaN};
  }

  // A random sample of scores with outcomes drawn from a sigmoid of them.
  static void RandomSample(size_t n, unsigned seed, Vec& f, Vec& y, Vec& w) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> score(0.3, 1.7);
    std::uniform_real_distribution<double> unit(0, 1);
    f.clear();
    y.clear();
    w.clear();
    for (size_t i = 0; i < n; ++i) {
      f.push_back(score(rng));
      y.push_back(unit(rng) < 1 / (1 + std::exp(-(0.8 * f.back() - 0.2))) ? 1 : 0);
      w.push_back(0.5 + unit(rng));
    }
  }
};

TEST_F(PlattTest, FittedProbabilitiesSumToTheSmoothedTargets) {
  // At the optimum the gradient in b vanishes: sum_i w_i P_i = sum_i w_i t_i. Here N+ = 3,
  // N- = 2, so t+ = 4/5 and t- = 1/4, and the fitted P sum to 3·0.8 + 2·0.25 = 2.9.
  const Vec f = {-2, -1, 0.5, 1, 3};
  const Vec y = {0, 1, 0, 1, 1};
  const PlattParams params = FitOk(f, y);
  double sum = 0;
  double moment = 0;  // and the gradient in a: sum_i (t_i - P_i) f_i = 0
  const Vec t = {0.25, 0.8, 0.25, 0.8, 0.8};
  for (size_t i = 0; i < f.size(); ++i) {
    const double p = SigmoidProbability(params, f[i]);
    sum += p;
    moment += (t[i] - p) * f[i];
  }
  EXPECT_NEAR(sum, 2.9, 1e-13);
  EXPECT_NEAR(moment, 0, 1e-13);
  EXPECT_LT(params.a, 0) << "increasing in f";
}

TEST_F(PlattTest, WeightsCountAsRepetitionsInTheTargetsAndTheLoss) {
  const PlattParams weighted = FitOk({-1, 0, 1, 2}, {0, 1, 0, 1}, {2, 1, 1, 3});
  const PlattParams repeated = FitOk({-1, -1, 0, 1, 2, 2, 2}, {0, 0, 1, 0, 1, 1, 1});
  EXPECT_NEAR(weighted.a, repeated.a, 1e-12);
  EXPECT_NEAR(weighted.b, repeated.b, 1e-12);
}

TEST_F(PlattTest, ZeroWeightsChangeNothing) {
  const PlattParams without = FitOk({-1, 0, 1}, {0, 1, 1});
  const PlattParams with = FitOk({-1, 5, 0, 1}, {0, 0, 1, 1}, {1, 0, 1, 1});
  EXPECT_EQ(with, without);
}

TEST_F(PlattTest, OneDistinctScoreHasSlopeZeroAndTheClosedFormIntercept) {
  // t+ = 3/4 (N+ = 2), t- = 1/3 (N- = 1): mean target (2·3/4 + 1/3)/3 = 11/18.
  const PlattParams params = FitOk({0.7, 0.7, 0.7}, {1, 1, 0});
  EXPECT_EQ(params.a, 0);
  EXPECT_NEAR(SigmoidProbability(params, 0.7), 11.0 / 18, 1e-15);
}

TEST_F(PlattTest, SmoothedTargetsKeepASeparableSampleFinite) {
  const PlattParams params = FitOk({-3, -2, -1, 1, 2, 3}, {0, 0, 0, 1, 1, 1});
  EXPECT_TRUE(std::isfinite(params.a) && std::isfinite(params.b));
  EXPECT_LT(params.a, 0);
}

TEST_F(PlattTest, NoNearbyPointHasALowerLoss) {
  Vec f, y, w;
  RandomSample(2000, 3, f, y, w);
  const PlattParams best = FitOk(f, y, w);
  const double loss = SigmoidLoss(f, y, w, best);
  for (double da : {-1e-5, 0.0, 1e-5}) {
    for (double db : {-1e-5, 0.0, 1e-5}) {
      EXPECT_GE(SigmoidLoss(f, y, w, {best.a + da, best.b + db}), loss) << da << " " << db;
    }
  }
}

TEST_F(PlattTest, AffineChangesOfTheScoresGiveTheSameProbabilities) {
  // Scores in other units or with a large offset (an ill-conditioned Hessian) reach the same
  // optimum: a·f + b is invariant.
  Vec f, y, w;
  RandomSample(2000, 4, f, y, w);
  const PlattParams base = FitOk(f, y, w);
  for (const auto& [scale, shift] :
       {std::pair{1e3, 0.0}, {1e-3, 0.0}, {1.0, 1e4}, {10.0, -500.0}}) {
    Vec g;
    for (double v : f) g.push_back(scale * v + shift);
    const PlattParams moved = FitOk(g, y, w);
    EXPECT_NEAR(moved.a * scale, base.a, 1e-9 * std::abs(base.a)) << scale << " " << shift;
    EXPECT_NEAR(moved.b + moved.a * shift, base.b, 1e-8) << scale << " " << shift;
  }
}

TEST_F(PlattTest, FitIsIndependentOfInputOrderToTheBit) {
  Vec f, y, w;
  RandomSample(1000, 5, f, y, w);
  const PlattParams first = FitOk(f, y, w);
  std::mt19937_64 rng(9);
  std::vector<size_t> order(f.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int trial = 0; trial < 3; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    Vec fs, ys, ws;
    for (size_t i : order) {
      fs.push_back(f[i]);
      ys.push_back(y[i]);
      ws.push_back(w[i]);
    }
    EXPECT_EQ(FitOk(fs, ys, ws), first);
  }
}

TEST_F(PlattTest, LabelsArePositiveWhenAboveZero) {
  EXPECT_EQ(FitOk({5, -4, 1}, {1, -1, -1}), FitOk({5, -4, 1}, {1, 0, 0}));
}

TEST_F(PlattTest, BadInputIsRefusedNamingTheField) {
  ExpectInvalid(FitSigmoid(Vec{}, Vec{}, {}), "f: must not be empty");
  ExpectInvalid(FitSigmoid(Vec{1, 2, 3}, Vec{1, 0}, {}), "y: size 2 != f size 3");
  ExpectInvalid(FitSigmoid(Vec{1, kNaN}, Vec{1, 0}, {}), "f[1]: must be finite");
  ExpectInvalid(FitSigmoid(Vec{1, 2}, Vec{1, kNaN}, {}), "y[1]: must be finite");
  ExpectInvalid(FitSigmoid(Vec{1, 2}, Vec{1, 0}, Vec{1, 2, 3}), "w: size 3 != f size 2");
  ExpectInvalid(FitSigmoid(Vec{1, 2}, Vec{1, 0}, Vec{kNaN, 1}), "w[0]: must be finite and >= 0");
  ExpectInvalid(FitSigmoid(Vec{1, 2}, Vec{1, 1}, {}, /*smoothed_targets=*/false),
                "y: plain maximum likelihood needs both outcomes with positive weight");
  ExpectInvalid(PlattCalibrator::Fit(Vec{0.2, 1.5}, Vec{1, 0}, {}), "p[1]: must be in [0, 1]");
}

TEST_F(PlattTest, CalibratorAppliesTheSigmoidToTheClippedLogit) {
  const Vec p = {0.1, 0.2, 0.4, 0.6, 0.7, 0.95, 0.0, 1.0};
  const Vec y = {0, 1, 0, 1, 1, 1, 0, 1};
  Result<std::unique_ptr<PlattCalibrator>> c = PlattCalibrator::Fit(p, y, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Vec logits;
  for (double v : p) logits.push_back(ClippedLogit(v));
  EXPECT_EQ((*c)->params(), FitOk(logits, y));
  for (double v : {0.0, 0.3, 1.0}) {
    EXPECT_EQ((*c)->Apply(v), SigmoidProbability((*c)->params(), ClippedLogit(v)));
    EXPECT_GT((*c)->Apply(v), 0);
    EXPECT_LT((*c)->Apply(v), 1);
  }
}

// --- Known answers: every vector in calibration.json "platt" ---

class PlattReferenceTest : public PlattTest {
 protected:
  void SetUp() override { LOAD_REFERENCE_OR_SKIP(reference_, "calibration.json"); }

  static Vec Doubles(const nlohmann::json& array) { return array.get<Vec>(); }

  nlohmann::json reference_;
};

TEST_F(PlattReferenceTest, EveryVectorReachesTheOptimumAndBeatsScikitLearnsLoss) {
  const nlohmann::json& sports20 = reference_.at("sports20");
  const Vec p = Doubles(sports20.at("p"));
  const Vec y20 = Doubles(sports20.at("y"));
  Vec logits;
  for (double v : p) logits.push_back(ClippedLogit(v));

  const nlohmann::json& section = reference_.at("platt");
  ASSERT_FALSE(section.empty());
  for (const auto& [name, vector] : section.items()) {
    SCOPED_TRACE(name);
    // The vector's name says what the scores are: libsvm's F, p itself, or logit(p).
    Vec f, y;
    if (vector.contains("F")) {
      f = Doubles(vector.at("F"));
      y = Doubles(vector.at("y"));
    } else if (name.find("on_logit") != std::string::npos) {
      f = logits;
      y = y20;
    } else if (name.find("on_prob") != std::string::npos) {
      f = p;
      y = y20;
    } else {
      ADD_FAILURE() << "unknown kind of vector";
      continue;
    }
    const Vec w = vector.contains("w") ? Doubles(vector.at("w")) : Vec{};
    const bool smoothed = name.find("hard_targets") == std::string::npos;
    const PlattParams ours = FitOk(f, y, w, smoothed);

    int checks = 0;
    if (vector.contains("newton")) {
      const Vec optimum = Doubles(vector.at("newton"));
      EXPECT_NEAR(ours.a, optimum[0], kOptimumTolerance) << "A";
      EXPECT_NEAR(ours.b, optimum[1], kOptimumTolerance) << "B";
      ++checks;
    }
    if (vector.contains("slope")) {  // p = expit(intercept + slope·f), so A = -slope
      EXPECT_NEAR(ours.a, -vector.at("slope").get<double>(), kOptimumTolerance) << "slope";
      EXPECT_NEAR(ours.b, -vector.at("intercept").get<double>(), kOptimumTolerance) << "intercept";
      ++checks;
    }
    for (const char* key : {"sklearn_1_2_1", "sklearn_test_expected"}) {
      if (!vector.contains(key)) continue;
      const Vec theirs = Doubles(vector.at(key));
      EXPECT_LE(SigmoidLoss(f, y, w, ours, smoothed),
                SigmoidLoss(f, y, w, {theirs[0], theirs[1]}, smoothed) + kLossSlack)
          << key;
      ++checks;
    }
    if (vector.contains("info")) {
      const nlohmann::json& info = vector.at("info");
      EXPECT_NEAR(SigmoidLoss(f, y, w, ours, smoothed), info.at("loss").get<double>(), 1e-12)
          << "loss at the optimum";
      // The targets are (N+ + 1)/(N+ + 2) and 1/(N- + 2): check the counts they imply.
      double positive = 0;
      double negative = 0;
      for (size_t i = 0; i < y.size(); ++i)
        (y[i] > 0 ? positive : negative) += w.empty() ? 1 : w[i];
      EXPECT_EQ(positive, info.at("prior1").get<double>());
      EXPECT_EQ(negative, info.at("prior0").get<double>());
      EXPECT_NEAR((positive + 1) / (positive + 2), info.at("t_pos").get<double>(), 1e-16);
      EXPECT_NEAR(1 / (negative + 2), info.at("t_neg").get<double>(), 1e-16);
      ++checks;
    }
    for (const char* key : {"calibrated", "proba_at_F"}) {
      if (!vector.contains(key)) continue;
      const Vec expected = Doubles(vector.at(key));
      ASSERT_EQ(expected.size(), f.size());
      for (size_t i = 0; i < f.size(); ++i) {
        EXPECT_NEAR(SigmoidProbability(ours, f[i]), expected[i], kOptimumTolerance)
            << key << "[" << i << "]";
      }
      ++checks;
    }
    if (vector.contains("predict_at_0_5")) {
      EXPECT_NEAR(SigmoidProbability(ours, 0.5), vector.at("predict_at_0_5").get<double>(),
                  kOptimumTolerance);
      ++checks;
    }
    EXPECT_GT(checks, 0) << "vector has no expectation this test knows";
  }
}

TEST_F(PlattReferenceTest, CalibratorIsPlattOnLogitOfSports20) {
  const nlohmann::json& sports20 = reference_.at("sports20");
  const nlohmann::json& v =
      reference_.at("platt").at("sports20_on_logit(netcal/Kumar style, with Platt targets)");
  const Vec p = Doubles(sports20.at("p"));
  Result<std::unique_ptr<PlattCalibrator>> c =
      PlattCalibrator::Fit(p, Doubles(sports20.at("y")), {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Vec expected = Doubles(v.at("calibrated"));
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_NEAR((*c)->Apply(p[i]), expected[i], kOptimumTolerance) << "calibrated[" << i << "]";
  }
}

}  // namespace
}  // namespace truthbook::calibration
