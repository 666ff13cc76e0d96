#include "calibration/isotonic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "base/status_test_util.h"
#include "reference.h"

namespace truthbook::calibration {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// PAVA and interpolation are closed forms (a few sums and one division per value); the
// reference values were printed from scikit-learn with 16-17 digits.
constexpr double kTolerance = 1e-12;

using Vec = std::vector<double>;

class IsotonicTest : public ::testing::Test {
 protected:
  static IsotonicRegression FitOk(const Vec& x, const Vec& y, const Vec& w = {},
                                  const IsotonicOptions& options = {}) {
    Result<IsotonicRegression> result = IsotonicRegression::Fit(x, y, w, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return std::move(IsotonicRegression::Fit(Vec{0}, Vec{0}, {}).value());
    return std::move(result).value();
  }

  // The fitted values at the training x (scikit-learn's fit_transform).
  static Vec FitTransform(const Vec& x, const Vec& y, const Vec& w = {},
                          const IsotonicOptions& options = {}) {
    const IsotonicRegression regression = FitOk(x, y, w, options);
    Vec out;
    for (double v : x) out.push_back(regression.Predict(v));
    return out;
  }

  static void ExpectNear(const Vec& actual, const Vec& expected, double tolerance,
                         std::string_view what = "") {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (std::isnan(expected[i])) {
        EXPECT_TRUE(std::isnan(actual[i])) << what << "[" << i << "] = " << actual[i];
      } else {
        EXPECT_NEAR(actual[i], expected[i], tolerance) << what << "[" << i << "]";
      }
    }
  }

  // The weighted least-squares non-decreasing fit by the textbook definition: repeatedly pool
  // the first adjacent pair of blocks that violates the order. Quadratic, for checking PAVA.
  static Vec NaivePava(const Vec& y, const Vec& w) {
    struct Block {
      double sum_wy, sum_w;
      size_t count;
    };
    std::vector<Block> blocks;
    for (size_t i = 0; i < y.size(); ++i) blocks.push_back({w[i] * y[i], w[i], 1});
    for (bool pooled = true; pooled;) {
      pooled = false;
      for (size_t i = 0; i + 1 < blocks.size(); ++i) {
        if (blocks[i].sum_wy / blocks[i].sum_w >= blocks[i + 1].sum_wy / blocks[i + 1].sum_w) {
          blocks[i] = {blocks[i].sum_wy + blocks[i + 1].sum_wy,
                       blocks[i].sum_w + blocks[i + 1].sum_w,
                       blocks[i].count + blocks[i + 1].count};
          blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(i) + 1);
          pooled = true;
          break;
        }
      }
    }
    Vec out;
    for (const Block& b : blocks) out.insert(out.end(), b.count, b.sum_wy / b.sum_w);
    return out;
  }
};

// --- PAVA ---

TEST_F(IsotonicTest, IncreasingDataIsLeftAlone) {
  Vec y = {1, 2, 3, 5};
  Vec w = {1, 1, 1, 1};
  PoolAdjacentViolators(y, w);
  EXPECT_EQ(y, (Vec{1, 2, 3, 5}));
}

TEST_F(IsotonicTest, ViolatorsArePooledToTheirWeightedMean) {
  Vec y = {1, 4, 2, 5};
  Vec w = {1, 1, 3, 1};
  PoolAdjacentViolators(y, w);
  EXPECT_EQ(y, (Vec{1, 2.5, 2.5, 5}));  // (4·1 + 2·3) / 4
}

TEST_F(IsotonicTest, PoolingBacktracksThroughEarlierBlocks) {
  Vec y = {3, 7, 5, 9, 8, 7, 10};
  Vec w(7, 1);
  PoolAdjacentViolators(y, w);
  EXPECT_EQ(y, (Vec{3, 6, 6, 8, 8, 8, 10}));
}

TEST_F(IsotonicTest, PavaMatchesTheTextbookDefinitionOnRandomData) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-5, 5);
  std::uniform_real_distribution<double> weight(0.1, 3);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 1 + trial % 23;
    Vec y(n), w(n);
    for (size_t i = 0; i < n; ++i) {
      y[i] = trial % 3 == 0 ? std::round(value(rng)) : value(rng);  // ties in y too
      w[i] = weight(rng);
    }
    Vec fitted = y;
    Vec scratch = w;
    PoolAdjacentViolators(fitted, scratch);
    ExpectNear(fitted, NaivePava(y, w), 1e-12, "trial " + std::to_string(trial));
    EXPECT_TRUE(std::is_sorted(fitted.begin(), fitted.end()));
  }
}

