// Snapshot rows for the ingest benchmarks (SQLite and PostgreSQL): real 1X2 prices of
// football-data.co.uk (../shared/data), turned into capture requests, repeated at later capture
// times to make as many distinct rows as needed, and the same rows as a raw ingester would
// write them. Benchmark-only (needs TRUTHBOOK_DATA_DIR); functions without shared state.
#pragma once

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "base/uuid.h"
#include "service/requests.h"

namespace truthbook::bench {

inline constexpr char kFootballFile[] = TRUTHBOOK_DATA_DIR "/football-data/mmz4281/2324/E0.csv";

struct Match {
  std::string event_id;
  std::vector<std::array<double, 3>> books;  // home, draw, away decimal prices per book
};

inline std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) out.push_back(cell);
  return out;
}

// The matches of kFootballFile with at least one book's prices.
inline std::vector<Match> LoadMatches() {
  std::ifstream in(kFootballFile);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header = SplitCsv(line);
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  std::vector<Match> matches;
  while (std::getline(in, line)) {
    std::vector<std::string> cells = SplitCsv(line);
    std::string date = cells[col("Date")];
    std::replace(date.begin(), date.end(), '/', '-');  // event ids are path segments
    Match m{"e0-2324-" + date + "-" + cells[col("HomeTeam")], {}};
    for (const char* book : {"B365", "BW", "IW", "PS", "WH", "VC"}) {
      std::string b(book);
      size_t h = col(b + "H"), d = col(b + "D"), a = col(b + "A");
      if (a >= cells.size() || cells[h].empty() || cells[d].empty() || cells[a].empty()) continue;
      m.books.push_back({std::stod(cells[h]), std::stod(cells[d]), std::stod(cells[a])});
    }
    if (!m.books.empty()) matches.push_back(std::move(m));
  }
  return matches;
}

// The n-th capture request: matches in turn, books in turn, each pass one minute later, so
// every n gives distinct content.
inline service::CaptureSnapshotRequest MakeCapture(const std::vector<Match>& matches, int64_t n) {
  const Match& m = matches[n % matches.size()];
  const auto& prices = m.books[(n / matches.size()) % m.books.size()];
  int64_t round = n / static_cast<int64_t>(matches.size());
  service::CaptureSnapshotRequest r;
  r.event_id = m.event_id;
  r.book = "book" + std::to_string((n / matches.size()) % m.books.size());
  r.market = "moneyline_3way";
  r.captured_at = TimePoint(std::chrono::minutes(29'000'000 + round));
  const char* selections[] = {"home", "draw", "away"};
  nlohmann::json quotes = nlohmann::json::array();
  for (int i = 0; i < 3; ++i) {
    r.quotes.push_back({selections[i], std::nullopt, {std::nullopt, prices[i]}});
    quotes.push_back({{"selection", selections[i]}, {"price", {{"decimal", prices[i]}}}});
  }
  nlohmann::json raw = {{"feed", "football-data"}, {"prices", {prices[0], prices[1], prices[2]}}};
  r.raw_canonical = CanonicalJson(raw).value();  // as the codec hands it over
  r.body = nlohmann::json{{"event_id", r.event_id}, {"book", r.book},
                          {"market", r.market},     {"captured_at", FormatRfc3339(r.captured_at)},
                          {"quotes", quotes},       {"raw", raw}}
               .dump();
  return r;
}

// A row as a raw ingester would write it, computed outside the timed loop: the same body and
// a quotes document of the same shape and size as the service's.
struct RawRow {
  std::string id, event_id, book, body, quotes, hash;
  TimePoint captured_at;
};

// Rows of captures first .. first + n - 1, with fresh ids.
inline std::vector<RawRow> MakeRawRows(const std::vector<Match>& matches, UuidV7Generator& ids,
                                       int64_t first, int64_t n) {
  std::vector<RawRow> rows;
  for (int64_t i = first; i < first + n; ++i) {
    service::CaptureSnapshotRequest r = MakeCapture(matches, i);
    nlohmann::json quotes = nlohmann::json::array();
    for (const service::QuoteInput& q : r.quotes) {
      double d = *q.price.decimal;
      quotes.push_back({{"selection", q.selection},
                        {"line", nullptr},
                        {"decimal", d},
                        {"american", d >= 2 ? 100 * (d - 1) : -100 / (d - 1)},
                        {"implied", 1 / d},
                        {"fair_prob", 1 / d}});
    }
    rows.push_back(
        {ids.Next(), r.event_id, r.book, r.body, quotes.dump(), Sha256Hex(r.body), r.captured_at});
  }
  return rows;
}

}  // namespace truthbook::bench
