#include "scheduler/cron.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status_test_util.h"
#include "base/time.h"

namespace truthbook::scheduler {
namespace {

// Every expected time below was worked out on the calendar (2026-11-26 is a Thursday,
// 2027-01-01 a Friday, 2028-01-01 a Saturday) and confirmed by a brute-force search that
// steps minute by minute (second by second for six fields) through the same expressions.
class CronTest : public ::testing::Test {
 protected:
  static TimePoint Time(std::string_view rfc3339) {
    Result<TimePoint> t = ParseRfc3339(rfc3339);
    EXPECT_TRUE(t.ok()) << rfc3339 << ": " << t.status().ToString();
    return t.ok() ? *t : TimePoint{};
  }

  static CronExpr Parsed(std::string_view text) {
    Result<CronExpr> cron = CronExpr::Parse(text);
    EXPECT_TRUE(cron.ok()) << text << ": " << cron.status().ToString();
    return *std::move(cron);
  }

  // `expr` fires first at next[0] strictly after `from`, then at next[1], and so on.
  static void ExpectNext(std::string_view expr, std::string_view from,
                         const std::vector<std::string_view>& next) {
    SCOPED_TRACE(std::string("\"") + std::string(expr) + "\" from " + std::string(from));
    Result<CronExpr> cron = CronExpr::Parse(expr);
    ASSERT_TRUE(cron.ok()) << cron.status().ToString();
    TimePoint t = Time(from);
    for (std::string_view expected : next) {
      t = cron->Next(t);
      EXPECT_EQ(FormatRfc3339(t), FormatRfc3339(Time(expected)));
    }
  }
};

TEST_F(CronTest, DefaultWeeklyCalibrationFiresSundayAtThree) {
  ExpectNext("0 3 * * 0", "2026-11-26T00:00:00Z",
             {"2026-11-29T03:00:00Z", "2026-12-06T03:00:00Z", "2026-12-13T03:00:00Z"});
  ExpectNext("0 3 * * 0", "2026-12-27T03:00:01Z", {"2027-01-03T03:00:00Z"});
}

TEST_F(CronTest, DefaultDailyGradingFiresAtFour) {
  ExpectNext("0 4 * * *", "2026-11-26T12:00:00Z", {"2026-11-27T04:00:00Z", "2026-11-28T04:00:00Z"});
  ExpectNext("0 4 * * *", "2026-11-26T03:59:59Z", {"2026-11-26T04:00:00Z"});
}

TEST_F(CronTest, NextIsStrictlyAfterAFireTime) {
  ExpectNext("0 3 * * 0", "2026-11-29T03:00:00Z", {"2026-12-06T03:00:00Z"});
  ExpectNext("0 0 * * *", "2026-11-26T00:00:00Z", {"2026-11-27T00:00:00Z"});
  ExpectNext("0 3 * * 0", "2026-11-29T02:59:59.999Z", {"2026-11-29T03:00:00Z"});
  ExpectNext("* * * * *", "2026-03-01T10:00:30.500Z", {"2026-03-01T10:01:00Z"});
  ExpectNext("* * * * * *", "2026-11-26T10:00:00.999Z",
             {"2026-11-26T10:00:01Z", "2026-11-26T10:00:02Z"});
}

TEST_F(CronTest, YearRollsOver) {
  ExpectNext("0 4 * * *", "2026-12-31T05:00:00Z", {"2027-01-01T04:00:00Z"});
  ExpectNext("* * * * *", "2026-12-31T23:59:00Z", {"2027-01-01T00:00:00Z", "2027-01-01T00:01:00Z"});
  ExpectNext("0 0 1 1 *", "2026-06-15T00:00:00Z", {"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"});
  ExpectNext("0 12 * FEB-APR *", "2026-04-30T12:00:00Z", {"2027-02-01T12:00:00Z"});
  ExpectNext("0 0 31 12 *", "2028-12-30T00:00:00Z",
             {"2028-12-31T00:00:00Z", "2029-12-31T00:00:00Z"});
}

TEST_F(CronTest, MonthEndsSkipShortMonths) {
  ExpectNext("0 0 31 * *", "2026-04-01T00:00:00Z",
             {"2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z",
              "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"});
  ExpectNext("0 0 30 * *", "2026-01-31T00:00:00Z",
             {"2026-03-30T00:00:00Z", "2026-04-30T00:00:00Z"});
  ExpectNext("0 0 31 2,4,6,7 *", "2026-01-01T00:00:00Z",
             {"2026-07-31T00:00:00Z", "2027-07-31T00:00:00Z"});
  ExpectNext("0 0 29 * *", "2027-02-01T00:00:00Z", {"2027-03-29T00:00:00Z"});
  ExpectNext("0 0 29 * *", "2028-02-01T00:00:00Z",
             {"2028-02-29T00:00:00Z", "2028-03-29T00:00:00Z"});
}

TEST_F(CronTest, February29FiresOnlyInLeapYears) {
  ExpectNext("0 0 29 2 *", "2027-01-01T00:00:00Z",
             {"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"});
  ExpectNext("0 0 29 2 *", "2028-02-29T00:00:00Z", {"2032-02-29T00:00:00Z"});
  ExpectNext("0 0 29 FEB *", "2028-02-28T23:59:59Z", {"2028-02-29T00:00:00Z"});
  // 2100 is not a leap year (divisible by 100); 2400 is (divisible by 400).
  ExpectNext("0 0 29 2 *", "2096-03-01T00:00:00Z", {"2104-02-29T00:00:00Z"});
  ExpectNext("0 0 29 2 *", "2399-03-01T00:00:00Z", {"2400-02-29T00:00:00Z"});
}

TEST_F(CronTest, RestrictedDayOfMonthAndDayOfWeekEitherMatches) {
  // December 2026: Fridays are the 4th, 11th, 18th and 25th; the 13th is a Sunday.
  ExpectNext("0 0 13 * 5", "2026-12-05T00:00:00Z",
             {"2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z", "2026-12-18T00:00:00Z",
              "2026-12-25T00:00:00Z", "2027-01-01T00:00:00Z"});
  // June 2026 starts on a Monday: the 1st and 15th are Mondays too and fire once.
  ExpectNext("0 0 1,15 * 1", "2026-06-01T00:00:00Z",
             {"2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z", "2026-06-22T00:00:00Z",
              "2026-06-29T00:00:00Z", "2026-07-01T00:00:00Z"});
  // Not "the first Monday": the first seven days, and every Monday.
  ExpectNext("0 0 1-7 * MON", "2026-11-26T00:00:00Z",
             {"2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"});
  // A 30th of February never comes, but the Mondays of February do.
  ExpectNext("0 0 30 2 MON", "2027-01-01T00:00:00Z",
             {"2027-02-01T00:00:00Z", "2027-02-08T00:00:00Z"});
}

TEST_F(CronTest, StarredDayFieldMeansBothMustMatch) {
  ExpectNext("0 0 * * 5", "2026-11-26T00:00:00Z", {"2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z"});
  ExpectNext("0 0 13 * *", "2026-11-26T00:00:00Z",
             {"2026-12-13T00:00:00Z", "2027-01-13T00:00:00Z"});
  // "*/13" starts with '*', so it narrows the Fridays: a Friday the 1st, 14th or 27th.
  ExpectNext("0 0 */13 * 5", "2026-11-01T00:00:00Z",
             {"2026-11-27T00:00:00Z", "2027-01-01T00:00:00Z", "2027-05-14T00:00:00Z"});
  ExpectNext("0 0 * 2 1", "2027-03-01T00:00:00Z", {"2028-02-07T00:00:00Z", "2028-02-14T00:00:00Z"});
}

TEST_F(CronTest, Steps) {
  ExpectNext("*/15 * * * *", "2026-11-26T10:07:00Z",
             {"2026-11-26T10:15:00Z", "2026-11-26T10:30:00Z", "2026-11-26T10:45:00Z",
              "2026-11-26T11:00:00Z"});
  ExpectNext("10-40/10 * * * *", "2026-11-26T10:41:00Z",
             {"2026-11-26T11:10:00Z", "2026-11-26T11:20:00Z", "2026-11-26T11:30:00Z",
              "2026-11-26T11:40:00Z", "2026-11-26T12:10:00Z"});
  ExpectNext("5/20 * * * *", "2026-11-26T10:45:00Z",
             {"2026-11-26T11:05:00Z", "2026-11-26T11:25:00Z"});
  ExpectNext("0 */6 * * *", "2026-11-26T19:30:00Z",
             {"2026-11-27T00:00:00Z", "2026-11-27T06:00:00Z"});
  ExpectNext("0 0 1 */3 *", "2026-11-26T00:00:00Z",
             {"2027-01-01T00:00:00Z", "2027-04-01T00:00:00Z", "2027-07-01T00:00:00Z"});
  ExpectNext("0 0 1 2/5 *", "2026-11-26T00:00:00Z",
             {"2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-07-01T00:00:00Z"});
  // N/S runs to the field's maximum, 7 (Sunday) for day-of-week: Mon, Wed, Fri, Sun.
  ExpectNext("0 0 * * 1/2", "2026-11-26T00:00:00Z",
             {"2026-11-27T00:00:00Z", "2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z",
              "2026-12-02T00:00:00Z"});
}

TEST_F(CronTest, RangesAndLists) {
  ExpectNext("0 9-17 * * MON-FRI", "2026-11-27T17:00:00Z",
             {"2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z"});
  ExpectNext("0 8,12,18 * * *", "2026-11-26T12:00:00Z",
             {"2026-11-26T18:00:00Z", "2026-11-27T08:00:00Z", "2026-11-27T12:00:00Z"});
  ExpectNext("15,45 */2 * * *", "2026-11-26T01:00:00Z",
             {"2026-11-26T02:15:00Z", "2026-11-26T02:45:00Z", "2026-11-26T04:15:00Z"});
  ExpectNext("0 0 * * 5-7", "2026-11-26T00:00:00Z",
             {"2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z",
              "2026-12-04T00:00:00Z"});
  ExpectNext("0,30 6-7,22 * * *", "2026-11-26T07:30:00Z",
             {"2026-11-26T22:00:00Z", "2026-11-26T22:30:00Z", "2026-11-27T06:00:00Z"});
}

TEST_F(CronTest, MonthAndDayNamesInAnyCase) {
  ExpectNext("30 8 * * mon-fri", "2026-11-28T00:00:00Z", {"2026-11-30T08:30:00Z"});
  ExpectNext("0 0 1 jan,Jul *", "2026-02-01T00:00:00Z",
             {"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"});
  ExpectNext("0 0 * * Sat-Sun", "2026-11-26T00:00:00Z",
             {"2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", "2026-12-05T00:00:00Z"});
  ExpectNext("0 0 1 DEC WED", "2026-11-26T00:00:00Z",
             {"2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-09T00:00:00Z"});
}

TEST_F(CronTest, SundayIsZeroOrSeven) {
  ExpectNext("0 0 * * 7", "2026-11-26T00:00:00Z", {"2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z"});
  ExpectNext("0 0 * * SUN", "2026-11-26T00:00:00Z", {"2026-11-29T00:00:00Z"});
  EXPECT_EQ(Parsed("0 3 * * 7").Next(Time("2026-11-26T00:00:00Z")),
            Parsed("0 3 * * 0").Next(Time("2026-11-26T00:00:00Z")));
}

TEST_F(CronTest, SecondsField) {
  ExpectNext("*/10 * * * * *", "2026-11-26T10:00:05Z",
             {"2026-11-26T10:00:10Z", "2026-11-26T10:00:20Z"});
  ExpectNext("30 0 3 * * 0", "2026-11-26T00:00:00Z",
             {"2026-11-29T03:00:30Z", "2026-12-06T03:00:30Z"});
  ExpectNext("0 0 0 1 1 *", "2026-12-31T23:59:59.999Z", {"2027-01-01T00:00:00Z"});
  ExpectNext("59 59 23 31 12 *", "2026-12-31T23:59:58Z",
             {"2026-12-31T23:59:59Z", "2027-12-31T23:59:59Z"});
}

TEST_F(CronTest, WhitespaceBetweenFieldsIsFree) {
  ExpectNext("  0\t4  * *   *  ", "2026-11-26T12:00:00Z", {"2026-11-27T04:00:00Z"});
}

TEST_F(CronTest, KeepsTextAndSecondsFlag) {
  const CronExpr five = Parsed("0 3 * * 0");
  EXPECT_EQ(five.text(), "0 3 * * 0");
  EXPECT_FALSE(five.has_seconds());
  const CronExpr six = Parsed(" 0 0 3 * * 0");
  EXPECT_EQ(six.text(), " 0 0 3 * * 0");
  EXPECT_TRUE(six.has_seconds());
  EXPECT_EQ(Parsed("0 3 * * 0"), five);
  EXPECT_FALSE(Parsed("0 3 * * 7") == five);  // same schedule, different text
}

// The scheduler polls Next: a year at one call per 10 minutes must see each Sunday once and
// stay quick (each call skips whole days instead of stepping through minutes).
TEST_F(CronTest, AYearOfPollsSeesEverySundayOnce) {
  const CronExpr weekly = Parsed("0 3 * * 0");
  const TimePoint start = Time("2027-01-01T00:00:00Z");
  const TimePoint end = Time("2028-01-01T00:00:00Z");
  std::vector<TimePoint> fires;
  for (TimePoint now = start; now < end; now += std::chrono::minutes(10)) {
    const TimePoint next = weekly.Next(now);
    if (next < end && (fires.empty() || fires.back() != next)) fires.push_back(next);
  }
  ASSERT_EQ(fires.size(), 52u);  // 2027 has 52 Sundays (Jan 3 .. Dec 26)
  EXPECT_EQ(FormatRfc3339(fires.front()), "2027-01-03T03:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(fires.back()), "2027-12-26T03:00:00.000Z");
  for (size_t i = 1; i < fires.size(); ++i) {
    EXPECT_EQ(fires[i] - fires[i - 1], std::chrono::days(7)) << i;
  }
}

TEST_F(CronTest, RejectsMalformedExpressions) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const std::vector<Case> cases = {
      {"", "expected 5 or 6 fields, got 0"},
      {"0 3 * *", "expected 5 or 6 fields, got 4"},
      {"0 0 0 3 * * 0", "expected 5 or 6 fields, got 7"},
      {"60 * * * * *", "second: 60 is out of range 0-59"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"0 24 * * *", "hour: 24 is out of range 0-23"},
      {"0 0 0 * *", "day-of-month: 0 is out of range 1-31"},
      {"0 0 32 * *", "day-of-month: 32 is out of range 1-31"},
      {"0 0 * 0 *", "month: 0 is out of range 1-12"},
      {"0 0 * 13 *", "month: 13 is out of range 1-12"},
      {"0 0 * * 8", "day-of-week: 8 is out of range 0-7"},
      {"99999999999 * * * *", "minute: 99999999999 is out of range 0-59"},
      {"0 0 * * FUNDAY", "day-of-week: unknown name \"FUNDAY\""},
      {"0 0 * * MON-FUN", "day-of-week: unknown name \"FUN\""},
      {"0 0 * JANUARY *", "month: unknown name \"JANUARY\""},
      {"0 0 * MON *", "month: unknown name \"MON\""},
      {"0 MON * * *", "hour: \"MON\" is not a number"},
      {"0 0 L * *", "day-of-month: \"L\" is not a number"},
      {"? * * * *", "minute: \"?\" is not a number"},
      {"1.5 * * * *", "minute: \"1.5\" is not a number"},
      {"0 0 * 1x *", "month: \"1x\" is not a number or a name"},
      {"*/0 * * * *", "minute: step must be >= 1"},
      {"0 0 */0 * *", "day-of-month: step must be >= 1"},
      {"*/x * * * *", "minute: step \"x\" is not a number"},
      {"*/ * * * *", "minute: \"*/\" is missing a step after '/'"},
      {"*/60 * * * *", "minute: step 60 is out of range 1-59"},
      {"5-2 * * * *", "minute: range \"5-2\" runs backwards"},
      {"0 0 * * FRI-MON", "day-of-week: range \"FRI-MON\" runs backwards"},
      {"5- * * * *", "minute: \"5-\" is missing a value"},
      {"-5 * * * *", "minute: \"-5\" is missing a value"},
      {"1,,2 * * * *", "minute: empty list item in \"1,,2\""},
      {"0 1, * * *", "hour: empty list item in \"1,\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ExpectInvalid(CronExpr::Parse(c.text), c.message);
  }
}

TEST_F(CronTest, RejectsExpressionsThatNeverFire) {
  ExpectInvalid(CronExpr::Parse("0 0 30 2 *"),
                "day-of-month: no day in \"30\" exists in month \"2\", so the expression never "
                "fires");
  ExpectInvalid(CronExpr::Parse("0 0 31 4 *"),
                "day-of-month: no day in \"31\" exists in month \"4\", so the expression never "
                "fires");
  ExpectInvalid(CronExpr::Parse("0 0 31 APR,JUN,SEP,NOV *"),
                "day-of-month: no day in \"31\" exists in month \"APR,JUN,SEP,NOV\", so the "
                "expression never fires");
  ExpectInvalid(CronExpr::Parse("0 0 0 30-31 2 *"),
                "day-of-month: no day in \"30-31\" exists in month \"2\", so the expression "
                "never fires");
  // Either-matches: the day-of-week alone keeps them alive.
  EXPECT_TRUE(CronExpr::Parse("0 0 30 2 MON").ok());
  EXPECT_TRUE(CronExpr::Parse("0 0 29 2 *").ok());
}

}  // namespace
}  // namespace truthbook::scheduler
