#include "base/time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace truthbook {
namespace {

class Rfc3339Test : public ::testing::Test {
 protected:
  // The UTC instant y-mo-d h:mi:s.ms, built independently of the parser.
  static TimePoint Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                       int ms = 0) {
    return std::chrono::sys_days{std::chrono::year_month_day{
               std::chrono::year{y}, std::chrono::month{mo}, std::chrono::day{d}}} +
           std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s} +
           std::chrono::milliseconds{ms};
  }

  static TimePoint Parsed(std::string_view text) {
    Result<TimePoint> result = ParseRfc3339(text);
    EXPECT_TRUE(result.ok()) << text << ": " << result.status().ToString();
    return result.ok() ? *result : TimePoint{};
  }

  static void ExpectRejected(std::string_view text) {
    Result<TimePoint> result = ParseRfc3339(text);
    ASSERT_FALSE(result.ok()) << "accepted \"" << text << "\"";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(
        result.status().message().rfind("expected RFC 3339 time like 2026-11-26T19:30:00Z", 0), 0u)
        << result.status().message();
  }
};

TEST_F(Rfc3339Test, ParsesUtcWithZ) {
  EXPECT_EQ(Parsed("2026-11-26T19:30:00Z"), Utc(2026, 11, 26, 19, 30, 0));
}

TEST_F(Rfc3339Test, LowercaseTAndZAreAccepted) {
  EXPECT_EQ(Parsed("2026-11-26t19:30:00z"), Utc(2026, 11, 26, 19, 30, 0));
}

TEST_F(Rfc3339Test, EpochIsZero) {
  EXPECT_EQ(Parsed("1970-01-01T00:00:00Z").time_since_epoch().count(), 0);
}

TEST_F(Rfc3339Test, OffsetIsNormalizedToUtc) {
  EXPECT_EQ(Parsed("2026-11-26T21:30:00+02:00"), Utc(2026, 11, 26, 19, 30, 0));
  EXPECT_EQ(Parsed("2026-11-26T14:00:00-05:30"), Utc(2026, 11, 26, 19, 30, 0));
}

TEST_F(Rfc3339Test, OffsetCanCrossDayMonthAndYear) {
  EXPECT_EQ(Parsed("2026-12-31T23:30:00-01:00"), Utc(2027, 1, 1, 0, 30, 0));
  EXPECT_EQ(Parsed("2027-01-01T00:30:00+01:00"), Utc(2026, 12, 31, 23, 30, 0));
}

TEST_F(Rfc3339Test, NegativeZeroOffsetMeansUtc) {
  EXPECT_EQ(Parsed("2026-11-26T19:30:00-00:00"), Utc(2026, 11, 26, 19, 30, 0));
  EXPECT_EQ(Parsed("2026-11-26T19:30:00+00:00"), Utc(2026, 11, 26, 19, 30, 0));
}

TEST_F(Rfc3339Test, FractionIsScaledToMilliseconds) {
  EXPECT_EQ(Parsed("2026-11-26T19:30:00.5Z"), Utc(2026, 11, 26, 19, 30, 0, 500));
  EXPECT_EQ(Parsed("2026-11-26T19:30:00.05Z"), Utc(2026, 11, 26, 19, 30, 0, 50));
  EXPECT_EQ(Parsed("2026-11-26T19:30:00.123Z"), Utc(2026, 11, 26, 19, 30, 0, 123));
}

TEST_F(Rfc3339Test, FractionBeyondMillisecondsIsTruncatedNotRounded) {
  EXPECT_EQ(Parsed("2026-11-26T19:30:00.1239Z"), Utc(2026, 11, 26, 19, 30, 0, 123));
  EXPECT_EQ(Parsed("2026-11-26T19:30:59.999999999999999999Z"), Utc(2026, 11, 26, 19, 30, 59, 999));
}

TEST_F(Rfc3339Test, FractionAndOffsetCombine) {
  EXPECT_EQ(Parsed("2026-11-26T20:30:00.250+01:00"), Utc(2026, 11, 26, 19, 30, 0, 250));
}

TEST_F(Rfc3339Test, TimesBeforeTheEpochWork) {
  EXPECT_EQ(Parsed("1969-12-31T23:59:59.999Z").time_since_epoch().count(), -1);
  EXPECT_EQ(Parsed("0000-01-01T00:00:00Z"), Utc(0, 1, 1));
}

