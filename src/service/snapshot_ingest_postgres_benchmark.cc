// Snapshot ingest into PostgreSQL through the service layer (SnapshotService::CaptureOddsBatch:
// validation, de-vig, canonical JSON, SHA-256, dedup, then the store's COPY into a staging
// table and one INSERT ... SELECT) versus raw binary COPY of the same rows straight into
// odds_snapshots, in the same run, each in a scratch schema of the same shape (issue 6,
// acceptance 6: target ratio >= 0.5). Both commit batches of kBatch rows, 200 batches (200k
// rows). BM_PgStore* compare the store's two insert paths on prepared rows: COPY
// (InsertOddsSnapshots) and one prepared INSERT per row (InsertOddsSnapshot).
// Needs a server: TRUTHBOOK_PG="$(scripts/pg_temp.sh start)"; skipped when it is unset.
//
//   TRUTHBOOK_PG=... build/release/truthbook_benchmarks --benchmark_filter=Pg
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/uuid.h"
#include "service/event_service.h"
#include "service/ingest_rows_benchmark.h"
#include "service/snapshot_service.h"
#include "store/postgres/connection.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/scratch_schema.h"

namespace truthbook {
namespace {

using store::postgres::Connection;
using store::postgres::CopyRows;
using store::postgres::PostgresStore;
using store::postgres::ScratchSchema;

constexpr int kBatch = 1000;
constexpr int kBatches = 200;

template <typename T>
T OrDie(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void OrDie(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

// A migrated store in a scratch schema of TRUTHBOOK_PG, with every match's event stored and
// the partition of the rows' month made (outside the timed region).
class PgIngestFixture {
 public:
  // Null, after telling `state` why, when TRUTHBOOK_PG is unset.
  static std::unique_ptr<PgIngestFixture> Make(benchmark::State& state) {
    const char* server = std::getenv("TRUTHBOOK_PG");
    if (server == nullptr || *server == '\0') {
      state.SkipWithError(
          "TRUTHBOOK_PG is not set: PostgreSQL benchmarks skipped. Set it to a libpq conninfo, "
          "e.g. TRUTHBOOK_PG=\"$(scripts/pg_temp.sh start)\"");
      return nullptr;
    }
    return std::unique_ptr<PgIngestFixture>(new PgIngestFixture(server));
  }
  ~PgIngestFixture() { store_.reset(); }  // before the schema goes

  service::Context ctx() { return {*store_, clock_, ids_}; }
  const std::vector<bench::Match>& matches() const { return matches_; }
  UuidV7Generator& ids() { return ids_; }
  PostgresStore& store() { return *store_; }
  // A plain connection to the scratch schema.
  std::unique_ptr<Connection> Connect() {
    return OrDie(Connection::Open(schema_->conninfo()), "connect");
  }

 private:
  explicit PgIngestFixture(const std::string& server)
      : schema_(OrDie(ScratchSchema::Create(server), "create schema")),
        store_(OrDie(PostgresStore::Open(schema_->conninfo(), clock_), "open store")),
        matches_(bench::LoadMatches()) {
    service::EventService events(ctx());
    for (const bench::Match& m : matches_) {
      OrDie(events.PutEvent({m.event_id, "SOCCER", "E0", "2023-24", "H", "A",
                             TimePoint(std::chrono::hours(600000)), "scheduled"}),
            "store event");
    }
    // Every row of the run is in the month of the first (captures are minutes apart).
    const int64_t first = bench::MakeCapture(matches_, 0).captured_at.time_since_epoch().count();
    OrDie(Connect()->Exec("SELECT tb_odds_partition(" + std::to_string(first) + ")"), "partition");
  }

  SystemClock clock_;
  UuidV7Generator ids_{clock_};
  std::unique_ptr<ScratchSchema> schema_;
  std::unique_ptr<PostgresStore> store_;
  std::vector<bench::Match> matches_;
};

// The service's snapshots of raw rows (what CaptureOddsBatch would hand the store).
std::vector<ledger::OddsSnapshot> Snapshots(const std::vector<bench::RawRow>& rows) {
  std::vector<ledger::OddsSnapshot> out;
  for (const bench::RawRow& r : rows) {
    out.push_back({r.id, r.event_id, r.book, "moneyline_3way", r.captured_at, r.captured_at, r.body,
                   r.quotes, "multiplicative", r.hash, std::nullopt, std::nullopt});
  }
  return out;
}

void Report(benchmark::State& state) { state.SetItemsProcessed(state.iterations() * kBatch); }

void BM_PgIngestService(benchmark::State& state) {
  std::unique_ptr<PgIngestFixture> fx = PgIngestFixture::Make(state);
  if (!fx) return;
  service::SnapshotService snapshots(fx->ctx());
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<service::CaptureSnapshotRequest> batch;
    for (int i = 0; i < kBatch; ++i) batch.push_back(bench::MakeCapture(fx->matches(), next++));
    state.ResumeTiming();
    auto written = snapshots.CaptureOddsBatch(batch);
    if (!written.ok()) state.SkipWithError(written.status().ToString().c_str());
  }
  Report(state);
}
BENCHMARK(BM_PgIngestService)->Unit(benchmark::kMillisecond)->Iterations(kBatches)->UseRealTime();

// The baseline: the same rows (ids, JSON and hashes made outside the timed region), one binary
// COPY into odds_snapshots per transaction: no dedup, no odds_snapshot_ids row.
constexpr char kRawCopy[] =
    "COPY odds_snapshots (snapshot_id, event_id, book, market, captured_at, recorded_at, raw, "
    "quotes, devig_method, content_sha256) FROM STDIN (FORMAT binary)";

void BM_PgIngestRawCopy(benchmark::State& state) {
  std::unique_ptr<PgIngestFixture> fx = PgIngestFixture::Make(state);
  if (!fx) return;
  std::unique_ptr<Connection> conn = fx->Connect();
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<bench::RawRow> rows = bench::MakeRawRows(fx->matches(), fx->ids(), next, kBatch);
    next += kBatch;
    state.ResumeTiming();
    CopyRows copy;
    for (const bench::RawRow& r : rows) {
      copy.BeginRow(10).Add(r.id).Add(r.event_id).Add(r.book).Add(std::string("moneyline_3way"));
      copy.Add(r.captured_at).Add(r.captured_at).Add(r.body).Add(r.quotes);
      copy.Add(std::string("multiplicative")).Add(r.hash);
    }
    Status s = conn->Exec("BEGIN");
    if (s.ok()) s = conn->CopyIn(kRawCopy, copy.Finish());
    if (s.ok()) s = conn->Exec("COMMIT");
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  Report(state);
}
BENCHMARK(BM_PgIngestRawCopy)->Unit(benchmark::kMillisecond)->Iterations(kBatches)->UseRealTime();

// The store alone, on prepared snapshots: each batch written by `insert` in one transaction.
void RunStoreBatches(
    benchmark::State& state,
    const std::function<Status(store::WriteTxn&, const std::vector<ledger::OddsSnapshot>&)>&
        insert) {
  std::unique_ptr<PgIngestFixture> fx = PgIngestFixture::Make(state);
  if (!fx) return;
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<ledger::OddsSnapshot> batch =
        Snapshots(bench::MakeRawRows(fx->matches(), fx->ids(), next, kBatch));
    next += kBatch;
    state.ResumeTiming();
    Status s = fx->store().Write([&](store::WriteTxn& t) { return insert(t, batch); });
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  Report(state);
}

// COPY (what the service uses) ...
void BM_PgStoreCopy(benchmark::State& state) {
  RunStoreBatches(state, [](store::WriteTxn& t, const std::vector<ledger::OddsSnapshot>& batch) {
    return t.InsertOddsSnapshots(batch).status();
  });
}
BENCHMARK(BM_PgStoreCopy)->Unit(benchmark::kMillisecond)->Iterations(kBatches)->UseRealTime();

// ... versus one prepared INSERT (a round trip) per row.
void BM_PgStoreRowByRow(benchmark::State& state) {
  RunStoreBatches(state, [](store::WriteTxn& t, const std::vector<ledger::OddsSnapshot>& batch) {
    for (const ledger::OddsSnapshot& snapshot : batch) {
      RETURN_IF_ERROR(t.InsertOddsSnapshot(snapshot));
    }
    return Status::Ok();
  });
}
BENCHMARK(BM_PgStoreRowByRow)->Unit(benchmark::kMillisecond)->Iterations(kBatches)->UseRealTime();

}  // namespace
}  // namespace truthbook
