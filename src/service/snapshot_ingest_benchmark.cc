// Snapshot ingest through the service layer versus raw SQLite prepared inserts of the same
// rows, in the same run, on the same schema (DESIGN §5: target ratio >= 0.5). Both commit
// batches of kBatch rows with synchronous=FULL, for a fixed 200 batches (200k rows), so each
// fixture and its prefill are built once. Rows come from real football-data.co.uk
// 1X2 prices (../shared/data, ingest_rows_benchmark.h), repeated at later capture times to make
// as many as needed.
//
//   build/release/truthbook_benchmarks --benchmark_filter=Ingest
//   TRUTHBOOK_BENCH_PREFILL=5000000 build/release/truthbook_benchmarks --benchmark_filter=Ingest
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/uuid.h"
#include "service/event_service.h"
#include "service/ingest_rows_benchmark.h"
#include "service/snapshot_service.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook {
namespace {

using bench::LoadMatches;
using bench::MakeCapture;
using bench::Match;
using bench::RawRow;

constexpr int kBatch = 1000;

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

std::vector<RawRow> MakeRawRows(IngestFixture& fx, int64_t first, int64_t n) {
  return bench::MakeRawRows(fx.matches(), fx.ids(), first, n);
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