// --- IsotonicRegression ---

TEST_F(IsotonicTest, TiedXAreAveragedWithTheirWeightsBeforePooling) {
  // x = 1 appears twice: y = (0·1 + 1·3)/4 = 0.75 with weight 4.
  const IsotonicRegression r = FitOk({1, 1, 2}, {0, 1, 1}, {1, 3, 1});
  EXPECT_EQ(r.x_thresholds(), (Vec{1, 2}));
  EXPECT_EQ(r.y_thresholds(), (Vec{0.75, 1}));
}

TEST_F(IsotonicTest, XWithinTheTieResolutionOfARunsFirstXIsATie) {
  const IsotonicRegression r = FitOk({0.5, 0.5 + 5e-16, 0.7}, {0, 1, 1});
  EXPECT_EQ(r.x_thresholds(), (Vec{0.5, 0.7}));
  EXPECT_EQ(r.y_thresholds(), (Vec{0.5, 1}));
}

TEST_F(IsotonicTest, ZeroWeightSamplesAreDropped) {
  const IsotonicRegression r = FitOk({1, 2, 3}, {0, 5, 1}, {1, 0, 1});
  EXPECT_EQ(r.x_thresholds(), (Vec{1, 3}));
  EXPECT_EQ(r.y_thresholds(), (Vec{0, 1}));
}

TEST_F(IsotonicTest, InteriorThresholdsOnAFlatStretchAreTrimmed) {
  const IsotonicRegression r = FitOk({1, 2, 3, 4, 5}, {0, 1, 1, 1, 2});
  EXPECT_EQ(r.x_thresholds(), (Vec{1, 2, 4, 5}));
  EXPECT_EQ(r.y_thresholds(), (Vec{0, 1, 1, 2}));
}

TEST_F(IsotonicTest, PredictInterpolatesLinearlyAndHitsThresholdsExactly) {
  const IsotonicRegression r = FitOk({0, 1, 3}, {0, 1, 2});
  EXPECT_EQ(r.Predict(0.25), 0.25);
  EXPECT_EQ(r.Predict(2), 1.5);
  EXPECT_EQ(r.Predict(1), 1);
  EXPECT_EQ(r.Predict(3), 2);
}

TEST_F(IsotonicTest, ClipOutOfBoundsGivesTheNearerEnd) {
  const IsotonicRegression r = FitOk({1, 2}, {3, 4});
  EXPECT_EQ(r.Predict(-kInf), 3);
  EXPECT_EQ(r.Predict(0), 3);
  EXPECT_EQ(r.Predict(7), 4);
  EXPECT_TRUE(std::isnan(r.Predict(kNaN)));
}

TEST_F(IsotonicTest, NanOutOfBoundsGivesNanOutsideOnly) {
  IsotonicOptions options;
  options.out_of_bounds = OutOfBounds::kNan;
  const IsotonicRegression r = FitOk({1, 2}, {3, 4}, {}, options);
  EXPECT_TRUE(std::isnan(r.Predict(0.5)));
  EXPECT_TRUE(std::isnan(r.Predict(2.5)));
  EXPECT_EQ(r.Predict(1), 3);
  EXPECT_EQ(r.Predict(1.5), 3.5);
}

TEST_F(IsotonicTest, ASingleDistinctXIsConstantEverywhere) {
  const IsotonicRegression r = FitOk({0.4, 0.4, 0.4}, {0, 1, 1});
  EXPECT_EQ(r.x_thresholds().size(), 1u);
  for (double x : {-1.0, 0.4, 9.0}) EXPECT_NEAR(r.Predict(x), 2.0 / 3, kTolerance);
}

TEST_F(IsotonicTest, DecreasingFitsANonIncreasingFunction) {
  IsotonicOptions options;
  options.increasing = false;
  ExpectNear(FitTransform({1, 2, 3, 4}, {4, 1, 3, 0}, {}, options), {4, 2, 2, 0}, kTolerance);
}

TEST_F(IsotonicTest, YMinAndYMaxClipAfterPooling) {
  IsotonicOptions options;
  options.y_min = 1;
  options.y_max = 2;
  ExpectNear(FitTransform({1, 2, 3}, {0, 3, 1.5}, {}, options), {1, 2, 2}, kTolerance);
}

