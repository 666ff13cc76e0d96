// The PostgreSQL backend: the store contract suite in a fresh schema per test on the server
// that TRUTHBOOK_PG names (skipped when it is unset), plus what only PostgreSQL has: the
// triggers hold even for a superuser in replica mode, migrators serialize, the conninfo's
// password stays out of Location().

#include "store/postgres/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <random>
#include <set>
#include <thread>

#include "pg_scratch.h"
#include "store/postgres/connection.h"
#include "store/postgres/schema.h"
#include "store/postgres/scratch_schema.h"
#include "store/store_contract_test.h"

namespace truthbook::store::postgres {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

// The server under test, or nullopt (after GTEST_SKIP) when TRUTHBOOK_PG is unset.
std::optional<std::string> ServerConninfo() {
  std::optional<std::string> server = test_support::PostgresServer();
  if (!server) [] { GTEST_SKIP() << test_support::kNoPostgres; }();
  return server;
}

// A PostgresStore that drops its scratch schema after closing, so that each contract test
// gets, and leaves behind, nothing but its own schema.
class ScratchPostgresStore final : public Store {
 public:
  ScratchPostgresStore(std::unique_ptr<ScratchSchema> schema, std::unique_ptr<PostgresStore> store)
      : schema_(std::move(schema)), store_(std::move(store)) {}
  ~ScratchPostgresStore() override { store_.reset(); }  // close before the schema goes

  void WriteAsync(WriteFn fn, DoneFn done) override {
    store_->WriteAsync(std::move(fn), std::move(done));
  }
  Status Read(const ReadFn& fn) override { return store_->Read(fn); }
  std::string Location() const override { return store_->Location(); }
  std::string Backend() const override { return store_->Backend(); }

 private:
  std::unique_ptr<ScratchSchema> schema_;
  std::unique_ptr<PostgresStore> store_;
};

Result<std::unique_ptr<Store>> OpenScratchPostgres(const Clock& clock) {
  std::optional<std::string> server = ServerConninfo();
  if (!server) return Unavailable("TRUTHBOOK_PG is not set");
  ASSIGN_OR_RETURN(std::unique_ptr<ScratchSchema> schema, ScratchSchema::Create(*server));
  ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store,
                   PostgresStore::Open(schema->conninfo(), clock));
  return std::unique_ptr<Store>(new ScratchPostgresStore(std::move(schema), std::move(store)));
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreBackend{"postgres", OpenScratchPostgres}));

// ---- PostgreSQL only ----

class PostgresStoreTest : public StoreContractTest {
 protected:
  // Creates the schema only: each test opens (and may reopen) its own stores, and assigns
  // store_ when it wants the contract fixture's helpers on it.
  void SetUp() override {
    std::optional<std::string> server = ServerConninfo();
    if (!server) return;
    Result<std::unique_ptr<ScratchSchema>> schema = ScratchSchema::Create(*server);
    ASSERT_OK(schema);
    schema_ = std::move(schema).value();
  }
  void TearDown() override { store_.reset(); }  // before the schema is dropped

  std::unique_ptr<PostgresStore> OpenStore(PostgresOptions options = {}) {
    Result<std::unique_ptr<PostgresStore>> opened =
        PostgresStore::Open(schema_->conninfo(), clock_, options);
    EXPECT_OK(opened);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // A plain connection to the test's schema, with none of the store's habits.
  std::unique_ptr<Connection> Psql() {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(schema_->conninfo());
    EXPECT_OK(conn);
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  // Expects each of `edits` to fail on `psql` as an edit of an append-only table.
  static void ExpectAppendOnly(Connection& psql, const std::string& role,
                               const std::vector<std::string>& edits) {
    for (const std::string& edit : edits) {
      SCOPED_TRACE(role + ": " + edit);
      Status s = psql.Exec(edit);
      EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr("is append-only"));
      psql.ClearFailure();
    }
  }

  std::unique_ptr<ScratchSchema> schema_;
};

// Acceptance 4 of issue 6, at the store's level: every ledger table refuses UPDATE, DELETE
// (even one that matches no row) and TRUNCATE, for a superuser in replica mode too, which
// switches off ordinary triggers; and the one allowed DELETE, of an unreferenced odds
// snapshot, still works.
TEST_F(PostgresStoreTest, LedgerTablesRefuseEditsEvenInReplicaMode) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  ASSERT_OK(SeedEveryTable());
  ASSERT_OK(Insert(MakeOdds("odds-unread", "evt-1", At(99))));
  const std::map<std::string, int64_t> before = CountRows();

