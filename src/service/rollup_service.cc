#include "service/rollup_service.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <utility>

#include "calibration/metrics.h"
#include "grading/outcome.h"

namespace truthbook::service {
namespace {

using store::RollupDay;
using store::RollupFact;
using store::RollupSums;

constexpr int64_t kFirstDay = std::numeric_limits<int64_t>::min();

int64_t DayOf(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

TimePoint StartOfDay(int64_t day) { return TimePoint(std::chrono::days(day)); }

// Bitmasks over kRollupDimNames of the materialized combinations (RollupKey::Materialized).
const std::vector<unsigned>& MaterializedMasks() {
  static const auto* masks = [] {
    auto* out = new std::vector<unsigned>;
    for (unsigned mask = 0; mask < (1u << kRollupDimNames.size()); ++mask) {
      RollupKey key;
      for (size_t d = 0; d < kRollupDimNames.size(); ++d) {
        if (mask & (1u << d)) key.values[d] = "";
      }
      if (key.Materialized()) out->push_back(mask);
    }
    return out;
  }();
  return *masks;
}

// The sums of one day's gradings per full dimension tuple (the dims, then the season).
using Cell = std::array<std::string, kRollupDimNames.size() + 1>;
using Cells = std::map<Cell, RollupSums>;

// The materialized rows of one day: each cell's sums go to every materialized combination.
std::vector<RollupDay> RollupRows(const Cells& cells, int64_t day, TimePoint now) {
  constexpr unsigned kSportBit = 1u << static_cast<unsigned>(RollupDim::kSport);
  std::map<std::pair<std::string, std::string>, RollupDay> rows;
  for (const auto& [cell, sums] : cells) {
    for (unsigned mask : MaterializedMasks()) {
      RollupKey key;
      for (size_t d = 0; d < kRollupDimNames.size(); ++d) {
        if (mask & (1u << d)) key.values[d] = cell[d];
      }
      std::string season = (mask & kSportBit) ? cell.back() : "";
      std::string slice = key.Slice();
      auto [it, added] = rows.try_emplace({slice, season});
      if (added)
        it->second = RollupDay{std::move(slice), key.Dims(), day, std::move(season), {}, now};
      MergeSums(sums, it->second.sums);
    }
  }
  std::vector<RollupDay> out;
  out.reserve(rows.size());
  for (auto& [id, row] : rows) out.push_back(std::move(row));
  return out;
}

// The first day a window ending on `day_to` counts.
int64_t WindowStart(RollupWindow window, int64_t day_to) {
  switch (window) {
    case RollupWindow::k7d:
      return day_to - 6;
    case RollupWindow::k30d:
      return day_to - 29;
    case RollupWindow::k90d:
      return day_to - 89;
    case RollupWindow::kSeason:
    case RollupWindow::kAll:
      break;
  }
  return kFirstDay;
}

// A read's window and the days it counts, checked.
struct Span {
  RollupWindow window = RollupWindow::kAll;
  int64_t from = kFirstDay;  // the window's first day, or q.from's when later
  int64_t to = 0;            // the as-of day
};

Result<Span> SpanOf(const RollupKey& key, const PerformanceQuery& q, TimePoint now) {
  const TimePoint to = q.to.value_or(now);
  if (q.from && *q.from > to) return InvalidArgument("from: must not be after to");
  Span span{key.window.value_or(q.window), kFirstDay, DayOf(to)};
  span.from = WindowStart(span.window, span.to);
  if (q.from) span.from = std::max(span.from, DayOf(*q.from));
  return span;
}

Status CheckMaterialized(const RollupKey& key) {
  if (key.Materialized()) return Status::Ok();
  return InvalidArgument("rollup_key: " + key.Dims() +
                         " is not materialized: rollups combine at most two of sport, league, "
                         "tier, market, channel and book, or sport, tier and market");
}

// The season of `sport`'s latest day with gradings on or before `day_to` ("" if none).
Result<std::string> CurrentSeason(store::Reader& r, const std::string& sport, int64_t day_to) {
  RollupKey key;
  key.value(RollupDim::kSport) = sport;
  ASSIGN_OR_RETURN(std::optional<RollupDay> latest,
                   r.LatestRollupDay(key.Dims(), key.Slice(), day_to));
  return latest ? latest->season : "";
}

Performance MakePerformance(RollupKey key, RollupWindow window, int64_t from, int64_t to,
                            std::optional<std::string> season, const RollupSums& sums) {
  key.window = window;
  return Performance{
      std::move(key), from, to, std::move(season), Summarize(sums), ExpectedCalibrationError(sums)};
}

}  // namespace

Result<RollupRefreshReport> RollupService::Refresh() {
  const auto started = std::chrono::steady_clock::now();
  RollupRefreshReport report;
  std::vector<int64_t> days;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(int64_t watermark, r.RollupWatermark());
    ASSIGN_OR_RETURN(int64_t size, r.LedgerSize());
    ASSIGN_OR_RETURN(days, r.ListRollupDaysGradedAfter(watermark));
    report.watermark = size - 1;
    return Status::Ok();
  }));
  for (int64_t day : days) {
    RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
      Cells cells;
      RETURN_IF_ERROR(
          txn.ForEachRollupFact(StartOfDay(day), StartOfDay(day + 1), [&](const RollupFact& f) {
            AddToSums(
                f, cells[Cell{f.sport, f.league, f.tier, f.market, f.channel, f.book, f.season}]);
          }));
      const std::vector<RollupDay> rows = RollupRows(cells, day, ctx_.clock.Now());
      report.rows += static_cast<int64_t>(rows.size());
      return txn.ReplaceRollupDay(day, rows);
    }));
  }
  report.days = static_cast<int64_t>(days.size());
  RETURN_IF_ERROR(ctx_.store.Write(
      [&](store::WriteTxn& txn) { return txn.SetRollupWatermark(report.watermark); }));
  report.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Result<Performance> RollupService::Get(const RollupKey& key, const PerformanceQuery& q) {
  RETURN_IF_ERROR(CheckMaterialized(key));
  ASSIGN_OR_RETURN(Span span, SpanOf(key, q, ctx_.clock.Now()));
  if (span.window == RollupWindow::kSeason && !key.value(RollupDim::kSport)) {
    return InvalidArgument("window: season needs a sport in the key (seasons differ by sport)");
  }
  RollupSums sums;
  std::optional<std::string> season;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    const std::string slice = key.Slice();
    if (!slice.empty()) {
      ASSIGN_OR_RETURN(std::optional<RollupDay> any,
                       r.LatestRollupDay(key.Dims(), slice, std::numeric_limits<int64_t>::max()));
      if (!any) return NotFound("rollup_key: no gradings under " + slice);
    }
    if (span.window == RollupWindow::kSeason) {
      ASSIGN_OR_RETURN(season, CurrentSeason(r, *key.value(RollupDim::kSport), span.to));
    }
    ASSIGN_OR_RETURN(std::vector<RollupDay> rows,
                     r.ListRollupDays({key.Dims(), slice, season, span.from, span.to}));
    for (const RollupDay& row : rows) MergeSums(row.sums, sums);
    return Status::Ok();
  }));
  return MakePerformance(key, span.window, span.from, span.to, season, sums);
}

