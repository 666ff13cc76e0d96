#include "base/time.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace truthbook {
namespace {

constexpr std::string_view kExpected = "expected RFC 3339 time like 2026-11-26T19:30:00Z";

Status Malformed(std::string_view reason) {
  std::string message(kExpected);
  message.append(" (").append(reason).append(")");
  return InvalidArgument(std::move(message));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` ASCII digits at `pos`. Returns false if any is missing or not a digit.
bool ReadDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

bool CharAt(std::string_view text, size_t pos, char expected) {
  return pos < text.size() && text[pos] == expected;
}

}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view text) {
  // Fixed-width prefix: YYYY-MM-DDTHH:MM:SS is 19 characters.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 4, year) || !CharAt(text, 4, '-') || !ReadDigits(text, 5, 2, month) ||
      !CharAt(text, 7, '-') || !ReadDigits(text, 8, 2, day)) {
    return Malformed("date must be YYYY-MM-DD");
  }
  if (!(CharAt(text, 10, 'T') || CharAt(text, 10, 't'))) {
    return Malformed("date and time must be separated by 'T'");
  }
  if (!ReadDigits(text, 11, 2, hour) || !CharAt(text, 13, ':') ||
      !ReadDigits(text, 14, 2, minute) || !CharAt(text, 16, ':') ||
      !ReadDigits(text, 17, 2, second)) {
    return Malformed("time must be HH:MM:SS");
  }
  size_t pos = 19;

  int millis = 0;
  if (CharAt(text, pos, '.')) {
    ++pos;
    const size_t fraction_start = pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (pos - fraction_start < 3) millis = millis * 10 + (text[pos] - '0');
      ++pos;
    }
    const size_t digits = pos - fraction_start;
    if (digits == 0) return Malformed("fraction after '.' needs at least one digit");
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }

  int offset_minutes = 0;
  if (CharAt(text, pos, 'Z') || CharAt(text, pos, 'z')) {
    ++pos;
  } else if (CharAt(text, pos, '+') || CharAt(text, pos, '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    int offset_hour = 0, offset_minute = 0;
    if (!ReadDigits(text, pos + 1, 2, offset_hour) || !CharAt(text, pos + 3, ':') ||
        !ReadDigits(text, pos + 4, 2, offset_minute)) {
      return Malformed("offset must be Z, +HH:MM or -HH:MM");
    }
    if (offset_hour > 23 || offset_minute > 59) return Malformed("offset out of range");
    offset_minutes = sign * (offset_hour * 60 + offset_minute);
    pos += 6;
  } else {
    return Malformed("missing offset Z, +HH:MM or -HH:MM");
  }
  if (pos != text.size()) return Malformed("unexpected characters after the offset");

  if (month < 1 || month > 12) return Malformed("month must be 01-12");
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return Malformed("day does not exist in that month");
  if (hour > 23) return Malformed("hour must be 00-23");
  if (minute > 59) return Malformed("minute must be 00-59");
  if (second == 60) return Malformed("leap second :60 is not accepted");
  if (second > 59) return Malformed("second must be 00-59");

  const TimePoint local = std::chrono::sys_days{date} + std::chrono::hours{hour} +
                          std::chrono::minutes{minute} + std::chrono::seconds{second} +
                          std::chrono::milliseconds{millis};
  // Local time = UTC + offset, so UTC = local - offset.
  return local - std::chrono::minutes{offset_minutes};
}

std::string FormatRfc3339(TimePoint t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time_of_day{t - day};
  char buffer[64];
  const int length = std::snprintf(
      buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(time_of_day.hours().count()),
      static_cast<int>(time_of_day.minutes().count()),
      static_cast<int>(time_of_day.seconds().count()),
      static_cast<int>(time_of_day.subseconds().count()));
  return std::string(buffer, static_cast<size_t>(length));
}

}  // namespace truthbook
