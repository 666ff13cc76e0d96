#include "calibration/temperature.h"

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
// The binary reference optimum comes from a 50-digit Newton solve, and ours, the root of the
// derivative to double precision, lands within a few ulps of it. The 1X2 vector's beta comes
// from an optimizer that stopped 2.1e-11 short of the exact optimum (0.69497253510080877).
constexpr double kOptimumTolerance = 1e-12;
constexpr double kMulticlassReferenceTolerance = 1e-10;
constexpr double kLossTolerance = 1e-12;

using Vec = std::vector<double>;

class TemperatureTest : public ::testing::Test {
 protected:
  static double FitOk(const Vec& p, const Vec& y, const Vec& w = {}) {
    Result<double> result = FitTemperature(p, y, w);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : kNaN;
  }

  static double FitRowsOk(const Vec& rows, size_t k, const std::vector<int>& labels,
                          const Vec& w = {}) {
    Result<MulticlassTemperature> result = MulticlassTemperature::Fit(rows, k, labels, w);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->temperature() : kNaN;
  }

  // The weighted mean binary log loss of sigmoid(logit(p) / t), computed stably.
  static double BinaryLoss(const Vec& p, const Vec& y, const Vec& w, double t) {
    double loss = 0;
    double total = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      const double s = ClippedLogit(p[i]) / t;
      const double wi = w.empty() ? 1 : w[i];
      // -ln sigmoid(s) = ln(1 + e^-s); -ln(1 - sigmoid(s)) = ln(1 + e^s)
      const double softplus_minus = std::log1p(std::exp(-std::abs(s))) + std::max(-s, 0.0);
      const double softplus_plus = std::log1p(std::exp(-std::abs(s))) + std::max(s, 0.0);
      loss += wi * (y[i] == 1 ? softplus_minus : softplus_plus);
      total += wi;
    }
    return loss / total;
  }

  // The mean multi-class log loss of the rows after scaling with `model`.
  static double RowLoss(const Vec& rows, size_t k, const std::vector<int>& labels,
                        const MulticlassTemperature& model) {
    double loss = 0;
    Vec out(k);
    for (size_t i = 0; i < labels.size(); ++i) {
      model.ApplyRow(std::span<const double>(rows).subspan(i * k, k), out);
      loss -= std::log(out[static_cast<size_t>(labels[i])]);
    }
    return loss / static_cast<double>(labels.size());
  }

  static MulticlassTemperature Model(double t) {
    return std::move(MulticlassTemperature::FromParams(nlohmann::json{{"temperature", t}}).value());
  }

  // p drawn uniformly, outcomes drawn from sigmoid(logit(p) / true_t): a model whose
  // temperature should be about true_t.
  static void RandomSample(size_t n, unsigned seed, double true_t, Vec& p, Vec& y, Vec& w) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0, 1);
    p.clear();
    y.clear();
    w.clear();
    for (size_t i = 0; i < n; ++i) {
      p.push_back(0.02 + 0.96 * unit(rng));
      y.push_back(unit(rng) < ApplyTemperature(true_t, p.back()) ? 1 : 0);
      w.push_back(0.5 + unit(rng));
    }
  }
};

// --- Binary ---

TEST_F(TemperatureTest, OverconfidentForecastsGetATemperatureAboveOne) {
  Vec p, y, w;
  RandomSample(20000, 1, 2.0, p, y, w);
  const double t = FitOk(p, y, w);
  EXPECT_NEAR(t, 2.0, 0.15);
}

TEST_F(TemperatureTest, UnderconfidentForecastsGetATemperatureBelowOne) {
  Vec p, y, w;
  RandomSample(20000, 2, 0.5, p, y, w);
  EXPECT_NEAR(FitOk(p, y, w), 0.5, 0.05);
}

TEST_F(TemperatureTest, TheFitIsTheMinimumOfTheLoss) {
  Vec p, y, w;
  RandomSample(3000, 3, 1.3, p, y, w);
  const double t = FitOk(p, y, w);
  const double loss = BinaryLoss(p, y, w, t);
  EXPECT_GT(BinaryLoss(p, y, w, t * (1 + 1e-4)), loss);
  EXPECT_GT(BinaryLoss(p, y, w, t * (1 - 1e-4)), loss);
}

TEST_F(TemperatureTest, ForecastsOfOneHalfKeepTemperatureOne) {
  EXPECT_EQ(FitOk({0.5, 0.5, 0.5}, {0, 1, 1}), 1);
}

TEST_F(TemperatureTest, SeparatedOutcomesStopAtTheSmallestTemperature) {
  EXPECT_EQ(FitOk({0.2, 0.4, 0.6, 0.9}, {0, 0, 1, 1}), kMinTemperature);
}

TEST_F(TemperatureTest, OutcomesAgainstTheForecastsStopAtTheLargestTemperature) {
  EXPECT_EQ(FitOk({0.2, 0.4, 0.6, 0.9}, {1, 1, 0, 0}), kMaxTemperature);
}

