#include "odds/devig.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status_test_util.h"
#include "odds/price.h"
#include "reference.h"

namespace truthbook::odds {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMax = std::numeric_limits<double>::max();

// Values in the clv and two_way_margin vectors are printed to 10 decimal places.
constexpr double kTenPlacesTolerance = 1e-9;

class DevigTest : public ::testing::Test {
 protected:
  // `result` failed with InvalidArgument and exactly `message`.
  // The de-vigged market, or a test failure.
  static DevigResult DevigOk(const std::vector<double>& decimals,
                             DevigMethod method = DevigMethod::kMultiplicative) {
    Result<DevigResult> result = Devig(decimals, method);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : DevigResult{};
  }

  static void ExpectFair(const DevigResult& result, const std::vector<double>& expected,
                         double tolerance) {
    ASSERT_EQ(result.fair.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_NEAR(result.fair[i], expected[i], tolerance) << "fair[" << i << "]";
    }
  }

  // The contract every method keeps: one finite probability in [0, 1] per price, summing to 1.
  static void ExpectProbabilityVector(const DevigResult& result, size_t n) {
    ASSERT_EQ(result.fair.size(), n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(std::isfinite(result.fair[i])) << "fair[" << i << "] = " << result.fair[i];
      EXPECT_GE(result.fair[i], 0) << "fair[" << i << "]";
      EXPECT_LE(result.fair[i], 1) << "fair[" << i << "]";
      sum += result.fair[i];
    }
    EXPECT_NEAR(sum, 1, 1e-12);
  }
};

// --- Method names ---

TEST_F(DevigTest, MultiplicativeIsNamedMultiplicative) {
  EXPECT_EQ(DevigMethodName(DevigMethod::kMultiplicative), "multiplicative");
}

TEST_F(DevigTest, EveryMethodNameIsUniqueAndParsesBack) {
  std::set<std::string_view> names;
  for (DevigMethod method : kDevigMethods) {
    const std::string_view name = DevigMethodName(method);
    SCOPED_TRACE(std::string(name));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << "duplicate name";
    Result<DevigMethod> parsed = ParseDevigMethod(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, method);
  }
}

TEST_F(DevigTest, UnknownNameIsInvalidAndListsTheMethods) {
  ExpectInvalid(ParseDevigMethod("no-such-method"),
                "unknown de-vig method \"no-such-method\"; expected one of: multiplicative, "
                "additive, power, shin, odds_ratio");
  ExpectInvalid(ParseDevigMethod(""),
                "unknown de-vig method \"\"; expected one of: multiplicative, additive, power, "
                "shin, odds_ratio");
}

TEST_F(DevigTest, NamesAreCaseSensitive) {
  ExpectInvalid(ParseDevigMethod("Multiplicative"),
                "unknown de-vig method \"Multiplicative\"; expected one of: multiplicative, "
                "additive, power, shin, odds_ratio");
}

TEST_F(DevigTest, MethodValueOutsideTheEnumIsRejected) {
  const auto bogus = static_cast<DevigMethod>(99);
  EXPECT_EQ(DevigMethodName(bogus), "unknown");
  ExpectInvalid(Devig(std::vector<double>{2.0, 2.0}, bogus), "unknown de-vig method");
}

// --- Input validation (shared by every method) ---

TEST_F(DevigTest, NeedsAtLeastTwoPrices) {
  for (DevigMethod method : kDevigMethods) {
    SCOPED_TRACE(std::string(DevigMethodName(method)));
    ExpectInvalid(Devig({}, method), "prices: need at least 2, got 0");
    ExpectInvalid(Devig(std::vector<double>{1.5}, method), "prices: need at least 2, got 1");
  }
}

TEST_F(DevigTest, InvalidPriceErrorNamesItsIndex) {
  const std::vector<std::pair<std::vector<double>, std::string>> table = {
      {{2.0, 1.0}, "prices[1]: must be > 1"},     {{2.0, 3.0, 0.5}, "prices[2]: must be > 1"},
      {{-2.0, 3.0}, "prices[0]: must be > 1"},    {{kNaN, 2.0}, "prices[0]: must be finite"},
      {{2.0, kInf}, "prices[1]: must be finite"}, {{2.0, 2.0, -kInf}, "prices[2]: must be finite"},
  };
  for (DevigMethod method : kDevigMethods) {
    for (const auto& [decimals, message] : table) {
      SCOPED_TRACE(std::string(DevigMethodName(method)) + " " + message);
      ExpectInvalid(Devig(decimals, method), message);
    }
  }
}

TEST_F(DevigTest, ExtremeMarketsNeverYieldNaN) {
  const double just_above_one = std::nextafter(1.0, 2.0);
  const std::vector<std::vector<double>> markets = {
      {just_above_one, kMax},
      {kMax, kMax},
      {just_above_one, just_above_one, just_above_one},
      {1.01, 1e300, 1e300},
      std::vector<double>(1000, 1.001),
      std::vector<double>(1000, 1e6),
  };
  for (DevigMethod method : kDevigMethods) {
    for (const std::vector<double>& market : markets) {
      SCOPED_TRACE(std::string(DevigMethodName(method)) + " market of " +
                   std::to_string(market.size()) + " starting " + std::to_string(market[0]));
      DevigResult result = DevigOk(market, method);
      ExpectProbabilityVector(result, market.size());
      EXPECT_TRUE(std::isfinite(result.overround));
    }
  }
}

// --- Multiplicative ---

TEST_F(DevigTest, MultiplicativeSplitsASymmetricMarketEvenly) {
  const double d = 1 + 100.0 / 110;  // -110 / -110
  DevigResult result = DevigOk({d, d});
  ExpectFair(result, {0.5, 0.5}, 1e-15);
  EXPECT_NEAR(result.overround, 1.0 / 21, 1e-15);
  EXPECT_FALSE(result.param.has_value());
}

TEST_F(DevigTest, MultiplicativeScalesImpliedProbabilitiesInInputOrder) {
  // Implied 0.5, 0.25, 0.5: book sum 1.25.
  DevigResult result = DevigOk({2.0, 4.0, 2.0});
  ExpectFair(result, {0.4, 0.2, 0.4}, 1e-15);
  EXPECT_NEAR(result.overround, 0.25, 1e-15);
  ExpectProbabilityVector(result, 3);
}

TEST_F(DevigTest, MultiplicativeOfAFairMarketIsItsImpliedProbabilities) {
  DevigResult result = DevigOk({2.0, 4.0, 4.0});
  ExpectFair(result, {0.5, 0.25, 0.25}, 1e-15);
  EXPECT_NEAR(result.overround, 0, 1e-15);
}

TEST_F(DevigTest, MultiplicativeScalesUpAnArbitrageMarket) {
  DevigResult result = DevigOk({2.1, 2.1});
  ExpectFair(result, {0.5, 0.5}, 1e-15);
  EXPECT_LT(result.overround, 0);
}

TEST_F(DevigTest, OverroundAgreesWithPriceOverround) {
  const std::vector<double> market = {2.7, 2.3, 4.4};
  Result<double> overround = Overround(market);
  ASSERT_TRUE(overround.ok()) << overround.status().ToString();
  EXPECT_EQ(DevigOk(market).overround, *overround);
}

// --- Additive, power, Shin, odds ratio ---

TEST_F(DevigTest, EveryMethodLeavesAFairMarketAlone) {
  for (DevigMethod method : kDevigMethods) {
    SCOPED_TRACE(std::string(DevigMethodName(method)));
    DevigResult result = DevigOk({2.0, 4.0, 4.0}, method);
    ExpectFair(result, {0.5, 0.25, 0.25}, 1e-12);
  }
}

TEST_F(DevigTest, EveryMethodSplitsASymmetricMarketEvenly) {
  const double d = 1 + 100.0 / 110;
  for (DevigMethod method : kDevigMethods) {
    SCOPED_TRACE(std::string(DevigMethodName(method)));
    ExpectFair(DevigOk({d, d, d}, method), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-12);
  }
}

TEST_F(DevigTest, ParametersOfAFairMarketAreNeutral) {
  const std::vector<double> fair_market = {2.0, 4.0, 4.0};
  EXPECT_NEAR(*DevigOk(fair_market, DevigMethod::kPower).param, 1, 1e-12);
  EXPECT_NEAR(*DevigOk(fair_market, DevigMethod::kShin).param, 0, 1e-12);
  EXPECT_NEAR(*DevigOk(fair_market, DevigMethod::kOddsRatio).param, 1, 1e-12);
  EXPECT_FALSE(DevigOk(fair_market, DevigMethod::kAdditive).param.has_value());
  EXPECT_EQ(DevigParamName(DevigMethod::kPower), "k");
  EXPECT_EQ(DevigParamName(DevigMethod::kShin), "z");
  EXPECT_EQ(DevigParamName(DevigMethod::kOddsRatio), "OR");
  EXPECT_EQ(DevigParamName(DevigMethod::kAdditive), "");
}

TEST_F(DevigTest, AdditiveFixesAnOutcomeThatWouldGoNegativeAtZero) {
  // Implied 0.9, 0.2, 0.02: an equal share of the 0.12 margin (0.04) exceeds 0.02, so the
  // long shot is 0 and the other two share the 0.1 margin of their own sum.
  DevigResult result = DevigOk({1 / 0.9, 5.0, 50.0}, DevigMethod::kAdditive);
  ExpectFair(result, {0.85, 0.15, 0.0}, 1e-12);
}

TEST_F(DevigTest, ShinTwoWayClosedFormAgreesWithTheSolvedFormula) {
  // For two outcomes the closed-form z must make Shin's probabilities sum to 1 unnormalised.
  const std::vector<double> market = {1.5, 2.74};
  DevigResult result = DevigOk(market, DevigMethod::kShin);
  ASSERT_TRUE(result.param.has_value());
  const double z = *result.param;
  const double b = 1 / 1.5 + 1 / 2.74;
  double sum = 0;
  for (double d : market) {
    const double q = 1 / d;
    sum += (std::sqrt(z * z + 4 * (1 - z) * q * q / b) - z) / (2 * (1 - z));
  }
  EXPECT_NEAR(sum, 1, 1e-14);
}

TEST_F(DevigTest, ArbitrageMarketsHaveNegativeShinZAndOddsRatioBelowOne) {
  const std::vector<double> arbitrage = {2.2, 2.4, 8.0};
  const DevigResult shin = DevigOk(arbitrage, DevigMethod::kShin);
  ExpectProbabilityVector(shin, 3);
  EXPECT_LT(*shin.param, 0);
  const DevigResult odds_ratio = DevigOk(arbitrage, DevigMethod::kOddsRatio);
  ExpectProbabilityVector(odds_ratio, 3);
  EXPECT_LT(*odds_ratio.param, 1);
  const DevigResult power = DevigOk(arbitrage, DevigMethod::kPower);
  ExpectProbabilityVector(power, 3);
  EXPECT_LT(*power.param, 1);
}

TEST_F(DevigTest, LongShotsLoseMoreUnderShinPowerAndOddsRatioThanMultiplicative) {
  // The favourite-long-shot bias: these methods take more margin from the long shot.
  const std::vector<double> market = {1.2, 4.5, 15.0};
  const double multiplicative = DevigOk(market).fair[2];
  for (DevigMethod method : {DevigMethod::kPower, DevigMethod::kShin, DevigMethod::kOddsRatio}) {
    SCOPED_TRACE(std::string(DevigMethodName(method)));
    EXPECT_LT(DevigOk(market, method).fair[2], multiplicative);
  }
}

// --- Known answers from ../shared/reference/odds.json ---

class DevigReferenceTest : public DevigTest {
 protected:
  void SetUp() override { LOAD_REFERENCE_OR_SKIP(odds_, "odds.json"); }