TEST_F(Rfc3339Test, LeapDayExistsOnlyInLeapYears) {
  EXPECT_EQ(Parsed("2024-02-29T00:00:00Z"), Utc(2024, 2, 29));
  EXPECT_EQ(Parsed("2000-02-29T00:00:00Z"), Utc(2000, 2, 29));
  ExpectRejected("2026-02-29T00:00:00Z");
  ExpectRejected("1900-02-29T00:00:00Z");
}

TEST_F(Rfc3339Test, DayMustExistInItsMonth) {
  EXPECT_EQ(Parsed("2026-01-31T00:00:00Z"), Utc(2026, 1, 31));
  ExpectRejected("2026-04-31T00:00:00Z");
  ExpectRejected("2026-01-32T00:00:00Z");
  ExpectRejected("2026-01-00T00:00:00Z");
}

TEST_F(Rfc3339Test, FieldRangesAreChecked) {
  ExpectRejected("2026-00-10T00:00:00Z");
  ExpectRejected("2026-13-10T00:00:00Z");
  ExpectRejected("2026-11-26T24:00:00Z");
  ExpectRejected("2026-11-26T19:60:00Z");
  ExpectRejected("2026-11-26T19:30:61Z");
  ExpectRejected("2026-11-26T19:30:00+24:00");
  ExpectRejected("2026-11-26T19:30:00+01:60");
}

TEST_F(Rfc3339Test, LeapSecondIsRejected) {
  Result<TimePoint> result = ParseRfc3339("2016-12-31T23:59:60Z");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("leap second"), std::string::npos);
}

TEST_F(Rfc3339Test, MalformedShapesAreRejected) {
  for (std::string_view text : {
           "",
           "2026-11-26",
           "2026-11-26T19:30Z",
           "2026-11-26 19:30:00Z",
           "2026-11-26T19:30:00",
           "2026-11-26T19:30:00.Z",
           "2026-11-26T19:30:00,5Z",
           "2026-11-26T19:30:00+0100",
           "2026-11-26T19:30:00+01",
           "2026-11-26T19:30:00ZZ",
           "2026-11-26T19:30:00Z ",
           " 2026-11-26T19:30:00Z",
           "26-11-26T19:30:00Z",
           "+2026-11-26T19:30:00Z",
           "2026-1-26T19:30:00Z",
           "2026-11-26T9:30:00Z",
           "2026/11/26T19:30:00Z",
           "2026-11-26T19:30:00UTC",
           "\xef\xbc\x92"
           "026-11-26T19:30:00Z",  // fullwidth digit two
       }) {
    ExpectRejected(text);
  }
}

TEST_F(Rfc3339Test, EmbeddedNulIsRejected) {
  ExpectRejected(std::string_view("2026-11-26T19:30:00Z\0", 21));
}

TEST_F(Rfc3339Test, FormatAlwaysHasMillisecondsAndZ) {
  EXPECT_EQ(FormatRfc3339(Utc(2026, 11, 26, 19, 30, 0)), "2026-11-26T19:30:00.000Z");
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 2, 3, 4, 5, 7)), "2026-01-02T03:04:05.007Z");
  EXPECT_EQ(FormatRfc3339(TimePoint{}), "1970-01-01T00:00:00.000Z");
}

TEST_F(Rfc3339Test, FormatHandlesTimesBeforeTheEpoch) {
  EXPECT_EQ(FormatRfc3339(TimePoint(std::chrono::milliseconds(-1))), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(Utc(0, 1, 1)), "0000-01-01T00:00:00.000Z");
}

TEST_F(Rfc3339Test, FormatThenParseRoundTrips) {
  for (TimePoint t : {Utc(2026, 11, 26, 19, 30, 0, 123), Utc(2024, 2, 29, 23, 59, 59, 999),
                      Utc(9999, 12, 31, 23, 59, 59, 999), Utc(1969, 7, 20, 20, 17, 40, 1)}) {
    EXPECT_EQ(Parsed(FormatRfc3339(t)), t) << FormatRfc3339(t);
  }
}

TEST_F(Rfc3339Test, ParseThenFormatNormalizes) {
  EXPECT_EQ(FormatRfc3339(Parsed("2026-11-26t21:30:00.1+02:00")), "2026-11-26T19:30:00.100Z");
}

}  // namespace
}  // namespace truthbook