TEST_F(IsotonicTest, FitIsIndependentOfInputOrderToTheBit) {
  std::mt19937_64 rng(11);
  Vec x, y, w;
  for (int i = 0; i < 300; ++i) {
    x.push_back(std::round(std::uniform_real_distribution<double>(0, 1)(rng) * 40) / 40);
    y.push_back(std::uniform_real_distribution<double>(0, 1)(rng) < x.back() ? 1 : 0);
    w.push_back(std::round(std::uniform_real_distribution<double>(0, 3)(rng) * 4) / 4);
  }
  const IsotonicRegression first = FitOk(x, y, w);
  std::vector<size_t> order(x.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int trial = 0; trial < 5; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    Vec xs, ys, ws;
    for (size_t i : order) {
      xs.push_back(x[i]);
      ys.push_back(y[i]);
      ws.push_back(w[i]);
    }
    const IsotonicRegression again = FitOk(xs, ys, ws);
    EXPECT_EQ(again.x_thresholds(), first.x_thresholds());
    EXPECT_EQ(again.y_thresholds(), first.y_thresholds());
  }
}

TEST_F(IsotonicTest, LargeAndSkewedSamplesAreIndependentOfInputOrderToTheBit) {
  // Large samples take the bucket sort. Here most x crowd into a sliver of the range (their
  // buckets fall back to std::sort), some are tied, the rest spread out; y is continuous.
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> unit(0, 1);
  Vec x, y, w;
  for (int i = 0; i < 30000; ++i) {
    const double u = unit(rng);
    x.push_back(i % 3 == 0 ? 0.5 + 1e-9 * u : i % 3 == 1 ? std::round(u * 100) / 100 : 10 * u);
    y.push_back(std::sin(x.back()) + unit(rng));
    w.push_back(i % 17 == 0 ? 0 : 0.5 + unit(rng));
  }
  for (const bool increasing : {true, false}) {
    IsotonicOptions options;
    options.increasing = increasing;
    const IsotonicRegression first = FitOk(x, y, w, options);
    EXPECT_GT(first.x_thresholds().size(), 10u);
    std::vector<size_t> order(x.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    Vec xs, ys, ws;
    for (size_t i : order) {
      xs.push_back(x[i]);
      ys.push_back(y[i]);
      ws.push_back(w[i]);
    }
    const IsotonicRegression again = FitOk(xs, ys, ws, options);
    EXPECT_EQ(again.x_thresholds(), first.x_thresholds());
    EXPECT_EQ(again.y_thresholds(), first.y_thresholds());
  }
}

TEST_F(IsotonicTest, LargeSamplesMatchTheSortedMergedAndPooledDefinition) {
  // The bucket sort against the definition: sort by (x, y, w), merge tied x (within 1e-15 of a
  // run's first x) into weighted means, pool, and keep the thresholds where y changes.
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> unit(0, 1);
  Vec x, y, w;
  for (int i = 0; i < 20000; ++i) {
    x.push_back(i % 2 == 0 ? std::round(unit(rng) * 300) / 300 : unit(rng));
    y.push_back(unit(rng) < x.back() ? 1 : 0);
    w.push_back(i % 11 == 0 ? 0 : std::round(unit(rng) * 8) / 4);
  }
  std::vector<std::tuple<double, double, double>> points;
  for (size_t i = 0; i < x.size(); ++i) {
    if (w[i] > 0) points.emplace_back(x[i], y[i], w[i]);
  }
  std::sort(points.begin(), points.end());
  Vec tx, ty, tw;
  for (const auto& [px, py, pw] : points) {
    if (tx.empty() || px - tx.back() >= 1e-15) {
      tx.push_back(px);
      ty.push_back(0);
      tw.push_back(0);
    }
    tw.back() += pw;
    ty.back() += py * pw;
  }
  for (size_t i = 0; i < ty.size(); ++i) ty[i] /= tw[i];
  PoolAdjacentViolators(ty, tw);
  Vec kept_x, kept_y;
  for (size_t i = 0; i < tx.size(); ++i) {
    if (i == 0 || i + 1 == tx.size() || ty[i] != ty[i - 1] || ty[i] != ty[i + 1]) {
      kept_x.push_back(tx[i]);
      kept_y.push_back(ty[i]);
    }
  }
  const IsotonicRegression fitted = FitOk(x, y, w);
  EXPECT_EQ(fitted.x_thresholds(), kept_x);
  EXPECT_EQ(fitted.y_thresholds(), kept_y);
}

TEST_F(IsotonicTest, CalibratorApplyAllFindsSegmentsInCrowdedCells) {
  // Fifty thresholds within 1e-7 of 0.2 share a cell of ApplyAll's grid; the rest are apart.
  nlohmann::json params = {{"x", Vec{0}}, {"y", Vec{0}}};
  for (int k = 1; k <= 50; ++k) {
    params["x"].push_back(0.2 + 2e-9 * k);
    params["y"].push_back(0.01 * k);
  }
  params["x"].push_back(0.7);
  params["y"].push_back(0.9);
  params["x"].push_back(0.9);
  params["y"].push_back(0.95);
  Result<std::unique_ptr<IsotonicCalibrator>> c = IsotonicCalibrator::FromParams(params);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Vec in;
  for (const nlohmann::json& threshold : params["x"]) {
    const double t = threshold.get<double>();
    in.insert(in.end(), {t, std::nextafter(t, 0.0), std::nextafter(t, 1.0), t + 1e-9});
  }
  std::mt19937_64 rng(14);
  while (in.size() < 2000) in.push_back(std::uniform_real_distribution<double>(0, 1)(rng));
  in.insert(in.end(), {0.0, 1.0, kNaN});
  Vec out(in.size());
  (*c)->ApplyAll(in, out);
  for (size_t i = 0; i < in.size(); ++i) {
    const double expected = (*c)->Apply(in[i]);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(out[i]));
    } else {
      EXPECT_EQ(out[i], expected) << "p " << in[i];
    }
  }
}

