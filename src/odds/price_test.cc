#include "odds/price.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status_test_util.h"
#include "reference.h"

namespace truthbook::odds {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMax = std::numeric_limits<double>::max();

// The conversion vectors in odds.json carry no tolerance: they are exact formulas, printed as
// shortest round-trip doubles, so they are checked to 1e-12 relative.
constexpr double kConversionTolerance = 1e-12;
// The two-way margins are printed to 10 decimal places (rounding error <= 5e-11).
constexpr double kMarginTolerance = 1e-9;

class PriceTest : public ::testing::Test {
 protected:
  // `result` failed with InvalidArgument and exactly `message`.
  // `result` holds a value within `tolerance` of `expected`, relative to max(1, |expected|).
  static void ExpectNear(const Result<double>& result, double expected, double tolerance) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_NEAR(*result, expected, tolerance * std::max(1.0, std::abs(expected)));
  }
};

// --- American to decimal ---

TEST_F(PriceTest, AmericanToDecimalEdgeValues) {
  // -100 and +100 are both even money.
  const std::vector<std::pair<double, double>> table = {
      {-100, 2.0}, {100, 2.0},   {-110, 1 + 100.0 / 110},
      {-200, 1.5}, {200, 3.0},   {-250, 1.4},
      {250, 3.5},  {-1000, 1.1}, {1e6, 10001},
  };
  for (const auto& [american, decimal] : table) {
    SCOPED_TRACE(american);
    ExpectNear(AmericanToDecimal(american), decimal, kConversionTolerance);
  }
}

TEST_F(PriceTest, AmericanVeryNegativeIsJustAboveOne) {
  Result<double> decimal = AmericanToDecimal(-1e17);
  ASSERT_TRUE(decimal.ok()) << decimal.status().ToString();
  EXPECT_GT(*decimal, 1.0);
  EXPECT_NEAR(*decimal - 1, 1e-15, std::numeric_limits<double>::epsilon());  // one ulp of 1
}

TEST_F(PriceTest, AmericanBetweenMinus100And100IsInvalid) {
  for (double american : {-99.99, 99.99, 0.0, -0.0, 50.0, -1.0, std::nextafter(100.0, 0.0),
                          std::nextafter(-100.0, 0.0)}) {
    SCOPED_TRACE(american);
    ExpectInvalid(AmericanToDecimal(american), "must be <= -100 or >= 100");
  }
}

TEST_F(PriceTest, AmericanNonFiniteIsInvalid) {
  for (double american : {kNaN, kInf, -kInf}) {
    SCOPED_TRACE(american);
    ExpectInvalid(AmericanToDecimal(american), "must be finite");
  }
}

TEST_F(PriceTest, AmericanSoNegativeThatDecimalRoundsToOneIsInvalid) {
  for (double american : {-1e18, -kMax}) {
    SCOPED_TRACE(american);
    ExpectInvalid(AmericanToDecimal(american),
                  "too large in magnitude: the decimal price rounds to 1");
  }
}

TEST_F(PriceTest, AmericanLargestPositiveIsValid) {
  ExpectNear(AmericanToDecimal(kMax), kMax / 100, kConversionTolerance);
}

// --- Decimal to American ---

TEST_F(PriceTest, DecimalToAmericanEdgeValues) {
  const std::vector<std::pair<double, double>> table = {
      {2.0, 100},  // even money is +100, never -100
      {1.5, -200}, {3.0, 200}, {1.25, -400}, {101, 10000},
  };
  for (const auto& [decimal, american] : table) {
    SCOPED_TRACE(decimal);
    ExpectNear(DecimalToAmerican(decimal), american, kConversionTolerance);
  }
}

TEST_F(PriceTest, DecimalJustBelowEvenMoneyIsStillAValidAmericanPrice) {
  Result<double> american = DecimalToAmerican(std::nextafter(2.0, 0.0));
  ASSERT_TRUE(american.ok()) << american.status().ToString();
  EXPECT_LE(*american, -100);
  EXPECT_NEAR(*american, -100, 1e-12);
}

