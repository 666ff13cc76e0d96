// Snapshot ingest through the service layer versus raw SQLite prepared inserts of the same
// rows, in the same run, on the same schema (DESIGN §5: target ratio >= 0.5). Both commit
// batches of kBatch rows with synchronous=FULL, for a fixed 200 batches (200k rows), so each
// fixture and its prefill are built once. Rows come from real football-data.co.uk
// 1X2 prices (../shared/data), repeated at later capture times to make as many as needed.
//
//   build/release/truthbook_benchmarks --benchmark_filter=Ingest
//   TRUTHBOOK_BENCH_PREFILL=5000000 build/release/truthbook_benchmarks --benchmark_filter=Ingest
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "base/uuid.h"
#include "service/event_service.h"
#include "service/snapshot_service.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook {
namespace {

constexpr int kBatch = 1000;
constexpr char kFile[] = TRUTHBOOK_DATA_DIR "/football-data/mmz4281/2324/E0.csv";

struct Match {
  std::string event_id;
  std::vector<std::array<double, 3>> books;  // home, draw, away decimal prices per book
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) out.push_back(cell);
  return out;
}

std::vector<Match> LoadMatches() {
  std::ifstream in(kFile);
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
service::CaptureSnapshotRequest MakeCapture(const std::vector<Match>& matches, int64_t n) {
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
  r.raw_canonical = raw.dump();
  r.body = nlohmann::json{{"event_id", r.event_id}, {"book", r.book},
                          {"market", r.market},     {"captured_at", FormatRfc3339(r.captured_at)},
                          {"quotes", quotes},       {"raw", raw}}
               .dump();
  return r;
}

class IngestFixture {
 public:
  IngestFixture() : dir_(std::filesystem::temp_directory_path() / ("tb-bench-" + ids_.Next())) {
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::sqlite::SqliteStore::Open((dir_ / "b.db").string(), clock_).value());
    matches_ = LoadMatches();
    service::EventService events(ctx());
    for (const Match& m : matches_) {
      auto stored = events.PutEvent({m.event_id, "SOCCER", "E0", "2023-24", "H", "A",
                                     TimePoint(std::chrono::hours(600000)), "scheduled"});
      if (!stored.ok()) {
        std::fprintf(stderr, "cannot store event: %s\n", stored.status().ToString().c_str());
        std::abort();
      }
    }
  }
  ~IngestFixture() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  service::Context ctx() { return {*store_, clock_, ids_}; }
  const std::vector<Match>& matches() const { return matches_; }
  std::string db_path() const { return (dir_ / "b.db").string(); }

  UuidV7Generator& ids() { return ids_; }

 private:
  SystemClock clock_;
  UuidV7Generator ids_{clock_};
  std::filesystem::path dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::vector<Match> matches_;
};

constexpr char kRawInsert[] =
    "INSERT INTO odds_snapshots (snapshot_id, event_id, book, market, captured_at, "
    "recorded_at, raw, quotes, devig_method, content_sha256) VALUES (?,?,?,?,?,?,?,?,?,?)";

// A row as a raw ingester would write it, computed outside the timed loop: the same body and
// a quotes document of the same shape and size as the service's.
struct RawRow {
  std::string id, event_id, book, body, quotes, hash;
  TimePoint captured_at;
};

std::vector<RawRow> MakeRawRows(IngestFixture& fx, int64_t first, int64_t n) {
  std::vector<RawRow> rows;
  for (int64_t i = first; i < first + n; ++i) {
    service::CaptureSnapshotRequest r = MakeCapture(fx.matches(), i);
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
    rows.push_back({fx.ids().Next(), r.event_id, r.book, r.body, quotes.dump(), Sha256Hex(r.body),
                    r.captured_at});
  }
  return rows;
}

// Inserts `rows`, committing every `batch` rows.
void InsertRawRows(store::sqlite::Connection& conn, const std::vector<RawRow>& rows,
                   size_t batch = kBatch) {
  for (size_t start = 0; start < rows.size(); start += batch) {
    (void)conn.Exec("BEGIN IMMEDIATE");
    for (size_t i = start; i < std::min(rows.size(), start + batch); ++i) {
      const RawRow& row = rows[i];
      auto st = conn.Prepare(kRawInsert);
      st->BindAll(row.id, row.event_id, row.book, std::string("moneyline_3way"), row.captured_at,
                  row.captured_at);
      st->BindBlob(7, row.body).Bind(8, row.quotes).Bind(9, std::string("multiplicative"));
      st->Bind(10, row.hash);
      if (!st->Run().ok()) std::abort();
    }
    (void)conn.Exec("COMMIT");
  }
}

// Adds `n` snapshots with raw inserts (the fast path), for the "store already full" runs.
void Prefill(IngestFixture& fx, int64_t n) {
  auto conn = store::sqlite::Connection::Open(fx.db_path(), false).value();
  for (int64_t start = 0; start < n; start += 100000) {
    InsertRawRows(*conn, MakeRawRows(fx, start, std::min<int64_t>(100000, n - start)), 100000);
  }
}

int64_t PrefillCount() {
  const char* env = std::getenv("TRUTHBOOK_BENCH_PREFILL");
  return env != nullptr ? std::atoll(env) : 0;
}

// Capture numbers far apart so the two benchmarks and the prefill never collide.
constexpr int64_t kServiceBase = 1'000'000'000;
constexpr int64_t kRawBase = 2'000'000'000;

void BM_IngestService(benchmark::State& state) {
  IngestFixture fx;
  Prefill(fx, PrefillCount());
  service::SnapshotService snapshots(fx.ctx());
  int64_t next = kServiceBase;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<service::CaptureSnapshotRequest> batch;
    for (int i = 0; i < kBatch; ++i) batch.push_back(MakeCapture(fx.matches(), next++));
    state.ResumeTiming();
    auto written = snapshots.CaptureOddsBatch(batch);
    if (!written.ok()) state.SkipWithError(written.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["prefilled"] = static_cast<double>(PrefillCount());
}
BENCHMARK(BM_IngestService)->Unit(benchmark::kMillisecond)->Iterations(200)->UseRealTime();

void BM_IngestRawSqlite(benchmark::State& state) {
  IngestFixture fx;
  Prefill(fx, PrefillCount());
  auto conn = store::sqlite::Connection::Open(fx.db_path(), false).value();
  int64_t next = kRawBase;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<RawRow> rows = MakeRawRows(fx, next, kBatch);
    next += kBatch;
    state.ResumeTiming();
    InsertRawRows(*conn, rows);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["prefilled"] = static_cast<double>(PrefillCount());
}
BENCHMARK(BM_IngestRawSqlite)->Unit(benchmark::kMillisecond)->Iterations(200)->UseRealTime();

}  // namespace
}  // namespace truthbook
