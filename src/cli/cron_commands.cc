#include "cli/cron_commands.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/time.h"
#include "cli/odds_commands.h"
#include "scheduler/cron.h"

namespace truthbook::cli {
namespace {

// A fire time is a whole second, so FormatRfc3339's fixed ".mmm" is always ".000": drop it to
// print the schedule as an operator writes it ("2026-11-29T03:00:00Z").
std::string FormatFireTime(TimePoint t) {
  std::string text = FormatRfc3339(t);
  constexpr std::string_view kZeroMillis = ".000Z";
  if (text.ends_with(kZeroMillis))
    text.replace(text.size() - kZeroMillis.size(), kZeroMillis.size(), "Z");
  return text;
}

}  // namespace

int CronNext(const std::string& expr, const std::optional<std::string>& from, int count, bool json,
             const Clock& clock) {
  auto cron = scheduler::CronExpr::Parse(expr);
  if (!cron.ok()) return UsageError("EXPR \"" + expr + "\": " + cron.status().message());
  TimePoint t = clock.Now();
  if (from.has_value()) {
    auto parsed = ParseRfc3339(*from);
    if (!parsed.ok()) return UsageError("--from: " + parsed.status().message());
    t = *parsed;
  }
  if (count < kCronMinCount || count > kCronMaxCount) {
    return UsageError("--count: " + std::to_string(count) + " is out of range " +
                      std::to_string(kCronMinCount) + "-" + std::to_string(kCronMaxCount));
  }
  std::vector<std::string> next;
  next.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    t = cron->Next(t);
    next.push_back(FormatFireTime(t));
  }
  if (json) {
    std::cout << nlohmann::json{{"expr", expr}, {"next", next}}.dump() << "\n";
    return 0;
  }
  for (const std::string& line : next) std::cout << line << "\n";
  return 0;
}

}  // namespace truthbook::cli
