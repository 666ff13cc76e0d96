#include "calibration/beta.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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
// The reference optimum is a full solve; ours is solved to double precision (within a few
// ulps of it).
constexpr double kOptimumTolerance = 1e-12;

using Vec = std::vector<double>;

class BetaTest : public ::testing::Test {
 protected:
  static BetaParams FitOk(const Vec& p, const Vec& y, const Vec& w = {}) {
    Result<BetaParams> result = FitBeta(p, y, w);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : BetaParams{kNaN, kNaN, kNaN};
  }

  // The gradient of the weighted log loss in (a, b, c) at `params`.
  static std::array<double, 3> Gradient(const Vec& p, const Vec& y, const Vec& w,
                                        const BetaParams& params) {
    std::array<double, 3> g{};
    for (size_t i = 0; i < p.size(); ++i) {
      const double r = (w.empty() ? 1 : w[i]) * (BetaProbability(params, p[i]) - y[i]);
      g[0] += r * std::log(p[i]);
      g[1] -= r * std::log1p(-p[i]);
      g[2] += r;
    }
    return g;
  }

  // Grouped data: `count` samples at each p with the given hit counts.
  static void Grouped(const Vec& ps, const std::vector<int>& hits, int count, Vec& p, Vec& y) {
    p.clear();
    y.clear();
    for (size_t g = 0; g < ps.size(); ++g) {
      for (int i = 0; i < count; ++i) {
        p.push_back(ps[g]);
        y.push_back(i < hits[g] ? 1 : 0);
      }
    }
  }
};

TEST_F(BetaTest, CalibratedForecastsGiveRoughlyTheIdentity) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  Vec p, y;
  for (int i = 0; i < 50000; ++i) {
    p.push_back(0.01 + 0.98 * unit(rng));
    y.push_back(unit(rng) < p.back() ? 1 : 0);
  }
  const BetaParams params = FitOk(p, y);
  EXPECT_NEAR(params.a, 1, 0.1);
  EXPECT_NEAR(params.b, 1, 0.1);
  EXPECT_NEAR(params.c, 0, 0.1);
}

TEST_F(BetaTest, TheFitIsAStationaryPointOfTheLoss) {
  Vec p, y;
  Grouped({0.1, 0.3, 0.5, 0.7, 0.9}, {1, 2, 6, 9, 9}, 10, p, y);
  const BetaParams params = FitOk(p, y);
  ASSERT_GT(params.a, 0);
  ASSERT_GT(params.b, 0);
  for (double g : Gradient(p, y, {}, params)) EXPECT_NEAR(g, 0, 1e-12);
}

TEST_F(BetaTest, ANegativeAIsDroppedAndTheRestRefitted) {
  // Outcomes are frequent at the lowest p: the unconstrained fit wants a < 0.
  Vec p, y;
  Grouped({0.01, 0.05, 0.3, 0.6, 0.9}, {5, 3, 2, 6, 9}, 10, p, y);
  const BetaParams params = FitOk(p, y);
  EXPECT_EQ(params.a, 0);
  EXPECT_GT(params.b, 0);
  const std::array<double, 3> g = Gradient(p, y, {}, params);
  EXPECT_GT(g[0], 0) << "lowering a below 0 would have lowered the loss";
  EXPECT_NEAR(g[1], 0, 1e-12);
  EXPECT_NEAR(g[2], 0, 1e-12);
}

TEST_F(BetaTest, MirroredDataSwapsAAndBAndNegatesC) {
  // p -> 1 - p and y -> 1 - y turn a·ln p - b·ln(1 - p) + c into its negative with a and b
  // swapped; this also takes the dropped-a case above to a dropped b.
  for (const std::vector<int>& hits : {std::vector<int>{1, 2, 6, 9, 9}, {5, 3, 2, 6, 9}}) {
    Vec p, y;
    Grouped({0.01, 0.05, 0.3, 0.6, 0.9}, hits, 10, p, y);
    Vec mirrored_p, mirrored_y;
    for (size_t i = 0; i < p.size(); ++i) {
      mirrored_p.push_back(1 - p[i]);
      mirrored_y.push_back(1 - y[i]);
    }
    const BetaParams params = FitOk(p, y);
    const BetaParams mirrored = FitOk(mirrored_p, mirrored_y);
    EXPECT_NEAR(mirrored.a, params.b, 1e-9);
    EXPECT_NEAR(mirrored.b, params.a, 1e-9);
    EXPECT_NEAR(mirrored.c, -params.c, 1e-9);
  }
}

TEST_F(BetaTest, OneDistinctProbabilityGivesTheConstantBaseRate) {
  const BetaParams params = FitOk({0.3, 0.3, 0.3, 0.3}, {1, 0, 0, 0}, {3, 1, 1, 1});
  EXPECT_EQ(params.a, 0);
  EXPECT_EQ(params.b, 0);
  EXPECT_DOUBLE_EQ(BetaProbability(params, 0.9), 0.5);
}