  // A text column of each ledger table.
  const std::map<std::string, std::string> column = {{"events", "status"},
                                                     {"odds_snapshots", "book"},
                                                     {"injury_snapshots", "team"},
                                                     {"sim_runs", "model_version"},
                                                     {"sim_run_inputs", "input_kind"},
                                                     {"predictions", "selection"},
                                                     {"published_predictions", "channel"},
                                                     {"event_results", "status"},
                                                     {"grading", "outcome"},
                                                     {"calibration_versions", "method"},
                                                     {"calibration_segments", "fallback"},
                                                     {"calibration_activations", "reason"},
                                                     {"rejected_attempts", "reason"},
                                                     {"ledger_entries", "kind"},
                                                     {"snapshot_cleanups", "deleted_ids"}};
  ASSERT_EQ(column.size(), LedgerTables().size());

  std::unique_ptr<Connection> psql = Psql();
  ASSERT_NE(psql, nullptr);
  for (const char* role : {"origin", "replica"}) {
    ASSERT_OK(psql->Exec(std::string("SET session_replication_role = ") + role));
    for (const std::string& table : LedgerTables()) {
      ASSERT_TRUE(column.contains(table)) << table;
      const std::string& col = column.at(table);
      std::vector<std::string> edits = {
          "UPDATE " + table + " SET " + col + " = 'edited'",
          "UPDATE " + table + " SET " + col + " = " + col + " WHERE false",
          "TRUNCATE " + table + " CASCADE"};
      if (table != "odds_snapshots") {
        edits.push_back("DELETE FROM " + table);
        edits.push_back("DELETE FROM " + table + " WHERE false");
      }
      ExpectAppendOnly(*psql, role, edits);
    }
    // Retention's DELETE still refuses a snapshot that a sim run read.
    Status s = psql->Exec("DELETE FROM odds_snapshots WHERE snapshot_id = 'odds-1'");
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << role << ": " << s.ToString();
    psql->ClearFailure();
  }
  EXPECT_EQ(CountRows(), before);
  ASSERT_OK(psql->Exec("SET session_replication_role = origin"));
  ASSERT_OK(psql->Exec("DELETE FROM odds_snapshots WHERE snapshot_id = 'odds-unread'"));
  EXPECT_EQ(CountRows()["odds_snapshots"], before.at("odds_snapshots") - 1);
}

TEST_F(PostgresStoreTest, EachMigrationIsRecordedOnceAcrossConcurrentOpens) {
  const TimePoint first_open = clock_.Now();
  std::vector<std::thread> openers;
  std::vector<Status> opened(4);
  for (size_t i = 0; i < opened.size(); ++i) {
    openers.emplace_back([&, i] {
      Result<std::unique_ptr<PostgresStore>> store =
          PostgresStore::Open(schema_->conninfo(), clock_);
      opened[i] = store.status();
    });
  }
  for (std::thread& t : openers) t.join();
  for (const Status& s : opened) EXPECT_OK(s);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_NE(OpenStore(), nullptr);

  std::unique_ptr<Connection> psql = Psql();
  ASSERT_NE(psql, nullptr);
  static constexpr char kApplied[] =
      "SELECT version, applied_at FROM schema_migrations ORDER BY version, applied_at";
  Statement s = psql->Prepare(kApplied);
  std::vector<std::pair<int64_t, TimePoint>> applied;
  for (;;) {
    Result<bool> row = s.Step();
    ASSERT_OK(row);
    if (!*row) break;
    applied.emplace_back(s.Int(0), s.Time(1));
  }
  std::vector<std::pair<int64_t, TimePoint>> expected;
  for (const Migration& m : Migrations()) expected.emplace_back(m.version, first_open);
  EXPECT_THAT(applied, ElementsAreArray(expected));
}

