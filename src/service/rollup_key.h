// Performance rollup keys: the documented string that names one slice of the gradings and a
// window, e.g. "sport=NBA|market=spread|window=30d" (docs/PERFORMANCE.md "Keys").
// Pure value types and functions; safe from any thread.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace truthbook::service {

// The dimensions a rollup can fix, in canonical key order.
enum class RollupDim { kSport, kLeague, kTier, kMarket, kChannel, kBook };
inline constexpr std::array<std::string_view, 6> kRollupDimNames = {
    "sport", "league", "tier", "market", "channel", "book"};

// Days counted back from the as-of day (inclusive), the season, or everything.
enum class RollupWindow { k7d, k30d, k90d, kSeason, kAll };

std::string_view RollupWindowName(RollupWindow window);
// InvalidArgument "window: must be one of 7d, 30d, 90d, season, all".
Result<RollupWindow> ParseRollupWindow(std::string_view name);

// A parsed rollup key: the fixed value of each dimension (unset: any) and the window, if the
// key names one.
struct RollupKey {
  std::array<std::optional<std::string>, kRollupDimNames.size()> values;
  std::optional<RollupWindow> window;

  const std::optional<std::string>& value(RollupDim d) const {
    return values[static_cast<size_t>(d)];
  }
  std::optional<std::string>& value(RollupDim d) { return values[static_cast<size_t>(d)]; }

  // The fixed dimensions in canonical order, comma-separated: "sport,market"; "" for none.
  std::string Dims() const;
  // The canonical string without the window: "sport=NBA|market=spread"; "" for no dimension.
  // Values are percent-encoded where they hold '%', '|' or '='.
  std::string Slice() const;
  // The canonical string with the window (when set): "sport=NBA|market=spread|window=30d".
  std::string ToString() const;
  // True when rollups are materialized for this combination of dimensions: at most two of
  // them, or sport, tier and market together (the calibration segment).
  bool Materialized() const;
  friend bool operator==(const RollupKey&, const RollupKey&) = default;
};

// Parses "name=value|name=value|..." in any order; "window=..." is optional and "" is the key
// of all gradings. Failure: InvalidArgument naming the part that is wrong (an unknown
// dimension, a repeated one, an empty value, a part without '=', a bad window or escape).
Result<RollupKey> ParseRollupKey(std::string_view text);

}  // namespace truthbook::service