TEST_F(TemperatureTest, FitIsIndependentOfInputOrderToTheBit) {
  Vec p, y, w;
  RandomSample(1000, 4, 0.8, p, y, w);
  const double first = FitOk(p, y, w);
  std::mt19937_64 rng(5);
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

TEST_F(TemperatureTest, CalibratorScalesTheClippedLogit) {
  Result<std::unique_ptr<TemperatureCalibrator>> c =
      TemperatureCalibrator::Fit(Vec{0.1, 0.3, 0.6, 0.8, 0.0, 1.0}, Vec{0, 1, 0, 1, 0, 1}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const double t = (*c)->temperature();
  EXPECT_GT(t, 0);
  for (double p : {0.0, 0.25, 0.5, 1.0}) {
    EXPECT_NEAR((*c)->Apply(p), 1 / (1 + std::exp(-ClippedLogit(p) / t)), 1e-16);
  }
}

TEST_F(TemperatureTest, BadBinaryInputIsRefused) {
  ExpectInvalid(FitTemperature(Vec{}, Vec{}, {}), "p: must not be empty");
  ExpectInvalid(FitTemperature(Vec{0.5, kNaN}, Vec{0, 1}, {}), "p[1]: must be in [0, 1]");
  ExpectInvalid(FitTemperature(Vec{0.5, 0.6}, Vec{0, 0.5}, {}), "y[1]: must be 0 or 1");
  ExpectInvalid(FitTemperature(Vec{0.5, 0.6}, Vec{0, 1}, Vec{0, -0.5}),
                "w[1]: must be finite and >= 0");
}

// --- Multi-class ---

TEST_F(TemperatureTest, TwoClassRowsAreBinaryTemperatureScaling) {
  Vec p, y, w;
  RandomSample(500, 6, 1.6, p, y, w);
  Vec rows;
  std::vector<int> labels;
  for (size_t i = 0; i < p.size(); ++i) {
    rows.push_back(1 - p[i]);
    rows.push_back(p[i]);
    labels.push_back(static_cast<int>(y[i]));
  }
  const double t = FitRowsOk(rows, 2, labels, w);
  EXPECT_NEAR(t, FitOk(p, y, w), 1e-12);
  Vec out(2);
  Model(t).ApplyRow(std::vector<double>{0.7, 0.3}, out);
  EXPECT_NEAR(out[1], ApplyTemperature(t, 0.3), 1e-15);
}

TEST_F(TemperatureTest, RowsAreNormalizedBySoftmax) {
  Vec out(3);
  Model(1).ApplyRow(std::vector<double>{0.5, 0.3, 0.3}, out);  // an over-round of 10%
  EXPECT_NEAR(out[0], 0.5 / 1.1, 1e-15);
  EXPECT_NEAR(out[1], 0.3 / 1.1, 1e-15);
  EXPECT_NEAR(out[0] + out[1] + out[2], 1, 1e-15);
}

TEST_F(TemperatureTest, RowFitIsIndependentOfRowOrderToTheBit) {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> unit(0, 1);
  Vec rows;
  std::vector<int> labels;
  for (int i = 0; i < 300; ++i) {
    const double a = unit(rng), b = unit(rng), c = unit(rng);
    rows.insert(rows.end(), {a / (a + b + c), b / (a + b + c), c / (a + b + c)});
    labels.push_back(static_cast<int>(unit(rng) * 3));
  }
  const double first = FitRowsOk(rows, 3, labels);
  std::vector<size_t> order(labels.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  Vec shuffled_rows;
  std::vector<int> shuffled_labels;
  for (size_t i : order) {
    shuffled_rows.insert(shuffled_rows.end(), rows.begin() + static_cast<std::ptrdiff_t>(i * 3),
                         rows.begin() + static_cast<std::ptrdiff_t>(i * 3 + 3));
    shuffled_labels.push_back(labels[i]);
  }
  EXPECT_EQ(FitRowsOk(shuffled_rows, 3, shuffled_labels), first);
}

TEST_F(TemperatureTest, BadRowsAreRefusedNamingTheField) {
  const Vec rows = {0.5, 0.3, 0.2, 0.1, 0.1, 0.8};
  ExpectInvalid(MulticlassTemperature::Fit(rows, 1, std::vector<int>{0, 0, 0, 0, 0, 0}, {}),
                "num_classes: must be >= 2");
  ExpectInvalid(MulticlassTemperature::Fit(Vec{}, 3, std::vector<int>{}, {}),
                "labels: must not be empty");
  ExpectInvalid(MulticlassTemperature::Fit(rows, 3, std::vector<int>{0, 1, 2}, {}),
                "p: size 6 != labels size 3 * num_classes 3");
  ExpectInvalid(
      MulticlassTemperature::Fit(Vec{0.5, 0.3, 0.2, 0.1, 1.1, 0.8}, 3, std::vector<int>{0, 2}, {}),
      "p[1][1]: must be in [0, 1]");
  ExpectInvalid(MulticlassTemperature::Fit(rows, 3, std::vector<int>{0, 3}, {}),
                "labels[1]: must be in [0, 3)");
  ExpectInvalid(MulticlassTemperature::Fit(rows, 3, std::vector<int>{-1, 0}, {}),
                "labels[0]: must be in [0, 3)");
  ExpectInvalid(MulticlassTemperature::Fit(rows, 3, std::vector<int>{0, 1}, Vec{1}),
                "w: size 1 != labels size 2");
  ExpectInvalid(MulticlassTemperature::FromParams(nlohmann::json{{"temperature", 0}}),
                "params.temperature: must be > 0");
}

// --- Known answers: every vector in calibration.json "temperature" ---

class TemperatureReferenceTest : public TemperatureTest {
 protected:
  void SetUp() override { LOAD_REFERENCE_OR_SKIP(reference_, "calibration.json"); }
  nlohmann::json reference_;
};

TEST_F(TemperatureReferenceTest, EveryVectorIsMatched) {
  const nlohmann::json& section = reference_.at("temperature");
  ASSERT_FALSE(section.empty());
  for (const auto& [name, vector] : section.items()) {
    SCOPED_TRACE(name);
    if (name == "sports20") {
      const nlohmann::json& data = reference_.at("sports20");
      const Vec p = data.at("p").get<Vec>();
      const Vec y = data.at("y").get<Vec>();
      const double t = FitOk(p, y);
      EXPECT_NEAR(t, vector.at("T_newton").get<double>(), kOptimumTolerance);
      EXPECT_NEAR(1 / t, vector.at("beta_newton_exact_logit").get<double>(), kOptimumTolerance);
      EXPECT_NEAR(BinaryLoss(p, y, {}, t), vector.at("mean_logloss_at_opt").get<double>(),
                  kLossTolerance);
      // scikit-learn 1.8's own fit (its "T" is 1/beta) stops earlier: ours is no worse.
      EXPECT_LE(BinaryLoss(p, y, {}, t),
                BinaryLoss(p, y, {}, vector.at("T").get<double>()) + kLossTolerance);
      EXPECT_LE(BinaryLoss(p, y, {}, t),
                BinaryLoss(p, y, {}, 1 / vector.at("beta_sklearn18_algorithm").get<double>()) +
                    kLossTolerance);
      Result<std::unique_ptr<TemperatureCalibrator>> c = TemperatureCalibrator::Fit(p, y, {});
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      const Vec expected = vector.at("calibrated").get<Vec>();
      ASSERT_EQ(expected.size(), p.size());
      for (size_t i = 0; i < p.size(); ++i) {
        EXPECT_NEAR((*c)->Apply(p[i]), expected[i], kOptimumTolerance) << "calibrated[" << i << "]";
      }
    } else if (name == "home_draw_away_8") {
      Vec rows;
      for (const nlohmann::json& row : vector.at("P")) {
        for (double v : row.get<Vec>()) rows.push_back(v);
      }
      const std::vector<int> labels = vector.at("y").get<std::vector<int>>();
      const double t = FitRowsOk(rows, 3, labels);
      EXPECT_NEAR(t, vector.at("T").get<double>(), kMulticlassReferenceTolerance);
      EXPECT_NEAR(1 / t, vector.at("beta").get<double>(), kMulticlassReferenceTolerance);
      EXPECT_NEAR(RowLoss(rows, 3, labels, Model(1)),
                  vector.at("mean_logloss_before").get<double>(), kLossTolerance);
      EXPECT_NEAR(RowLoss(rows, 3, labels, Model(t)), vector.at("mean_logloss_after").get<double>(),
                  kLossTolerance);
      EXPECT_LE(RowLoss(rows, 3, labels, Model(t)),
                RowLoss(rows, 3, labels, Model(vector.at("T").get<double>())) + kLossTolerance);
      Vec row0(3);
      Model(t).ApplyRow(std::span<const double>(rows).subspan(0, 3), row0);
      const Vec expected = vector.at("calibrated_row0").get<Vec>();
      for (size_t k = 0; k < 3; ++k) {
        EXPECT_NEAR(row0[k], expected[k], kMulticlassReferenceTolerance)
            << "calibrated_row0[" << k << "]";
      }
    } else if (name == "note_decision_function_binary") {
      // The note's identity: softmax(beta·(-x, x))[1] = expit(2·beta·x). A two-class row whose
      // logs are (-x, x) up to a shift is (expit(-2x), expit(2x)).
      for (double beta : {0.5, 1.3}) {
        for (double x : {-1.5, 0.2, 2.0}) {
          Vec out(2);
          Model(1 / beta).ApplyRow(Vec{1 / (1 + std::exp(2 * x)), 1 / (1 + std::exp(-2 * x))}, out);
          EXPECT_NEAR(out[1], 1 / (1 + std::exp(-2 * beta * x)), 1e-14) << beta << " " << x;
        }
      }
    } else {
      ADD_FAILURE() << "unknown vector";
    }
  }
}

}  // namespace
}  // namespace truthbook::calibration