TEST_F(PriceTest, DecimalJustAboveOneIsValid) {
  Result<double> american = DecimalToAmerican(std::nextafter(1.0, 2.0));
  ASSERT_TRUE(american.ok()) << american.status().ToString();
  EXPECT_TRUE(std::isfinite(*american));
  EXPECT_LT(*american, -1e17);
}

TEST_F(PriceTest, DecimalAtOrBelowOneIsInvalid) {
  for (double decimal : {1.0, std::nextafter(1.0, 0.0), 0.5, 0.0, -0.0, -2.0}) {
    SCOPED_TRACE(decimal);
    ExpectInvalid(DecimalToAmerican(decimal), "must be > 1");
  }
}

TEST_F(PriceTest, DecimalNonFiniteIsInvalid) {
  for (double decimal : {kNaN, kInf, -kInf}) {
    SCOPED_TRACE(decimal);
    ExpectInvalid(DecimalToAmerican(decimal), "must be finite");
  }
}

TEST_F(PriceTest, DecimalWhoseAmericanOverflowsIsInvalid) {
  ExpectInvalid(DecimalToAmerican(kMax), "too large: the American price overflows");
}

TEST_F(PriceTest, AmericanRoundTripsThroughDecimal) {
  for (double american :
       {-100000.0, -1000.0, -150.0, -110.0, -101.0, 100.0, 101.0, 110.0, 150.0, 1000.0, 100000.0}) {
    SCOPED_TRACE(american);
    Result<double> decimal = AmericanToDecimal(american);
    ASSERT_TRUE(decimal.ok()) << decimal.status().ToString();
    ExpectNear(DecimalToAmerican(*decimal), american, kConversionTolerance);
  }
}

// --- Probabilities ---

TEST_F(PriceTest, ImpliedProbabilityIsReciprocal) {
  ExpectNear(ImpliedProbability(2.0), 0.5, 1e-15);
  ExpectNear(ImpliedProbability(4.0), 0.25, 1e-15);
  ExpectNear(ImpliedProbability(1.25), 0.8, 1e-15);
}

TEST_F(PriceTest, ImpliedProbabilityOfInvalidDecimalIsInvalid) {
  ExpectInvalid(ImpliedProbability(1.0), "must be > 1");
  ExpectInvalid(ImpliedProbability(kNaN), "must be finite");
  ExpectInvalid(ImpliedProbability(kInf), "must be finite");
}

TEST_F(PriceTest, DecimalFromProbabilityIsReciprocal) {
  ExpectNear(DecimalFromProbability(0.5), 2.0, 1e-15);
  ExpectNear(DecimalFromProbability(0.25), 4.0, 1e-15);
  ExpectNear(DecimalFromProbability(0.8), 1.25, 1e-15);
}

TEST_F(PriceTest, DecimalFromProbabilityNearOneIsAboveOne) {
  Result<double> decimal = DecimalFromProbability(std::nextafter(1.0, 0.0));
  ASSERT_TRUE(decimal.ok()) << decimal.status().ToString();
  EXPECT_GT(*decimal, 1.0);
}

TEST_F(PriceTest, ProbabilityOutsideOpenUnitIntervalIsInvalid) {
  for (double p : {0.0, -0.0, 1.0, -0.1, 1.1}) {
    SCOPED_TRACE(p);
    ExpectInvalid(DecimalFromProbability(p), "must be in (0, 1)");
  }
  ExpectInvalid(DecimalFromProbability(kNaN), "must be finite");
  ExpectInvalid(DecimalFromProbability(kInf), "must be finite");
}

TEST_F(PriceTest, SubnormalProbabilityWhoseDecimalOverflowsIsInvalid) {
  ExpectInvalid(DecimalFromProbability(std::numeric_limits<double>::denorm_min()),
                "too small: the decimal price overflows");
}

// --- Price ---

TEST_F(PriceTest, EvenMoneyIsOnePriceWhicheverWayItIsQuoted) {
  const Price even{.decimal = 2.0, .american = 100, .implied = 0.5};
  for (Result<Price> price :
       {PriceFromAmerican(100), PriceFromAmerican(-100), PriceFromDecimal(2.0)}) {
    ASSERT_TRUE(price.ok()) << price.status().ToString();
    EXPECT_EQ(*price, even);
  }
}

