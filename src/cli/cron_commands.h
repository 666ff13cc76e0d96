// The `truthbook cron next` tool: prints the next fire times of a cron expression so that an
// operator can check a schedule before setting it (docs/SCHEDULER.md). Prints its answer to
// stdout and returns the exit code: 0, or kUsageError after an "error: ..." line on stderr for
// bad input. Thread-compatible (writes std::cout/std::cerr).
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"

namespace truthbook::cli {

// Limits of `--count` (and its default).
inline constexpr int kCronMinCount = 1;
inline constexpr int kCronMaxCount = 1000;
inline constexpr int kCronDefaultCount = 5;

// `truthbook cron next EXPR [--from T] [--count N] [--json]`: the `count` fire times strictly
// after `from` (RFC 3339; nullopt means clock.Now()), one `2026-11-29T03:00:00Z` per line, or
// `{"expr": EXPR, "next": [...]}` with `json`. A malformed EXPR or `from`, or a count outside
// [kCronMinCount, kCronMaxCount], is a usage error.
int CronNext(const std::string& expr, const std::optional<std::string>& from, int count, bool json,
             const Clock& clock);

}  // namespace truthbook::cli
