// CronExpr: a UTC cron schedule ("0 3 * * 0"), parsed once and asked for its next fire time.
// Vixie cron syntax with an optional leading seconds field (for tests); the grammar and the
// day-of-month/day-of-week rule are in docs/SCHEDULER.md. Pure: no clock, no I/O. An immutable
// value type; thread-safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace truthbook::scheduler {

class CronExpr {
 public:
  // Parses five whitespace-separated fields "minute hour day-of-month month day-of-week", or
  // six with a leading seconds field. Each field is `*` or a comma list of `N`, `A-B`, `*/S`,
  // `A-B/S` and `N/S` (N to the field's maximum); months take JAN-DEC and days SUN-SAT in
  // any case, and day-of-week 7 is Sunday.
  // On success returns the schedule, which fires at least once every 400 years. Returns
  // kInvalidArgument naming the field and the token ("hour: 24 is out of range 0-23",
  // "expected 5 or 6 fields, got 4") for malformed text, and for a schedule that can never
  // fire ("0 0 30 2 *").
  static Result<CronExpr> Parse(std::string_view text);

  // Returns the first fire time strictly after `after`: a whole second, UTC. Never fails
  // (Parse rejected every schedule without a fire time). Jumps over months that cannot match
  // and steps day by day through the others, looking at hours, minutes and seconds only
  // within a matching day: it never steps minute by minute.
  // REQUIRES: the answer is before the year 32767 (the end of std::chrono::year).
  TimePoint Next(TimePoint after) const;

  // True for the six-field form; five-field schedules fire at second 0.
  bool has_seconds() const { return has_seconds_; }

  // The text given to Parse, unchanged.
  const std::string& text() const { return text_; }

  friend bool operator==(const CronExpr&, const CronExpr&) = default;

 private:
  CronExpr() = default;

  // True when a day with this day of month (1-31) and weekday (0 = Sunday) matches the two
  // day fields under the rule that combines them; the month is checked separately.
  bool DayMatches(unsigned day_of_month, unsigned weekday) const;

  std::string text_;
  bool has_seconds_ = false;
  // Bit i set = value i matches. Day-of-week uses 0-6 (Sunday 0; a 7 in the text sets bit 0).
  std::uint64_t seconds_ = 0;
  std::uint64_t minutes_ = 0;
  std::uint32_t hours_ = 0;
  std::uint32_t days_of_month_ = 0;  // bits 1-31
  std::uint16_t months_ = 0;         // bits 1-12
  std::uint8_t days_of_week_ = 0;    // bits 0-6
  // Vixie cron: a day matches when either day field matches if both are restricted (neither
  // starts with '*'), and when both match otherwise.
  bool either_day_field_ = false;
};

}  // namespace truthbook::scheduler