TEST_F(PriceTest, PriceFromAmericanKeepsTheQuotedAmerican) {
  Result<Price> price = PriceFromAmerican(-110);
  ASSERT_TRUE(price.ok()) << price.status().ToString();
  EXPECT_EQ(price->american, -110);
  EXPECT_NEAR(price->decimal, 1 + 100.0 / 110, 1e-15);
  EXPECT_NEAR(price->implied, 110.0 / 210, 1e-15);
}

TEST_F(PriceTest, PriceFromDecimalFillsEveryFormat) {
  Result<Price> price = PriceFromDecimal(1.5);
  ASSERT_TRUE(price.ok()) << price.status().ToString();
  EXPECT_EQ(price->decimal, 1.5);
  EXPECT_NEAR(price->american, -200, 1e-12);
  EXPECT_NEAR(price->implied, 2.0 / 3, 1e-15);
}

TEST_F(PriceTest, PriceFromInvalidQuoteIsInvalid) {
  ExpectInvalid(PriceFromAmerican(-99.99), "must be <= -100 or >= 100");
  ExpectInvalid(PriceFromAmerican(kNaN), "must be finite");
  ExpectInvalid(PriceFromDecimal(1.0), "must be > 1");
  ExpectInvalid(PriceFromDecimal(kInf), "must be finite");
}

// --- Margins ---

TEST_F(PriceTest, FairMarketHasNoOverroundOrHold) {
  const std::vector<double> market = {2.0, 2.0};
  ExpectNear(Overround(market), 0, 1e-15);
  ExpectNear(Hold(market), 0, 1e-15);
}

TEST_F(PriceTest, StandardMinus110MarketMargins) {
  const double d = 1 + 100.0 / 110;
  const std::vector<double> market = {d, d};
  ExpectNear(Overround(market), 1.0 / 21, 1e-15);  // 220/210 - 1
  ExpectNear(Hold(market), 1.0 / 22, 1e-15);       // 1 - 210/220
}

TEST_F(PriceTest, ArbitrageMarketHasNegativeOverround) {
  const std::vector<double> market = {2.1, 2.1};
  ExpectNear(Overround(market), 2 / 2.1 - 1, 1e-15);
  Result<double> hold = Hold(market);
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_LT(*hold, 0);
}

TEST_F(PriceTest, MarginNeedsAtLeastTwoPrices) {
  ExpectInvalid(Overround({}), "prices: need at least 2, got 0");
  const std::vector<double> one = {2.0};
  ExpectInvalid(Overround(one), "prices: need at least 2, got 1");
  ExpectInvalid(Hold(one), "prices: need at least 2, got 1");
}

TEST_F(PriceTest, MarginErrorNamesTheBadPrice) {
  const std::vector<double> at_one = {2.0, 1.0};
  ExpectInvalid(Overround(at_one), "prices[1]: must be > 1");
  const std::vector<double> nan_first = {kNaN, 2.0, 3.0};
  ExpectInvalid(Overround(nan_first), "prices[0]: must be finite");
  const std::vector<double> below_one_last = {2.0, 3.0, 0.5};
  ExpectInvalid(Hold(below_one_last), "prices[2]: must be > 1");
}

// --- Known answers from ../shared/reference/odds.json ---

class PriceReferenceTest : public PriceTest {
 protected:
  void SetUp() override { LOAD_REFERENCE_OR_SKIP(odds_, "odds.json"); }