TEST_F(PostgresStoreTest, OpenNamesEveryTableItCreated) {
  std::set<std::string> heard;
  Result<std::unique_ptr<PostgresStore>> opened = PostgresStore::Open(
      schema_->conninfo(), clock_, {}, [&](const std::string& table) { heard.insert(table); });
  ASSERT_OK(opened);
  for (const std::string& table : TableNames()) EXPECT_TRUE(heard.contains(table)) << table;
}

TEST_F(PostgresStoreTest, LocationLeavesThePasswordOut) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->Backend(), "postgresql");
  EXPECT_THAT(store_->Location(), HasSubstr("search_path=" + schema_->name()));
  EXPECT_THAT(RedactConninfo("host=db.example user=tb password=s3cret dbname=tb"),
              Not(HasSubstr("s3cret")));
  EXPECT_THAT(RedactConninfo("postgresql://tb:s3cret@db.example:5432/tb"),
              Not(HasSubstr("s3cret")));
  EXPECT_THAT(RedactConninfo("postgresql://tb:s3cret@db.example:5432/tb"), HasSubstr("db.example"));
  EXPECT_THAT(RedactConninfo("host=x password='s3cret"), Not(HasSubstr("s3cret")));
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsUnavailable) {
  Result<std::unique_ptr<PostgresStore>> opened =
      PostgresStore::Open("host=/nonexistent-socket-dir dbname=none connect_timeout=1", clock_);
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable) << opened.status().ToString();
}

// A statement that fails aborts a PostgreSQL transaction; a callback that ignores the failure
// and returns OK must not be told its write committed.
TEST_F(PostgresStoreTest, AWriteThatIgnoresAFailedStatementReturnsThatFailure) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-1")));
  Status s = Write([&](WriteTxn& t) -> Status {
    RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-lost")));
    (void)t.InsertCalibrationSegment(MakeCalibrationSegment("cal-missing", "global"));
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-lost"); }), std::nullopt);
}

// A duplicate reported by ON CONFLICT DO NOTHING leaves the transaction usable, as SQLite's
// failed statement rolls back alone: the snapshot service relies on it.
TEST_F(PostgresStoreTest, ADuplicateInsertLeavesTheTransactionUsable) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  const ledger::OddsSnapshot first = MakeOdds("odds-1");
  ASSERT_OK(Insert(first));
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    ledger::OddsSnapshot again = first;
    again.snapshot_id = "odds-2";
    EXPECT_EQ(t.InsertOddsSnapshot(again).code(), StatusCode::kAlreadyExists);
    ASSIGN_OR_RETURN(auto found, t.FindOddsSnapshotByContent(first.event_id, first.captured_at,
                                                             first.content_sha256));
    EXPECT_EQ(found, first);
    return t.InsertEvent(MakeEvent("evt-after"));
  }));
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-after"); }), MakeEvent("evt-after"));
}