TEST_F(BetaTest, SeparatedOutcomesStillGiveAFiniteNonDecreasingMap) {
  const BetaParams params = FitOk({0.1, 0.2, 0.3, 0.7, 0.8, 0.9}, {0, 0, 0, 1, 1, 1});
  EXPECT_TRUE(std::isfinite(params.a) && std::isfinite(params.b) && std::isfinite(params.c));
  EXPECT_GE(params.a, 0);
  EXPECT_GE(params.b, 0);
  EXPECT_LT(BetaProbability(params, 0.3), 0.01);
  EXPECT_GT(BetaProbability(params, 0.7), 0.99);
}

TEST_F(BetaTest, FitIsIndependentOfInputOrderToTheBit) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> unit(0, 1);
  Vec p, y, w;
  for (int i = 0; i < 1000; ++i) {
    p.push_back(unit(rng));
    y.push_back(unit(rng) < p.back() * p.back() ? 1 : 0);
    w.push_back(0.5 + unit(rng));
  }
  const BetaParams first = FitOk(p, y, w);
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int trial = 0; trial < 3; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    Vec ps, ys, ws;
    for (size_t i : order) {
      ps.push_back(p[i]);
      ys.push_back(y[i]);
      ws.push_back(w[i]);
    }
    EXPECT_EQ(FitOk(ps, ys, ws), first);
  }
}

TEST_F(BetaTest, ProbabilitiesZeroAndOneAreClipped) {
  const BetaParams params{0.7, 2.0, -0.7};
  for (double p : {0.0, 1.0}) {
    const double q = std::clamp(p, kProbabilityClip, 1 - kProbabilityClip);
    EXPECT_EQ(BetaProbability(params, p), BetaProbability(params, q));
    EXPECT_GT(BetaProbability(params, p), 0);  // p^0.7 at p = 1e-12 is still above 0
    EXPECT_LE(BetaProbability(params, p), 1);  // (1 - p)^-2 at 1 - p = 1e-12 rounds to 1
  }
  EXPECT_TRUE(std::isnan(BetaProbability({0, 0, 1}, kNaN)));
}

TEST_F(BetaTest, BadInputIsRefused) {
  ExpectInvalid(FitBeta(Vec{0.2, 0.4}, Vec{1, 1}, {}),
                "y: beta calibration needs both outcomes with positive weight");
  ExpectInvalid(FitBeta(Vec{0.2, 0.4}, Vec{1, 0}, Vec{1, 0}),
                "y: beta calibration needs both outcomes with positive weight");
  ExpectInvalid(FitBeta(Vec{0.2, -0.4}, Vec{1, 0}, {}), "p[1]: must be in [0, 1]");
  ExpectInvalid(BetaCalibrator::FromParams(nlohmann::json{{"a", -1}, {"b", 1}, {"c", 0}}),
                "params.a: must be >= 0");
  ExpectInvalid(BetaCalibrator::FromParams(nlohmann::json{{"a", 1}, {"b", -0.5}, {"c", 0}}),
                "params.b: must be >= 0");
  ExpectInvalid(BetaCalibrator::FromParams(nlohmann::json{{"a", 1}, {"b", 1}}),
                "params.c: missing");
}

// --- Known answers: calibration.json "beta_calibration_sports20" ---

class BetaReferenceTest : public BetaTest {
 protected:
  void SetUp() override { LOAD_REFERENCE_OR_SKIP(reference_, "calibration.json"); }
  nlohmann::json reference_;
};

TEST_F(BetaReferenceTest, Sports20MatchesTheReferenceFit) {
  // Unweighted, as betacal fits it (the note: mu(s) = expit(c + a ln s - b ln(1 - s))).
  const nlohmann::json& data = reference_.at("sports20");
  const nlohmann::json& v = reference_.at("beta_calibration_sports20");
  const Vec p = data.at("p").get<Vec>();
  const Vec y = data.at("y").get<Vec>();
  Result<std::unique_ptr<BetaCalibrator>> c = BetaCalibrator::Fit(p, y, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const BetaParams& params = (*c)->params();
  EXPECT_NEAR(params.a, v.at("a").get<double>(), kOptimumTolerance);
  EXPECT_NEAR(params.b, v.at("b").get<double>(), kOptimumTolerance);
  EXPECT_NEAR(params.c, v.at("c").get<double>(), kOptimumTolerance);
  for (double s : p) {
    const double z = v.at("c").get<double>() + v.at("a").get<double>() * std::log(s) -
                     v.at("b").get<double>() * std::log(1 - s);
    EXPECT_NEAR((*c)->Apply(s), 1 / (1 + std::exp(-z)), kOptimumTolerance) << "p = " << s;
  }
}

}  // namespace
}  // namespace truthbook::calibration