  // Decimal prices of a market quoted in American odds.
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

TEST_F(PriceReferenceTest, AmericanToDecimal) {
  const nlohmann::json& vectors = odds_.at("american_to_decimal");
  ASSERT_FALSE(vectors.empty());
  for (const nlohmann::json& v : vectors) {
    SCOPED_TRACE(v.dump());
    ExpectNear(AmericanToDecimal(v.at(0).get<double>()), v.at(1).get<double>(),
               kConversionTolerance);
  }
}

TEST_F(PriceReferenceTest, AmericanToDecimalInverts) {
  for (const nlohmann::json& v : odds_.at("american_to_decimal")) {
    SCOPED_TRACE(v.dump());
    const double american = v.at(0).get<double>();
    ExpectNear(DecimalToAmerican(v.at(1).get<double>()), american == -100 ? 100 : american,
               kConversionTolerance);
  }
}

TEST_F(PriceReferenceTest, AmericanInvalid) {
  const nlohmann::json& vectors = odds_.at("american_invalid");
  ASSERT_FALSE(vectors.empty());
  for (const nlohmann::json& v : vectors) {
    SCOPED_TRACE(v.dump());
    ExpectInvalid(AmericanToDecimal(v.get<double>()), "must be <= -100 or >= 100");
    ExpectInvalid(PriceFromAmerican(v.get<double>()), "must be <= -100 or >= 100");
  }
}

TEST_F(PriceReferenceTest, DecimalToAmerican) {
  const nlohmann::json& vectors = odds_.at("decimal_to_american");
  ASSERT_FALSE(vectors.empty());
  for (const nlohmann::json& v : vectors) {
    SCOPED_TRACE(v.dump());
    ExpectNear(DecimalToAmerican(v.at(0).get<double>()), v.at(1).get<double>(),
               kConversionTolerance);
  }
}

TEST_F(PriceReferenceTest, TwoWayMargins) {
  int checked = 0;
  for (const nlohmann::json& v : odds_.at("two_way_margin")) {
    SCOPED_TRACE(v.dump());
    const std::vector<double> market = DecimalsFromAmerican(v.at("american"));
    if (v.contains("booksum")) {
      Result<double> overround = Overround(market);
      ASSERT_TRUE(overround.ok()) << overround.status().ToString();
      EXPECT_NEAR(1 + *overround, v["booksum"].get<double>(), kMarginTolerance);
      ++checked;
    }
    if (v.contains("overround")) {
      ExpectNear(Overround(market), v["overround"].get<double>(), kMarginTolerance);
      ++checked;
    }
    if (v.contains("hold")) {
      ExpectNear(Hold(market), v["hold"].get<double>(), kMarginTolerance);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no margin vectors found in odds.json";
}

TEST_F(PriceReferenceTest, DecimalToMalay) {
  const nlohmann::json& vectors = odds_.at("decimal_to_malay");
  ASSERT_FALSE(vectors.empty());
  for (const nlohmann::json& v : vectors) {
    SCOPED_TRACE(v.dump());
    // Printed to 10 decimal places.
    ExpectNear(DecimalToMalay(v.at(0).get<double>()), v.at(1).get<double>(), kMarginTolerance);
    Result<double> malay = DecimalToMalay(v.at(0).get<double>());
    ASSERT_TRUE(malay.ok());
    ExpectNear(MalayToDecimal(*malay), v.at(0).get<double>(), kConversionTolerance);
  }
}

// --- Fractional, Hong Kong, Malay, Indonesian ---

TEST_F(PriceTest, DecimalToFractionalIsExactAndReduced) {
  const std::vector<std::pair<double, Fraction>> table = {
      {2.5, {3, 2}},     {2.0, {1, 1}}, {1.5, {1, 2}},        {1 + 100.0 / 110, {10, 11}},
      {3000, {2999, 1}}, {1.8, {4, 5}}, {1.333, {333, 1000}}, {11, {10, 1}},
  };
  for (const auto& [decimal, fraction] : table) {
    SCOPED_TRACE(decimal);
    Result<Fraction> got = DecimalToFractional(decimal);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, fraction) << FormatFractional(*got);
  }
}

TEST_F(PriceTest, DecimalToFractionalApproximatesWithBoundedDenominator) {
  Result<Fraction> got = DecimalToFractional(1 + 1 / std::acos(-1.0));  // 1 + 1/pi
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_LE(got->denominator, kMaxFractionalDenominator);
  EXPECT_NEAR(static_cast<double>(got->numerator) / static_cast<double>(got->denominator),
              1 / std::acos(-1.0), 1e-5);
  Result<Fraction> tiny = DecimalToFractional(1.0000001);
  ASSERT_TRUE(tiny.ok()) << tiny.status().ToString();
  EXPECT_EQ(*tiny, (Fraction{1, kMaxFractionalDenominator}));
  ExpectInvalid(DecimalToFractional(1e300), "too large for a fractional price");
  ExpectInvalid(DecimalToFractional(1.0), "must be > 1");
}

TEST_F(PriceTest, ParseFractionalKeepsTheQuoteAsWritten) {
  Result<Fraction> six_four = ParseFractional("6/4");
  ASSERT_TRUE(six_four.ok()) << six_four.status().ToString();
  EXPECT_EQ(*six_four, (Fraction{6, 4}));
  EXPECT_EQ(FormatFractional(*six_four), "6/4");
  ExpectNear(FractionalToDecimal(*six_four), 2.5, kConversionTolerance);
  Result<Fraction> evens = ParseFractional("Evens");
  ASSERT_TRUE(evens.ok());
  EXPECT_EQ(*evens, (Fraction{1, 1}));
  for (std::string_view bad : {"", "6", "6/", "/4", "6/0", "0/4", "-6/4", "6/-4", "6.5/4", "a/b",
                               " 6/4", "6/4/2", "99999999999999999999/1"}) {
    SCOPED_TRACE(std::string(bad));
    ExpectInvalid(ParseFractional(bad), "must be n/m with positive integers n and m");
  }
  ExpectInvalid(FractionalToDecimal({0, 1}), "numerator must be > 0");
  ExpectInvalid(FractionalToDecimal({1, 0}), "denominator must be > 0");
}

TEST_F(PriceTest, HongKongIsProfitPerUnit) {
  ExpectNear(DecimalToHongKong(1.9), 0.9, kConversionTolerance);
  ExpectNear(DecimalToHongKong(2.5), 1.5, kConversionTolerance);
  ExpectNear(HongKongToDecimal(0.9), 1.9, kConversionTolerance);
  ExpectInvalid(HongKongToDecimal(0), "must be > 0");
  ExpectInvalid(HongKongToDecimal(-0.5), "must be > 0");
  ExpectInvalid(HongKongToDecimal(kNaN), "must be finite");
  ExpectInvalid(DecimalToHongKong(1.0), "must be > 1");
}

TEST_F(PriceTest, MalayEdgeValues) {
  ExpectNear(DecimalToMalay(2.0), -1, kConversionTolerance);  // even money, as odds.json's d >= 2
  ExpectNear(DecimalToMalay(1.5), 0.5, kConversionTolerance);
  ExpectNear(DecimalToMalay(3.0), -0.5, kConversionTolerance);
  ExpectNear(MalayToDecimal(1), 2, kConversionTolerance);
  ExpectNear(MalayToDecimal(-1), 2, kConversionTolerance);
  ExpectNear(MalayToDecimal(-0.5), 3, kConversionTolerance);
  ExpectNear(MalayToDecimal(0.5), 1.5, kConversionTolerance);
  for (double bad : {0.0, 1.5, -1.5, 100.0}) {
    SCOPED_TRACE(bad);
    ExpectInvalid(MalayToDecimal(bad), "must be in [-1, 0) or (0, 1]");
  }
  ExpectInvalid(MalayToDecimal(kInf), "must be finite");
  ExpectInvalid(MalayToDecimal(-std::numeric_limits<double>::denorm_min()),
                "too small in magnitude: the decimal price overflows");
}

TEST_F(PriceTest, IndonesianIsAmericanOverHundred) {
  ExpectNear(DecimalToIndonesian(2.0), 1, kConversionTolerance);
  ExpectNear(DecimalToIndonesian(2.5), 1.5, kConversionTolerance);
  ExpectNear(DecimalToIndonesian(1 + 100.0 / 110), -1.1, kConversionTolerance);
  ExpectNear(IndonesianToDecimal(-1.1), 1 + 100.0 / 110, kConversionTolerance);
  ExpectNear(IndonesianToDecimal(1.5), 2.5, kConversionTolerance);
  ExpectNear(IndonesianToDecimal(-1), 2, kConversionTolerance);
  for (double bad : {0.0, 0.5, -0.99}) {
    SCOPED_TRACE(bad);
    ExpectInvalid(IndonesianToDecimal(bad), "must be <= -1 or >= 1");
  }
  ExpectInvalid(IndonesianToDecimal(kNaN), "must be finite");
  ExpectInvalid(DecimalToIndonesian(1.0), "must be > 1");
}

}  // namespace
}  // namespace truthbook::odds