// Two stores on one schema stand for two servers: concurrent appends from both stay gap-free.
TEST_F(PostgresStoreTest, TwoStoresAppendingConcurrentlyKeepTheLogGapFree) {
  std::unique_ptr<PostgresStore> a = OpenStore();
  std::unique_ptr<PostgresStore> b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kPerStore = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (PostgresStore* store : {a.get(), b.get()}) {
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, store, t] {
        for (int i = 0; i < kPerStore / 4; ++i) {
          const std::string id = std::to_string(reinterpret_cast<uintptr_t>(store)) + "-" +
                                 std::to_string(t) + "-" + std::to_string(i);
          Status s = store->Write([&](WriteTxn& txn) -> Status {
            return txn.AppendLedgerEntry(MakeEntry(id)).status();
          });
          if (!s.ok()) ++failures;
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  store_ = std::move(a);
  std::vector<ledger::LedgerEntry> entries = ListLedger(0, 4 * kPerStore);
  ASSERT_EQ(entries.size(), static_cast<size_t>(2 * kPerStore));
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].log_index, static_cast<int64_t>(i));
  }
}

// Group commit: writes queued together share one transaction, each in a savepoint (sixteen
// writers queue on the store's two writer threads, so batches form). A write that fails
// after appending to the log and staging snapshots is rolled back alone; the others commit,
// and the log stays gap-free in the order of the writes that committed.
TEST_F(PostgresStoreTest, AFailedWriteInABatchIsRolledBackAloneAndTheLogStaysGapFree) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 12;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "w-" + std::to_string(t) + "-" + std::to_string(i);
        const bool fails = (t + i) % 3 == 0;
        Status s = store().Write([&](WriteTxn& txn) -> Status {
          RETURN_IF_ERROR(txn.AppendLedgerEntry(MakeEntry(id)).status());
          const std::vector<ledger::OddsSnapshot> odds = {MakeOdds(id + "-a"), MakeOdds(id + "-b")};
          RETURN_IF_ERROR(txn.InsertOddsSnapshots(odds).status());
          return fails ? InvalidArgument("refused on purpose") : Status::Ok();
        });
        EXPECT_EQ(s.ok(), !fails) << id << ": " << s.ToString();
        failed += fails ? 1 : 0;
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const int committed = kThreads * kPerThread - failed.load();
  std::vector<ledger::LedgerEntry> entries = ListLedger(0, kThreads * kPerThread);
  ASSERT_EQ(entries.size(), static_cast<size_t>(committed));
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].log_index, static_cast<int64_t>(i));
    const std::string& id = entries[i].record_id;
    EXPECT_TRUE(Read([&](Reader& r) { return r.GetOddsSnapshot(id + "-b"); }).has_value()) << id;
  }
  EXPECT_EQ(CountRows()["odds_snapshots"], 2 * committed);
}

// Two writes that take the same two keys in opposite orders deadlock; PostgreSQL aborts one
// (40P01) and the store runs that callback again from the start, so both succeed. The writes
// come from two stores (two servers): one store may run its queued writes one after another
// in one transaction, where these two would wait for each other forever.
TEST_F(PostgresStoreTest, AWriteThatLosesADeadlockIsRunAgain) {
  store_ = OpenStore();
  std::unique_ptr<PostgresStore> other = OpenStore();
  ASSERT_NE(store_, nullptr);
  ASSERT_NE(other, nullptr);
  std::latch both_hold_their_first_key(2);
  std::atomic<int> runs{0};
  auto write = [&](Store& store, const std::string& first, const std::string& second) {
    bool first_run = true;
    return store.Write([&](WriteTxn& t) -> Status {
      ++runs;
      Status s = t.InsertEvent(MakeEvent(first));
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
      if (first_run) both_hold_their_first_key.arrive_and_wait();
      first_run = false;
      s = t.InsertEvent(MakeEvent(second));
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
      return Status::Ok();
    });
  };
  Status ab;
  Status ba;
  std::thread one([&] { ab = write(store(), "evt-a", "evt-b"); });
  std::thread two([&] { ba = write(*other, "evt-b", "evt-a"); });
  one.join();
  two.join();
  EXPECT_OK(ab);
  EXPECT_OK(ba);
  EXPECT_GE(runs.load(), 3);  // the loser ran again (and may have lost a second race)
  EXPECT_EQ(CountRows()["events"], 2);
}

