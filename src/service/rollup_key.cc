#include "service/rollup_key.h"

#include <algorithm>

namespace truthbook::service {
namespace {

constexpr std::array<std::string_view, 5> kWindowNames = {"7d", "30d", "90d", "season", "all"};

std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '%') {
      out += "%25";
    } else if (c == '|') {
      out += "%7C";
    } else if (c == '=') {
      out += "%3D";
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::string> Unescape(std::string_view value, std::string_view part) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    const std::string_view code = value.substr(i + 1, 2);
    if (code == "25") {
      out += '%';
    } else if (code == "7C" || code == "7c") {
      out += '|';
    } else if (code == "3D" || code == "3d") {
      out += '=';
    } else {
      return InvalidArgument("rollup_key: \"" + std::string(part) +
                             "\": '%' must start %25, %7C or %3D");
    }
    i += 2;
  }
  return out;
}

}  // namespace

std::string_view RollupWindowName(RollupWindow window) {
  return kWindowNames[static_cast<size_t>(window)];
}

Result<RollupWindow> ParseRollupWindow(std::string_view name) {
  for (size_t i = 0; i < kWindowNames.size(); ++i) {
    if (kWindowNames[i] == name) return static_cast<RollupWindow>(i);
  }
  return InvalidArgument("window: must be one of 7d, 30d, 90d, season, all");
}

std::string RollupKey::Dims() const {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) continue;
    if (!out.empty()) out += ',';
    out += kRollupDimNames[i];
  }
  return out;
}

std::string RollupKey::Slice() const {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) continue;
    if (!out.empty()) out += '|';
    out += kRollupDimNames[i];
    out += '=';
    out += Escape(*values[i]);
  }
  return out;
}

std::string RollupKey::ToString() const {
  std::string out = Slice();
  if (window) {
    if (!out.empty()) out += '|';
    out += "window=";
    out += RollupWindowName(*window);
  }
  return out;
}

bool RollupKey::Materialized() const {
  const auto fixed =
      std::count_if(values.begin(), values.end(),
                    [](const std::optional<std::string>& v) { return v.has_value(); });
  if (fixed <= 2) return true;
  return fixed == 3 && value(RollupDim::kSport) && value(RollupDim::kTier) &&
         value(RollupDim::kMarket);
}

Result<RollupKey> ParseRollupKey(std::string_view text) {
  RollupKey key;
  if (text.empty()) return key;
  size_t start = 0;
  while (start <= text.size()) {
    size_t bar = text.find('|', start);
    if (bar == std::string_view::npos) bar = text.size();
    const std::string_view part = text.substr(start, bar - start);
    start = bar + 1;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("rollup_key: \"" + std::string(part) + "\" is not name=value");
    }
    const std::string_view name = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    if (value.empty()) {
      return InvalidArgument("rollup_key: " + std::string(name) + " has an empty value");
    }
    if (name == "window") {
      if (key.window) return InvalidArgument("rollup_key: window appears twice");
      Result<RollupWindow> window = ParseRollupWindow(value);
      if (!window.ok()) return InvalidArgument("rollup_key: " + window.status().message());
      key.window = *window;
      continue;
    }
    const auto* dim = std::find(kRollupDimNames.begin(), kRollupDimNames.end(), name);
    if (dim == kRollupDimNames.end()) {
      return InvalidArgument("rollup_key: unknown dimension \"" + std::string(name) +
                             "\" (sport, league, tier, market, channel, book, window)");
    }
    std::optional<std::string>& slot =
        key.values[static_cast<size_t>(dim - kRollupDimNames.begin())];
    if (slot) return InvalidArgument("rollup_key: " + std::string(name) + " appears twice");
    ASSIGN_OR_RETURN(slot, Unescape(value, part));
  }
  return key;
}

}  // namespace truthbook::service
