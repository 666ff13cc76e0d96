#include "odds/quote.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace truthbook::odds {
namespace {

class QuoteTest : public ::testing::Test {
 protected:
  static Quote QuoteOk(OddsFormat format, std::string_view text) {
    Result<Quote> quote = QuoteFromText(format, text);
    EXPECT_TRUE(quote.ok()) << quote.status().ToString();
    return quote.ok() ? *quote : Quote{};
  }

  static void ExpectInvalid(const Result<Quote>& result, std::string_view message) {
    ASSERT_FALSE(result.ok()) << "expected the error \"" << message << "\", got a value";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
    EXPECT_EQ(result.status().message(), message);
  }
};

TEST_F(QuoteTest, EveryFormatNameParsesBack) {
  std::set<std::string_view> names;
  for (OddsFormat format : kOddsFormats) {
    const std::string_view name = OddsFormatName(format);
    EXPECT_TRUE(names.insert(name).second) << name;
    Result<OddsFormat> parsed = ParseOddsFormat(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, format);
  }
  Result<OddsFormat> bad = ParseOddsFormat("moneyline");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown odds format \"moneyline\"; expected one of: american, decimal, fractional, "
            "hk, malay, indonesian");
}

TEST_F(QuoteTest, AmericanMinus110InEveryFormat) {
  const Quote quote = QuoteOk(OddsFormat::kAmerican, "-110");
  EXPECT_EQ(quote.american, -110);
  EXPECT_NEAR(quote.decimal, 1 + 100.0 / 110, 1e-15);
  EXPECT_EQ(quote.fractional, "10/11");
  EXPECT_NEAR(quote.hk, 100.0 / 110, 1e-15);
  EXPECT_NEAR(quote.malay, 100.0 / 110, 1e-15);
  EXPECT_EQ(quote.indonesian, -1.1);
  EXPECT_NEAR(quote.implied, 110.0 / 210, 1e-15);
}

TEST_F(QuoteTest, PlusSignedAmericanIsAccepted) {
  EXPECT_NEAR(QuoteOk(OddsFormat::kAmerican, "+150").decimal, 2.5, 1e-15);
}

TEST_F(QuoteTest, FractionalKeepsItsOwnTerms) {
  const Quote quote = QuoteOk(OddsFormat::kFractional, "6/4");
  EXPECT_EQ(quote.fractional, "6/4");
  EXPECT_NEAR(quote.decimal, 2.5, 1e-15);
  EXPECT_NEAR(quote.american, 150, 1e-12);
  EXPECT_EQ(QuoteOk(OddsFormat::kFractional, "evens").fractional, "1/1");
}

TEST_F(QuoteTest, EachFormatRoundTripsToTheSameDecimal) {
  const std::pair<OddsFormat, std::string_view> table[] = {
      {OddsFormat::kDecimal, "2.5"},
      {OddsFormat::kHongKong, "1.5"},
      {OddsFormat::kMalay, "-0.6666666666666666"},
      {OddsFormat::kIndonesian, "1.5"},
      {OddsFormat::kAmerican, "150"},
      {OddsFormat::kFractional, "3/2"},
  };
  for (const auto& [format, text] : table) {
    SCOPED_TRACE(std::string(OddsFormatName(format)) + " " + std::string(text));
    const Quote quote = QuoteOk(format, text);
    EXPECT_NEAR(quote.decimal, 2.5, 1e-12);
    EXPECT_EQ(quote.fractional, "3/2");
    EXPECT_NEAR(quote.malay, -2.0 / 3, 1e-12);
  }
}

TEST_F(QuoteTest, BadTextIsInvalid) {
  ExpectInvalid(QuoteFromText(OddsFormat::kAmerican, "abc"), "not a number: \"abc\"");
  ExpectInvalid(QuoteFromText(OddsFormat::kDecimal, ""), "not a number: \"\"");
  ExpectInvalid(QuoteFromText(OddsFormat::kDecimal, "2.5x"), "not a number: \"2.5x\"");
  ExpectInvalid(QuoteFromText(OddsFormat::kDecimal, "++2"), "not a number: \"++2\"");
  ExpectInvalid(QuoteFromText(OddsFormat::kAmerican, "-50"), "must be <= -100 or >= 100");
  ExpectInvalid(QuoteFromText(OddsFormat::kDecimal, "1"), "must be > 1");
  ExpectInvalid(QuoteFromText(OddsFormat::kDecimal, "nan"), "must be finite");
  ExpectInvalid(QuoteFromText(OddsFormat::kMalay, "2"), "must be in [-1, 0) or (0, 1]");
  ExpectInvalid(QuoteFromText(OddsFormat::kFractional, "6-4"),
                "must be n/m with positive integers n and m");
}

}  // namespace
}  // namespace truthbook::odds
