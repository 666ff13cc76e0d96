#include "scheduler/cron.h"

#include <array>
#include <bit>
#include <cassert>
#include <chrono>
#include <span>
#include <vector>

namespace truthbook::scheduler {
namespace {

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

// The longest each month can be (February in a leap year), indexed by month 1-12.
constexpr std::array<unsigned, 13> kLongestMonth = {0,  31, 29, 31, 30, 31, 30,
                                                    31, 31, 30, 31, 30, 31};

// Every 400 Gregorian years hold exactly 20871 weeks, so a schedule that fires at all fires
// within any 400-year span.
constexpr int kCalendarCycleYears = 400;

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  std::span<const std::string_view> names;  // names[i] is the value names_base + i
  int names_base;
  bool day_of_week;  // 7 is Sunday, like 0
};

constexpr FieldSpec kSecond = {"second", 0, 59, {}, 0, false};
constexpr FieldSpec kMinute = {"minute", 0, 59, {}, 0, false};
constexpr FieldSpec kHour = {"hour", 0, 23, {}, 0, false};
constexpr FieldSpec kDayOfMonth = {"day-of-month", 1, 31, {}, 0, false};
constexpr FieldSpec kMonth = {"month", 1, 12, kMonthNames, 1, false};
constexpr FieldSpec kDayOfWeek = {"day-of-week", 0, 7, kDayNames, 0, true};

Status FieldError(const FieldSpec& field, std::string_view message) {
  std::string text(field.name);
  text.append(": ").append(message);
  return InvalidArgument(std::move(text));
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text).append("\"");
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool AllOf(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return !text.empty();
}

// Reads a run of digits, saturating at a value no field accepts instead of overflowing.
int ReadNumber(std::string_view digits) {
  constexpr int kSaturated = 1000000;
  int value = 0;
  for (char c : digits) {
    value = value * 10 + (c - '0');
    if (value >= kSaturated) return kSaturated;
  }
  return value;
}

bool IsName(const FieldSpec& field, std::string_view token) {
  return !field.names.empty() && AllOf(token, IsLetter);
}

// One value of `field`: a number in [min, max] or, where the field has them, a name.
// `item` is the list item it came from, for the message.
Result<int> ParseValue(const FieldSpec& field, std::string_view token, std::string_view item) {
  if (token.empty()) return FieldError(field, Quoted(item) + " is missing a value");
  if (AllOf(token, IsDigit)) {
    const int value = ReadNumber(token);
    if (value < field.min || value > field.max) {
      return FieldError(field, std::string(token) + " is out of range " +
                                   std::to_string(field.min) + "-" + std::to_string(field.max));
    }
    return value;
  }
  if (IsName(field, token)) {
    if (token.size() == 3) {
      for (size_t i = 0; i < field.names.size(); ++i) {
        const std::string_view name = field.names[i];
        if (ToUpper(token[0]) == name[0] && ToUpper(token[1]) == name[1] &&
            ToUpper(token[2]) == name[2]) {
          return field.names_base + static_cast<int>(i);
        }
      }
    }
    return FieldError(field, "unknown name " + Quoted(token));
  }
  return FieldError(field, Quoted(token) + (field.names.empty() ? " is not a number"
                                                                : " is not a number or a name"));
}

Result<int> ParseStep(const FieldSpec& field, std::string_view token, std::string_view item) {
  if (token.empty()) return FieldError(field, Quoted(item) + " is missing a step after '/'");
  if (!AllOf(token, IsDigit))
    return FieldError(field, "step " + Quoted(token) + " is not a number");
  const int step = ReadNumber(token);
  if (step < 1) return FieldError(field, "step must be >= 1");
  if (step > field.max) {
    return FieldError(
        field, "step " + std::string(token) + " is out of range 1-" + std::to_string(field.max));
  }
  return step;
}

// One list item: `*`, `N`, `A-B`, `*/S`, `A-B/S` or `N/S` (N to the field's maximum).
Result<std::uint64_t> ParseItem(const FieldSpec& field, std::string_view item) {
  std::string_view range = item;
  std::string_view step_text;
  const size_t slash = item.find('/');
  const bool has_step = slash != std::string_view::npos;
  if (has_step) {
    range = item.substr(0, slash);
    step_text = item.substr(slash + 1);
  }
  int low = 0;
  int high = 0;
  if (range == "*") {
    low = field.min;
    high = field.max;
  } else if (const size_t dash = range.find('-'); dash != std::string_view::npos) {
    const std::string_view high_text = range.substr(dash + 1);
    ASSIGN_OR_RETURN(low, ParseValue(field, range.substr(0, dash), item));
    ASSIGN_OR_RETURN(high, ParseValue(field, high_text, item));
    // A range of day names may end on Sunday ("SAT-SUN", "FRI-SUN"): Sunday counts as 7 there.
    if (field.day_of_week && high == 0 && low > 0 && IsName(field, high_text)) high = 7;
    if (low > high) return FieldError(field, "range " + Quoted(range) + " runs backwards");
  } else {
    ASSIGN_OR_RETURN(low, ParseValue(field, range, item));
    high = has_step ? field.max : low;
  }
  int step = 1;
  if (has_step) {
    ASSIGN_OR_RETURN(step, ParseStep(field, step_text, item));
  }
  std::uint64_t bits = 0;
  for (int value = low; value <= high; value += step) bits |= std::uint64_t{1} << value;
  return bits;
}

// A comma-separated list of items; returns the set of matching values as bits.
Result<std::uint64_t> ParseField(const FieldSpec& field, std::string_view text) {
  std::uint64_t bits = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item =
        text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (item.empty()) return FieldError(field, "empty list item in " + Quoted(text));
    ASSIGN_OR_RETURN(std::uint64_t item_bits, ParseItem(field, item));
    bits |= item_bits;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (field.day_of_week && (bits & (std::uint64_t{1} << 7)) != 0) {
    bits = (bits & ~(std::uint64_t{1} << 7)) | 1;  // 7 is Sunday, like 0
  }
  return bits;
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t') {
      ++pos;
      continue;
    }
    const size_t end = text.find_first_of(" \t", pos);
    fields.push_back(text.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? text.size() : end;
  }
  return fields;
}

