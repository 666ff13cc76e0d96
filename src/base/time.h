// RFC 3339 timestamps in UTC: the only textual time format truthbook reads or writes.
// ParseRfc3339 is strict (no spaces, no missing seconds, no leap seconds) so that every
// accepted string names exactly one millisecond; FormatRfc3339 always emits one fixed shape.
// Free functions without shared state; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace truthbook {

// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`:
//   - 'T' may be 't' and 'Z' may be 'z'; no other separator (not even a space) is accepted;
//   - the fraction has one or more digits and is truncated (not rounded) to milliseconds;
//   - the offset is applied, so the result is the UTC instant; "-00:00" means UTC;
//   - the calendar is checked: month 01-12, a day that exists in that month (leap years
//     included), hour 00-23, minute 00-59, second 00-59, offset hour 00-23 and minute 00-59.
// Second 60 (a leap second) is rejected rather than folded into the next minute: the
// system clocks that produce our timestamps smear leap seconds, so a ":60" indicates a bad
// input, and folding would let two different strings name the same instant.
// On success returns the instant. On any malformed or out-of-range input returns
// kInvalidArgument with a message starting "expected RFC 3339 time like
// 2026-11-26T19:30:00Z". Never throws.
Result<TimePoint> ParseRfc3339(std::string_view text);

// Formats `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, e.g. "2026-11-26T19:30:00.000Z": always UTC,
// always exactly three fraction digits, so the strings sort in time order.
// REQUIRES: t is within years 0000..9999 (the range RFC 3339 can express); outside it the
// year is printed with a sign or more digits and ParseRfc3339 will not read it back.
std::string FormatRfc3339(TimePoint t);

}  // namespace truthbook