// Two servers refreshing the rollups of one day at once: each refresh replaces the day whole,
// neither fails on the rows the other inserted.
TEST_F(PostgresStoreTest, ConcurrentRefreshesOfOneRollupDayAllSucceed) {
  std::unique_ptr<PostgresStore> a = OpenStore();
  std::unique_ptr<PostgresStore> b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int64_t kDay = 20000;
  auto rows_of = [](const std::string& key) {
    RollupDay d;
    d.rollup_key = key;
    d.dims = "sport";
    d.day = kDay;
    d.season = "2024-25";
    d.sums.count_by_outcome[0] = 1;
    return std::vector<RollupDay>{d};
  };
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (PostgresStore* store : {a.get(), b.get()}) {
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, store] {
        for (int i = 0; i < 10; ++i) {
          Status s = store->Write(
              [&](WriteTxn& txn) { return txn.ReplaceRollupDay(kDay, rows_of("sport=NBA")); });
          if (!s.ok()) ++failures;
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  store_ = std::move(a);
  RollupQuery q;
  q.dims = "sport";
  q.day_from = kDay;
  q.day_to = kDay;
  EXPECT_EQ(Read([&](Reader& r) { return r.ListRollupDays(q); }), rows_of("sport=NBA"));
}

// ---- odds_snapshots partitions (migration 6) ----

class PostgresPartitionTest : public PostgresStoreTest {
 protected:
  static TimePoint Day(std::chrono::year_month_day day) {
    return TimePoint(std::chrono::sys_days(day));
  }

  // Runs `sql` (one row, one column) on `psql` and returns the column as text.
  static std::string Query(Connection& psql, const char* sql) {
    Statement s = psql.Prepare(sql);
    Result<bool> row = s.Step();
    EXPECT_OK(row);
    return row.ok() && *row ? s.Text(0) : "(no row)";
  }

  // The partitions of odds_snapshots, by name.
  std::vector<std::string> Partitions() {
    static constexpr char kPartitions[] =
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'odds_snapshots'::regclass ORDER BY 1";
    std::unique_ptr<Connection> psql = Psql();
    std::vector<std::string> names;
    Statement s = psql->Prepare(kPartitions);
    for (;;) {
      Result<bool> row = s.Step();
      EXPECT_OK(row);
      if (!row.ok() || !*row) return names;
      names.push_back(s.Text(0));
    }
  }
};

// A version-5 database holding snapshots of two months, one read by a sim run and one the
// closing line of a grading, migrates: every row is kept in its month's partition, ids stay
// unique, and the retention rules and grading's foreign key still hold.
TEST_F(PostgresPartitionTest, MigrationSixMovesTheSnapshotsOfAVersionFiveDatabase) {
  using namespace std::chrono;
  std::unique_ptr<Connection> psql = Psql();
  ASSERT_NE(psql, nullptr);
  ASSERT_OK(
      psql->Exec("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  for (const Migration& m : Migrations()) {
    if (m.version > 5) break;
    if (!m.sql.empty()) {
      ASSERT_OK(psql->Exec(m.sql)) << m.name;
    }
    ASSERT_OK(psql->Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
                         ", 'v', 0)"));
  }
  const int64_t in_2019 = Day(year(2019) / July / 31).time_since_epoch().count();
  const int64_t in_2025 = Day(year(2025) / March / 1).time_since_epoch().count();
  const std::string odds_values =
      "('odds-2019', 'evt-1', 'pinnacle', 'moneyline', " + std::to_string(in_2019) +
      ", 1, '\\x00ff', '[]', 'multiplicative', 'sha-2019'), "
      "('odds-2025', 'evt-1', 'pinnacle', 'moneyline', " +
      std::to_string(in_2025) +
      ", 1, '\\x01', '[]', 'multiplicative', 'sha-2025'), "
      "('odds-closing', 'evt-1', 'pinnacle', 'moneyline', " +
      std::to_string(in_2025 + 1) + ", 1, '\\x02', '[]', 'multiplicative', 'sha-closing')";
  ASSERT_OK(psql->Exec(
      "INSERT INTO events VALUES ('evt-1', 1, 'basketball', 'NBA', '2024-25', 'BOS', 'NYK', 0, "
      "'scheduled', 'b', 0);"
      "INSERT INTO odds_snapshots (snapshot_id, event_id, book, market, captured_at, "
      "recorded_at, raw, quotes, devig_method, content_sha256) VALUES " +
      odds_values +
      ";"
      "INSERT INTO sim_runs VALUES ('run-1', 'manual', 'm', 'f', 'p', 'g', false, 1, 1, '{}', "
      "0, 0, 0);"
      "INSERT INTO sim_run_inputs (sim_run_id, input_kind, snapshot_id, content_sha256) "
      "VALUES ('run-1', 'odds_snapshot', 'odds-2019', 'sha-2019');"
      "INSERT INTO predictions (prediction_id, sim_run_id, event_id, market, selection, book, "
      "price_decimal, price_american, raw_prob, tier, stake_units, recorded_at) VALUES "
      "('pred-1', 'run-1', 'evt-1', 'moneyline', 'home', 'pinnacle', 2, 100, 0.5, 'B', 1, 0);"
      "INSERT INTO ledger_entries VALUES (0, 'publish', 'pub-1', '', 'e0', 0);"
      "INSERT INTO ledger_entries VALUES (1, 'event_result', 'res-1', '', 'e1', 0);"
      "INSERT INTO ledger_entries VALUES (2, 'grading', 'grd-1', '', 'e2', 0);"
      "INSERT INTO published_predictions VALUES (0, 'pub-1', 'pred-1', 'web', 'public', true, "
      "0, 'r');"
      "INSERT INTO event_results (log_index, result_id, event_id, revision, status, "
      "player_stats, recorded_at) VALUES (1, 'res-1', 'evt-1', 1, 'final', '{}', 0);"
      "INSERT INTO grading (log_index, grading_id, publish_id, result_id, outcome, "
      "stake_convention, stake, profit_units, price_decimal, closing_snapshot_id, devig_method, "
      "prob_used, prob, graded_at) VALUES (2, 'grd-1', 'pub-1', 'res-1', 'WIN', 'risk', 1, 1, "
      "2, 'odds-closing', 'multiplicative', 'raw', 0.5, 0);"));

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Query(*psql, "SELECT MAX(version)::text FROM schema_migrations"), "6");
  for (const char* id : {"odds-2019", "odds-2025", "odds-closing"}) {
    std::optional<ledger::OddsSnapshot> s = Read([&](Reader& r) { return r.GetOddsSnapshot(id); });
    ASSERT_TRUE(s.has_value()) << id;
    EXPECT_EQ(s->content_sha256, "sha-" + std::string(id).substr(5));
  }
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-2019"); })->raw,
            std::string("\0\xff", 2));
  EXPECT_EQ(Query(*psql,
                  "SELECT string_agg(tableoid::regclass::text || ':' || snapshot_id, ',' "
                  "ORDER BY snapshot_id) FROM odds_snapshots"),
            "odds_snapshots_2019_07:odds-2019,odds_snapshots_2025_03:odds-2025,"
            "odds_snapshots_2025_03:odds-closing");
  EXPECT_EQ(Query(*psql, "SELECT COUNT(DISTINCT snapshot_id)::text FROM odds_snapshot_ids"), "3");
  EXPECT_EQ(
      Query(
          *psql,
          "SELECT confrelid::regclass::text FROM pg_constraint "
          "WHERE conrelid = 'grading'::regclass AND conname = 'grading_closing_snapshot_id_fkey'"),
      "odds_snapshot_ids");

  // Ids stay unique across months: a new snapshot with a migrated id, in another month.
  ledger::OddsSnapshot taken = MakeOdds("odds-2019", "evt-1", At(60 * 24 * 100));
  EXPECT_EQ(Insert(taken).code(), StatusCode::kAlreadyExists);
  // Retention still refuses what a sim run read and a grading's closing line.
  for (const char* id : {"odds-2019", "odds-closing"}) {
    Status s = Write([&](WriteTxn& t) { return t.DeleteOddsSnapshot(id); });
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << id << ": " << s.ToString();
  }
  Status s = psql->Exec("DELETE FROM odds_snapshot_ids WHERE snapshot_id = 'odds-closing'");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  psql->ClearFailure();
  ASSERT_OK(Write([](WriteTxn& t) { return t.DeleteOddsSnapshot("odds-2025"); }));
  EXPECT_EQ(Query(*psql, "SELECT COUNT(*)::text FROM odds_snapshot_ids"), "2");
}