// The smallest set bit of `bits` at or above `from`, or -1 when there is none.
int NextBit(std::uint64_t bits, int from) {
  if (from >= 64) return -1;
  const std::uint64_t rest = bits >> from;
  return rest == 0 ? -1 : from + std::countr_zero(rest);
}

}  // namespace

Result<CronExpr> CronExpr::Parse(std::string_view text) {
  const std::vector<std::string_view> fields = SplitFields(text);
  if (fields.size() != 5 && fields.size() != 6) {
    return InvalidArgument("expected 5 or 6 fields, got " + std::to_string(fields.size()));
  }
  CronExpr expr;
  expr.text_ = std::string(text);
  expr.has_seconds_ = fields.size() == 6;
  size_t next = 0;
  if (expr.has_seconds_) {
    ASSIGN_OR_RETURN(expr.seconds_, ParseField(kSecond, fields[next++]));
  } else {
    expr.seconds_ = 1;  // second 0
  }
  const std::string_view day_of_month_text = fields[next + 2];
  const std::string_view month_text = fields[next + 3];
  const std::string_view day_of_week_text = fields[next + 4];
  ASSIGN_OR_RETURN(expr.minutes_, ParseField(kMinute, fields[next]));
  ASSIGN_OR_RETURN(std::uint64_t hours, ParseField(kHour, fields[next + 1]));
  ASSIGN_OR_RETURN(std::uint64_t days_of_month, ParseField(kDayOfMonth, day_of_month_text));
  ASSIGN_OR_RETURN(std::uint64_t months, ParseField(kMonth, month_text));
  ASSIGN_OR_RETURN(std::uint64_t days_of_week, ParseField(kDayOfWeek, day_of_week_text));
  expr.hours_ = static_cast<std::uint32_t>(hours);
  expr.days_of_month_ = static_cast<std::uint32_t>(days_of_month);
  expr.months_ = static_cast<std::uint16_t>(months);
  expr.days_of_week_ = static_cast<std::uint8_t>(days_of_week);
  expr.either_day_field_ = day_of_month_text[0] != '*' && day_of_week_text[0] != '*';

  // When both day fields must match, the day of month must exist in some chosen month; every
  // such date then falls on every weekday in some year. When either may match, every month
  // has every weekday.
  if (!expr.either_day_field_) {
    bool fires = false;
    for (unsigned month = 1; month <= 12 && !fires; ++month) {
      if (((expr.months_ >> month) & 1) == 0) continue;
      const std::uint64_t days_in_month = (std::uint64_t{2} << kLongestMonth[month]) - 2;
      fires = (expr.days_of_month_ & days_in_month) != 0;
    }
    if (!fires) {
      return FieldError(kDayOfMonth, "no day in " + Quoted(day_of_month_text) +
                                         " exists in month " + Quoted(month_text) +
                                         ", so the expression never fires");
    }
  }
  return expr;
}