TEST_F(IsotonicTest, BadInputIsRefusedNamingTheField) {
  ExpectInvalid(IsotonicRegression::Fit(Vec{}, Vec{}, {}), "x: must not be empty");
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, 2}, Vec{1}, {}), "y: size 1 != x size 2");
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, kNaN}, Vec{1, 2}, {}), "x[1]: must be finite");
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, 2}, Vec{kInf, 2}, {}), "y[0]: must be finite");
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, 2}, Vec{1, 2}, Vec{1}), "w: size 1 != x size 2");
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, 2}, Vec{1, 2}, Vec{1, -1}),
                "w[1]: must be finite and >= 0");
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, 2}, Vec{1, 2}, Vec{0, 0}),
                "w: must have a positive sum");
  IsotonicOptions options;
  options.y_min = 2;
  options.y_max = 1;
  ExpectInvalid(IsotonicRegression::Fit(Vec{1, 2}, Vec{1, 2}, {}, options),
                "y_min: must be <= y_max");
}

// --- IsotonicCalibrator ---

TEST_F(IsotonicTest, CalibratorIsTheRegressionOfOutcomesOnProbabilities) {
  Result<std::unique_ptr<IsotonicCalibrator>> c =
      IsotonicCalibrator::Fit(Vec{0.1, 0.3, 0.5, 0.7, 0.9}, Vec{0, 1, 0, 1, 1}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->x_thresholds(), (Vec{0.1, 0.3, 0.5, 0.7, 0.9}));
  EXPECT_EQ((*c)->y_thresholds(), (Vec{0, 0.5, 0.5, 1, 1}));
  EXPECT_EQ((*c)->Apply(0), 0);
  EXPECT_EQ((*c)->Apply(0.6), 0.75);
  EXPECT_EQ((*c)->Apply(1), 1);
  EXPECT_TRUE(std::isnan((*c)->Apply(kNaN)));
}

TEST_F(IsotonicTest, LargeCalibratorFitIsTheRegressionFitToTheBit) {
  // The calibrator sorts its checked binary sample in a packed form; the regression, which
  // takes any y, does not. Both must give the same thresholds, ends and ties included.
  std::mt19937_64 rng(15);
  std::uniform_real_distribution<double> unit(0, 1);
  Vec p, y;
  for (int i = 0; i < 20000; ++i) {
    const double u = unit(rng);
    p.push_back(i % 5 == 0 ? std::round(u * 50) / 50 : i % 97 == 0 ? 0.0 : i % 89 == 0 ? 1.0 : u);
    y.push_back(unit(rng) < p.back() ? 1 : 0);
  }
  p[7] = -0.0;
  Result<std::unique_ptr<IsotonicCalibrator>> calibrator = IsotonicCalibrator::Fit(p, y, {});
  ASSERT_TRUE(calibrator.ok()) << calibrator.status().ToString();
  const IsotonicRegression regression = FitOk(p, y);
  EXPECT_EQ((*calibrator)->x_thresholds(), regression.x_thresholds());
  EXPECT_EQ((*calibrator)->y_thresholds(), regression.y_thresholds());
}