  static std::vector<double> DecimalsFromAmerican(const nlohmann::json& american) {
    std::vector<double> decimals;
    for (const nlohmann::json& a : american) {
      Result<double> d = AmericanToDecimal(a.get<double>());
      EXPECT_TRUE(d.ok()) << a << ": " << d.status().ToString();
      decimals.push_back(d.ok() ? *d : kNaN);
    }
    return decimals;
  }

  nlohmann::json odds_;
};

// Each "devig" vector lists fair probabilities under the keys of the method names (and a
// fitted parameter under "<name>_<param>"), so every implemented method is checked against
// every vector that names it, at the vector's own tolerance.
TEST_F(DevigReferenceTest, EveryImplementedMethodMatchesEveryVectorThatNamesIt) {
  for (DevigMethod method : kDevigMethods) {
    const std::string name(DevigMethodName(method));
    int checked = 0;
    for (const nlohmann::json& v : odds_.at("devig")) {
      if (!v.contains(name)) continue;
      SCOPED_TRACE(name + " on " + v.at("decimal").dump() + " from " + v.value("from", "?"));
      const double tolerance = v.at("tolerance").get<double>();
      DevigResult result = DevigOk(v.at("decimal").get<std::vector<double>>(), method);
      ExpectFair(result, v.at(name).get<std::vector<double>>(), tolerance);
      for (const auto& [key, value] : v.items()) {
        if (key.size() > name.size() + 1 && key.starts_with(name + "_")) {
          ASSERT_TRUE(result.param.has_value()) << "no parameter; reference has " << key;
          EXPECT_NEAR(*result.param, value.get<double>(), tolerance) << key;
        }
      }
      ++checked;
    }
    EXPECT_GT(checked, 0) << "odds.json has no de-vig vector for " << name;
  }
}

TEST_F(DevigReferenceTest, TwoWayMarginFairMultiplicative) {
  int checked = 0;
  for (const nlohmann::json& v : odds_.at("two_way_margin")) {
    if (!v.contains("fair_multiplicative")) continue;
    SCOPED_TRACE(v.dump());
    DevigResult result = DevigOk(DecimalsFromAmerican(v.at("american")));
    ExpectFair(result, v["fair_multiplicative"].get<std::vector<double>>(), kTenPlacesTolerance);
    if (v.contains("overround")) {
      EXPECT_NEAR(result.overround, v["overround"].get<double>(), kTenPlacesTolerance);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no two_way_margin vector has fair_multiplicative";
}

// The odds half of the CLV examples: the de-vigged closing probability of the side taken (the
// first price of the close market) and its fair American price. The CLV figures themselves
// belong to grading.
TEST_F(DevigReferenceTest, ClvFairClosingProbabilityAndPrice) {
  int checked = 0;
  for (const nlohmann::json& v : odds_.at("clv")) {
    if (!v.contains("fair_close_prob") || !v.at("close_american").is_array()) continue;
    SCOPED_TRACE(v.dump());
    DevigResult result = DevigOk(DecimalsFromAmerican(v.at("close_american")));
    ASSERT_FALSE(result.fair.empty());
    const double fair_prob = result.fair[0];
    EXPECT_NEAR(fair_prob, v["fair_close_prob"].get<double>(), kTenPlacesTolerance);
    if (v.contains("fair_close_american")) {
      Result<double> fair_decimal = DecimalFromProbability(fair_prob);
      ASSERT_TRUE(fair_decimal.ok()) << fair_decimal.status().ToString();
      Result<double> fair_american = DecimalToAmerican(*fair_decimal);
      ASSERT_TRUE(fair_american.ok()) << fair_american.status().ToString();
      EXPECT_NEAR(*fair_american, v["fair_close_american"].get<double>(), kTenPlacesTolerance);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no clv vector has a close market to de-vig";
}

}  // namespace
}  // namespace truthbook::odds