bool CronExpr::DayMatches(unsigned day_of_month, unsigned weekday) const {
  const bool by_month = ((days_of_month_ >> day_of_month) & 1) != 0;
  const bool by_week = ((days_of_week_ >> weekday) & 1) != 0;
  return either_day_field_ ? by_month || by_week : by_month && by_week;
}

TimePoint CronExpr::Next(TimePoint after) const {
  using std::chrono::days;
  using std::chrono::sys_days;
  const std::chrono::sys_seconds start =
      std::chrono::floor<std::chrono::seconds>(after) + std::chrono::seconds(1);
  sys_days day = std::chrono::floor<days>(start);
  const std::chrono::hh_mm_ss time_of_day(start - day);
  int hour = static_cast<int>(time_of_day.hours().count());
  int minute = static_cast<int>(time_of_day.minutes().count());
  int second = static_cast<int>(time_of_day.seconds().count());
  const std::chrono::year last_year =
      std::chrono::year_month_day(day).year() + std::chrono::years(kCalendarCycleYears);

  while (true) {
    const std::chrono::year_month_day date(day);
    if (date.year() > last_year) break;  // unreachable: Parse proved a fire time exists
    const int month = static_cast<int>(static_cast<unsigned>(date.month()));
    if (((months_ >> month) & 1) == 0) {
      const int next_month = NextBit(months_, month + 1);
      const std::chrono::year year =
          next_month < 0 ? date.year() + std::chrono::years(1) : date.year();
      const unsigned first_month =
          static_cast<unsigned>(next_month < 0 ? std::countr_zero(months_) : next_month);
      day = sys_days(year / std::chrono::month(first_month) / 1);
      hour = minute = second = 0;
      continue;
    }
    if (!DayMatches(static_cast<unsigned>(date.day()), std::chrono::weekday(day).c_encoding())) {
      day += days(1);
      hour = minute = second = 0;
      continue;
    }
    const int next_hour = NextBit(hours_, hour);
    if (next_hour < 0) {
      day += days(1);
      hour = minute = second = 0;
      continue;
    }
    if (next_hour != hour) {
      hour = next_hour;
      minute = second = 0;
    }
    const int next_minute = NextBit(minutes_, minute);
    if (next_minute < 0) {
      ++hour;
      minute = second = 0;
      continue;
    }
    if (next_minute != minute) {
      minute = next_minute;
      second = 0;
    }
    const int next_second = NextBit(seconds_, second);
    if (next_second < 0) {
      ++minute;
      second = 0;
      continue;
    }
    return TimePoint(day) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(next_second);
  }
  assert(false && "CronExpr::Next found no fire time within 400 years");
  return TimePoint::max();
}

}  // namespace truthbook::scheduler