// Statement and TRUNCATE triggers are not cloned to partitions: each partition has its own,
// so an edit aimed at a partition directly fails as one aimed at the parent, also for a
// superuser in replica mode, on partitions made by the migration and made later.
TEST_F(PostgresPartitionTest, EditsOfAPartitionDirectlyAreRefusedEvenInReplicaMode) {
  using namespace std::chrono;
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  ASSERT_OK(SeedEveryTable());  // odds-1, read by a sim run, in 2025-03
  ASSERT_OK(Insert(MakeOdds("odds-nov", "evt-1", Day(year(2026) / November / 15))));
  const std::map<std::string, int64_t> before = CountRows();

  std::unique_ptr<Connection> psql = Psql();
  ASSERT_NE(psql, nullptr);
  // Every partition has the five triggers, all ENABLE ALWAYS.
  EXPECT_EQ(Query(*psql,
                  "SELECT string_agg(DISTINCT n::text, ',') FROM (SELECT COUNT(t.oid) "
                  "FILTER (WHERE t.tgenabled = 'A') AS n FROM pg_inherits i "
                  "LEFT JOIN pg_trigger t ON t.tgrelid = i.inhrelid "
                  "WHERE i.inhparent = 'odds_snapshots'::regclass GROUP BY i.inhrelid) c"),
            "5");
  for (const char* role : {"origin", "replica"}) {
    ASSERT_OK(psql->Exec(std::string("SET session_replication_role = ") + role));
    for (const std::string table :
         {"odds_snapshots_2026_11", "odds_snapshots_2025_03", "odds_snapshot_ids"}) {
      std::vector<std::string> edits = {
          "UPDATE " + table + " SET captured_at = captured_at + 1",
          "UPDATE " + table + " SET captured_at = captured_at WHERE false",
          "TRUNCATE " + table + " CASCADE"};
      // (Without CASCADE, PostgreSQL itself refuses to truncate the table grading references.)
      if (table != "odds_snapshot_ids") edits.push_back("TRUNCATE " + table);
      ExpectAppendOnly(*psql, role, edits);
    }
    Status s = psql->Exec("DELETE FROM odds_snapshots_2025_03 WHERE snapshot_id = 'odds-1'");
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << role << ": " << s.ToString();
    psql->ClearFailure();
  }
  EXPECT_EQ(CountRows(), before);
}