TEST_F(IsotonicTest, CalibratorRefusesNonBinaryOutcomes) {
  ExpectInvalid(IsotonicCalibrator::Fit(Vec{0.1, 0.2}, Vec{0, 2}, {}), "y[1]: must be 0 or 1");
}

// --- Known answers: every vector in calibration.json "isotonic" ---

class IsotonicReferenceTest : public IsotonicTest {
 protected:
  void SetUp() override { LOAD_REFERENCE_OR_SKIP(reference_, "calibration.json"); }

  static Vec Doubles(const nlohmann::json& array) {
    Vec out;
    for (const nlohmann::json& v : array) out.push_back(v.is_null() ? kNaN : v.get<double>());
    return out;
  }

  nlohmann::json reference_;
};

TEST_F(IsotonicReferenceTest, EveryVectorMatchesScikitLearn) {
  const nlohmann::json& section = reference_.at("isotonic");
  ASSERT_FALSE(section.empty());
  for (const auto& [name, vector] : section.items()) {
    SCOPED_TRACE(name);
    // calib_interp_nan queries calib_interp_clip's fit with out_of_bounds="nan".
    const nlohmann::json& data = vector.contains("y") ? vector : section.at("calib_interp_clip");
    const Vec y = Doubles(data.at("y"));
    Vec x;
    if (data.contains("x")) {
      x = Doubles(data.at("x"));
    } else {
      for (size_t i = 0; i < y.size(); ++i) x.push_back(static_cast<double>(i));
    }
    const Vec w = data.contains("w") ? Doubles(data.at("w")) : Vec{};
    IsotonicOptions options;
    if (vector.contains("increasing")) options.increasing = vector.at("increasing").get<bool>();
    if (vector.contains("y_min")) options.y_min = vector.at("y_min").get<double>();
    if (vector.contains("y_max")) options.y_max = vector.at("y_max").get<double>();
    if (vector.contains("predict")) {
      const Vec expected = Doubles(vector.at("predict"));
      if (std::any_of(expected.begin(), expected.end(), [](double v) { return std::isnan(v); })) {
        options.out_of_bounds = OutOfBounds::kNan;
      }
    }
    const IsotonicRegression regression = FitOk(x, y, w, options);
    auto predict_all = [&](const Vec& at) {
      Vec out;
      for (double v : at) out.push_back(regression.Predict(v));
      return out;
    };

    int checks = 0;
    if (vector.contains("X_thresholds")) {
      ExpectNear(regression.x_thresholds(), Doubles(vector.at("X_thresholds")), 0, "X_thresholds");
      ++checks;
    }
    if (vector.contains("y_thresholds")) {
      ExpectNear(regression.y_thresholds(), Doubles(vector.at("y_thresholds")), kTolerance,
                 "y_thresholds");
      ++checks;
    }
    if (vector.contains("predict")) {
      const Vec at = vector.contains("query") ? Doubles(vector.at("query")) : x;
      ExpectNear(predict_all(at), Doubles(vector.at("predict")), kTolerance, "predict");
      ++checks;
    }
    if (vector.contains("out")) {
      const Vec at = vector.contains("predict_at") ? Doubles(vector.at("predict_at")) : x;
      ExpectNear(predict_all(at), Doubles(vector.at("out")), kTolerance, "out");
      ++checks;
    }
    EXPECT_GT(checks, 0) << "vector has no expectation this test knows";
  }
}

TEST_F(IsotonicReferenceTest, CalibratorMatchesTheClippedInterpolationVector) {
  const nlohmann::json& v = reference_.at("isotonic").at("calib_interp_clip");
  Result<std::unique_ptr<IsotonicCalibrator>> c =
      IsotonicCalibrator::Fit(Doubles(v.at("x")), Doubles(v.at("y")), {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Vec query = Doubles(v.at("query"));
  Vec out(query.size());
  (*c)->ApplyAll(query, out);
  ExpectNear(out, Doubles(v.at("predict")), kTolerance, "predict");
}

}  // namespace
}  // namespace truthbook::calibration
