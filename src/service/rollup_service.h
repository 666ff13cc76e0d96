// Performance rollups: materialized daily sums of the current gradings per rollup key
// (performance_rollups), refreshed from the gradings appended since the last refresh, and the
// windowed metrics read from them without touching the gradings (docs/PERFORMANCE.md).
// Thread-safe: refreshes may overlap (each day is rebuilt in one transaction).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "service/context.h"
#include "service/summary.h"
#include "service/rollup_key.h"
#include "store/store.h"

namespace truthbook::service {

// What one refresh did.
struct RollupRefreshReport {
  int64_t days = 0;  // days rebuilt
  int64_t rows = 0;  // rows written
  int64_t watermark = -1;
  double elapsed_ms = 0;
};

// A window's bounds and its metrics for one key.
struct Performance {
  RollupKey key;  // with its window set
  int64_t day_from = 0;  // first day counted (days since the epoch); INT64_MIN for "all"
  int64_t day_to = 0;    // the as-of day
  std::optional<std::string> season;  // for window=season
  GradingSummary summary;
  std::optional<double> ece;
};

// The window and the time range of a read. `to` (default: now) is the as-of instant; `from`
// bounds the window's start further. Both are inclusive and cut at whole UTC days.
struct PerformanceQuery {
  RollupWindow window = RollupWindow::kAll;
  std::optional<TimePoint> from;
  std::optional<TimePoint> to;
};

class RollupService {
 public:
  explicit RollupService(Context ctx) : ctx_(ctx) {}
  RollupService(const RollupService&) = delete;
  RollupService& operator=(const RollupService&) = delete;

  // Rebuilds the rows of every day that has a grading appended since the last refresh, then
  // moves the watermark. Errors: those of the store.
  Result<RollupRefreshReport> Refresh();

  // The metrics of `key` over the query's window (the key's own window wins over q.window).
  // NotFound when no grading was ever rolled up under the key's slice; InvalidArgument when
  // the combination is not materialized, window=season lacks a sport, or from > to.
  Result<Performance> Get(const RollupKey& key, const PerformanceQuery& q);

  // Get for each value of `dim` seen within the window, with `filter`'s dimensions fixed.
  // Errors as Get, except that an empty answer is not NotFound.
  Result<std::vector<Performance>> GroupBy(RollupDim dim, const RollupKey& filter,
                                           const PerformanceQuery& q);

  // The dated series of Get: the window's metrics as of each day that had gradings, from the
  // first day in range to the as-of day. Errors as Get.
  Result<std::vector<Performance>> History(const RollupKey& key, const PerformanceQuery& q);

 private:
  Context ctx_;
};

}  // namespace truthbook::service