Result<std::vector<Performance>> RollupService::GroupBy(RollupDim dim, const RollupKey& filter,
                                                        const PerformanceQuery& q) {
  RollupKey grouped = filter;
  if (!grouped.value(dim)) grouped.value(dim) = "";
  RETURN_IF_ERROR(CheckMaterialized(grouped));
  ASSIGN_OR_RETURN(Span span, SpanOf(filter, q, ctx_.clock.Now()));
  const bool by_season = span.window == RollupWindow::kSeason;
  if (by_season && !grouped.value(RollupDim::kSport)) {
    return InvalidArgument("window: season needs a sport (seasons differ by sport)");
  }
  std::map<std::string, std::pair<RollupKey, RollupSums>> groups;
  std::map<std::string, std::string> seasons;  // sport -> its season as of span.to
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(
        std::vector<RollupDay> rows,
        r.ListRollupDays({grouped.Dims(), std::nullopt, std::nullopt, span.from, span.to}));
    // Rows come ordered by key: parse and filter each key once.
    const std::string* last_key = nullptr;
    RollupKey key;
    bool match = false;
    for (const RollupDay& row : rows) {
      if (last_key == nullptr || *last_key != row.rollup_key) {
        last_key = &row.rollup_key;
        ASSIGN_OR_RETURN(key, ParseRollupKey(row.rollup_key));
        match = true;
        for (size_t d = 0; d < kRollupDimNames.size(); ++d) {
          if (filter.values[d] && filter.values[d] != key.values[d]) match = false;
        }
      }
      if (!match) continue;
      if (by_season) {
        const std::string& sport = *key.value(RollupDim::kSport);
        if (!seasons.contains(sport)) {
          ASSIGN_OR_RETURN(seasons[sport], CurrentSeason(r, sport, span.to));
        }
        if (row.season != seasons[sport]) continue;
      }
      auto [group, added] = groups.try_emplace(row.rollup_key);
      if (added) group->second.first = key;
      MergeSums(row.sums, group->second.second);
    }
    return Status::Ok();
  }));
  std::vector<Performance> out;
  for (auto& [slice, group] : groups) {
    std::optional<std::string> season;
    if (by_season) season = seasons[*group.first.value(RollupDim::kSport)];
    out.push_back(MakePerformance(std::move(group.first), span.window, span.from, span.to,
                                  std::move(season), group.second));
  }
  return out;
}

Result<std::vector<Performance>> RollupService::History(const RollupKey& key,
                                                        const PerformanceQuery& q) {
  // Each point is Get as of that day. A day-count window is summed afresh per point (no
  // running subtraction, so no drift); "all" and "season" are running totals.
  ASSIGN_OR_RETURN(Performance last, Get(key, q));
  const RollupWindow window = *last.key.window;
  const bool running = window == RollupWindow::kAll || window == RollupWindow::kSeason;
  const int64_t first_point = q.from ? DayOf(*q.from) : kFirstDay;
  std::vector<RollupDay> rows;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(
        rows, r.ListRollupDays({key.Dims(), key.Slice(), last.season, kFirstDay, last.day_to}));
    return Status::Ok();
  }));
  std::vector<Performance> out;
  RollupSums total;
  size_t lo = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    MergeSums(rows[i].sums, total);
    const int64_t day = rows[i].day;
    if (day < first_point || (i + 1 < rows.size() && rows[i + 1].day == day)) continue;
    const int64_t start = WindowStart(window, day);
    RollupSums sums = total;
    if (!running) {
      sums = {};
      while (rows[lo].day < start) ++lo;
      for (size_t j = lo; j <= i; ++j) MergeSums(rows[j].sums, sums);
    }
    out.push_back(MakePerformance(key, window, start, day, last.season, sums));
  }
  return out;
}

}  // namespace truthbook::service
