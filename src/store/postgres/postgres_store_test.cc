// The PostgreSQL backend: the store contract suite in a fresh schema per test on the server
// that TRUTHBOOK_PG names (skipped when it is unset), plus what only PostgreSQL has: the
// triggers hold even for a superuser in replica mode, migrators serialize, the conninfo's
// password stays out of Location().

#include "store/postgres/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <latch>
#include <random>
#include <set>
#include <thread>

#include "store/postgres/connection.h"
#include "store/postgres/schema.h"
#include "store/store_contract_test.h"

namespace truthbook::store::postgres {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHowToSet[] =
    "TRUTHBOOK_PG is not set: PostgreSQL tests skipped. Set it to a libpq conninfo of a "
    "server where the tests may create schemas, e.g. "
    "TRUTHBOOK_PG=\"$(scripts/pg_temp.sh start)\" (a throwaway cluster; stop it with "
    "scripts/pg_temp.sh stop DIR), or run scripts/test.sh, which does this.";

// The server under test, or nullopt (after GTEST_SKIP) when TRUTHBOOK_PG is unset.
std::optional<std::string> ServerConninfo() {
  const char* server = std::getenv("TRUTHBOOK_PG");
  if (server == nullptr || *server == '\0') {
    [] { GTEST_SKIP() << kHowToSet; }();
    return std::nullopt;
  }
  return std::string(server);
}

// A schema created for one test and dropped with everything in it on destruction. Its
// conninfo is the server's with search_path set to the schema.
class ScratchSchema {
 public:
  static Result<std::unique_ptr<ScratchSchema>> Create(const std::string& server) {
    static std::atomic<uint64_t> counter{0};
    std::random_device random;
    const std::string name =
        "tb_test_" + std::to_string(random()) + "_" + std::to_string(counter.fetch_add(1));
    ASSIGN_OR_RETURN(auto pairs, ParseConninfo(server));
    std::string options = "-c search_path=" + name;
    bool had_options = false;
    for (auto& [key, value] : pairs) {
      if (key == "options") {
        value += " " + options;
        had_options = true;
      }
    }
    if (!had_options) pairs.emplace_back("options", options);
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> admin, Connection::Open(server));
    RETURN_IF_ERROR(admin->Exec("CREATE SCHEMA " + name));
    return std::unique_ptr<ScratchSchema>(new ScratchSchema(server, name, FormatConninfo(pairs)));
  }
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;
  ~ScratchSchema() {
    Result<std::unique_ptr<Connection>> admin = Connection::Open(server_);
    if (admin.ok()) (void)(*admin)->Exec("DROP SCHEMA " + name_ + " CASCADE");
  }

  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

 private:
  ScratchSchema(std::string server, std::string name, std::string conninfo)
      : server_(std::move(server)), name_(std::move(name)), conninfo_(std::move(conninfo)) {}

  const std::string server_;
  const std::string name_;
  const std::string conninfo_;
};

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
      for (const std::string& edit : edits) {
        SCOPED_TRACE(std::string(role) + ": " + edit);
        Status s = psql->Exec(edit);
        EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
        EXPECT_THAT(s.message(), HasSubstr("is append-only"));
        psql->ClearFailure();
      }
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

// Two writes that take the same two keys in opposite orders deadlock; PostgreSQL aborts one
// (40P01) and the store runs that callback again from the start, so both succeed.
TEST_F(PostgresStoreTest, AWriteThatLosesADeadlockIsRunAgain) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  std::latch both_hold_their_first_key(2);
  std::atomic<int> runs{0};
  auto write = [&](const std::string& first, const std::string& second) {
    bool first_run = true;
    return store().Write([&](WriteTxn& t) -> Status {
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
  std::thread one([&] { ab = write("evt-a", "evt-b"); });
  std::thread two([&] { ba = write("evt-b", "evt-a"); });
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

}  // namespace
}  // namespace truthbook::store::postgres
