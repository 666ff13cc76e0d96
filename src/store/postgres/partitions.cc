#include "store/postgres/partitions.h"

#include <chrono>
#include <vector>

namespace truthbook::store::postgres {
namespace {

using std::chrono::year_month_day;

// Makes the partition of the month holding $1 (schema.cc).
constexpr char kAddOddsPartition[] = "SELECT tb_odds_partition($1)";
// Creating a partition waits only for another creation; should it ever wait on a lock held
// by the very write that asked for it, it fails instead of hanging.
constexpr char kSessionSettings[] = "SET lock_timeout = '10s'";

}  // namespace

Result<TimePoint> MonthStart(TimePoint t) {
  const year_month_day day{std::chrono::floor<std::chrono::days>(t)};
  if (day.year() < std::chrono::year(1) || day.year() > std::chrono::year(9999)) {
    return InvalidArgument("odds snapshot: captured_at " +
                           std::to_string(t.time_since_epoch().count()) +
                           " ms is outside years 0001-9999");
  }
  return TimePoint(std::chrono::sys_days(day.year() / day.month() / 1));
}

Status OddsPartitions::Ensure(std::span<const TimePoint> times) {
  std::set<TimePoint> months;
  TimePoint last_month = TimePoint::min();
  for (TimePoint t : times) {
    if (t >= last_month && t < last_month + std::chrono::days(28)) continue;  // same month
    ASSIGN_OR_RETURN(last_month, MonthStart(t));
    months.insert(last_month);
  }
  std::lock_guard lock(mu_);
  for (TimePoint month : months) {
    if (known_.contains(month)) continue;
    if (conn_ == nullptr || conn_->Broken()) {
      conn_.reset();
      ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(conninfo_));
      RETURN_IF_ERROR(conn->Exec(kSessionSettings));
      conn_ = std::move(conn);
    }
    conn_->ClearFailure();
    RETURN_IF_ERROR(conn_->Prepare(kAddOddsPartition).BindAll(month).Run());
    known_.insert(month);
  }
  return Status::Ok();
}

Status OddsPartitions::EnsureAhead(TimePoint now, int ahead) {
  ASSIGN_OR_RETURN(TimePoint month, MonthStart(now));
  std::vector<TimePoint> months;
  year_month_day day{std::chrono::floor<std::chrono::days>(month)};
  for (int i = 0; i <= ahead; ++i) {
    months.push_back(TimePoint(std::chrono::sys_days(day.year() / day.month() / 1)));
    day += std::chrono::months(1);
  }
  return Ensure(months);
}

}  // namespace truthbook::store::postgres