TEST_F(PostgresPartitionTest, OpenCreatesThisMonthAndTheNextThreeAndAnInsertAnyOtherMonth) {
  using namespace std::chrono;
  clock_.Set(Day(year(2025) / November / 30) + hours(23));
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_THAT(Partitions(), ElementsAreArray({"odds_snapshots_2025_11", "odds_snapshots_2025_12",
                                              "odds_snapshots_2026_01", "odds_snapshots_2026_02"}));
  // Historical data is real: a 2019 capture gets its month.
  ASSERT_OK(Insert(MakeOdds("odds-2019", "evt-1", Day(year(2019) / May / 1))));
  EXPECT_THAT(Partitions(), ElementsAreArray({"odds_snapshots_2019_05", "odds_snapshots_2025_11",
                                              "odds_snapshots_2025_12", "odds_snapshots_2026_01",
                                              "odds_snapshots_2026_02"}));
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-2019"); })->captured_at,
            Day(year(2019) / May / 1));
}

// Three servers starting in one month, and ingesting history they share, race to create the
// same partitions: each month is created once and every write succeeds.
TEST_F(PostgresPartitionTest, StoresCreatingTheSameMonthsConcurrentlyAllSucceed) {
  using namespace std::chrono;
  std::vector<std::unique_ptr<PostgresStore>> stores(3);
  {
    std::vector<std::thread> openers;
    for (auto& store : stores) openers.emplace_back([&] { store = OpenStore(); });
    for (std::thread& t : openers) t.join();
  }
  for (const auto& store : stores) ASSERT_NE(store, nullptr);
  constexpr int kMonths = 24;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (size_t k = 0; k < stores.size(); ++k) {
    writers.emplace_back([&, k] {
      std::vector<ledger::OddsSnapshot> batch;
      for (int m = 0; m < kMonths; ++m) {
        // The same content from every store (one row per month is stored), distinct ids.
        ledger::OddsSnapshot s = MakeOdds("odds-" + std::to_string(m), "evt-1",
                                          Day(year(2019) / January / 1) + days(31 * m));
        s.snapshot_id += "-from-" + std::to_string(k);
        batch.push_back(s);
      }
      Status s =
          stores[k]->Write([&](WriteTxn& t) { return t.InsertOddsSnapshots(batch).status(); });
      if (!s.ok()) {
        ADD_FAILURE() << s.ToString();
        ++failures;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<std::string> partitions = Partitions();
  EXPECT_EQ(std::set<std::string>(partitions.begin(), partitions.end()).size(), partitions.size());
  EXPECT_EQ(std::count_if(partitions.begin(), partitions.end(),
                          [](const std::string& p) {
                            return p.starts_with("odds_snapshots_2019") ||
                                   p.starts_with("odds_snapshots_2020");
                          }),
            kMonths);
  store_ = std::move(stores[0]);
  EXPECT_EQ(CountRows()["odds_snapshots"], kMonths);
}

// What PostgreSQL cannot store fails the batch with InvalidArgument naming the value, and the
// write leaves nothing.
TEST_F(PostgresPartitionTest, InsertOddsSnapshotsRefusesValuesPostgresCannotStore) {
  using namespace std::chrono;
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  ledger::OddsSnapshot not_utf8 = MakeOdds("odds-2");
  not_utf8.book = "pinn\xff";
  ledger::OddsSnapshot nul = MakeOdds("odds-2");
  nul.book = std::string("pinn\0acle", 8);
  ledger::OddsSnapshot far = MakeOdds("odds-2", "evt-1", Day(year(10000) / January / 1));
  ledger::OddsSnapshot before_year_one = MakeOdds("odds-2", "evt-1", Day(year(0) / June / 1));
  for (const auto& [bad, says] : std::vector<std::pair<ledger::OddsSnapshot, std::string>>{
           {not_utf8, "line 2, column book"},
           {nul, "line 2, column book"},
           {far, "outside years 0001-9999"},
           {before_year_one, "outside years 0001-9999"}}) {
    SCOPED_TRACE(says);
    Result<std::vector<std::optional<ledger::OddsSnapshot>>> stored =
        InsertBatch({MakeOdds("odds-1"), bad});
    EXPECT_EQ(stored.status().code(), StatusCode::kInvalidArgument) << stored.status().ToString();
    EXPECT_THAT(stored.status().message(), HasSubstr(says));
    EXPECT_EQ(CountRows()["odds_snapshots"], 0);
  }
}

}  // namespace
}  // namespace truthbook::store::postgres
