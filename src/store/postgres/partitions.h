// The monthly partitions of odds_snapshots (docs/STORAGE.md, "Partitions"): which months
// exist, and the creation of missing ones, each committed at once on a connection of its own,
// outside the write that needs it (so a rolled-back write leaves a correct cache and holds no
// DDL lock). Servers racing for one month create it once (schema.cc, tb_odds_partition).
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "store/postgres/connection.h"

namespace truthbook::store::postgres {

// The first millisecond of the UTC month holding `t`. InvalidArgument when `t` is outside years
// 0001-9999 (a partition is named by its four-digit year).
Result<TimePoint> MonthStart(TimePoint t);

class OddsPartitions {
 public:
  explicit OddsPartitions(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  OddsPartitions(const OddsPartitions&) = delete;
  OddsPartitions& operator=(const OddsPartitions&) = delete;

  // Makes sure the partition of each month holding one of `times` exists; months already seen
  // cost no query. InvalidArgument for a time outside years 0001-9999 (nothing is created);
  // Unavailable when the server cannot be reached.
  Status Ensure(std::span<const TimePoint> times);
  // Ensure() for the month of `now` and the `ahead` months after it.
  Status EnsureAhead(TimePoint now, int ahead);

 private:
  const std::string conninfo_;
  std::mutex mu_;
  std::set<TimePoint> known_;         // month starts; guarded by mu_
  std::unique_ptr<Connection> conn_;  // opened on first need; mu_
};

}  // namespace truthbook::store::postgres
