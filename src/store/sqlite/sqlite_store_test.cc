// The SQLite backend: the store contract suite on a fresh database file per test, plus what
// only SQLite has (a file to reopen, recorded migrations, group-commit batches).

#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <latch>
#include <set>
#include <thread>

#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"
#include "store/store_contract_test.h"

namespace truthbook::store::sqlite {
namespace {

using ::testing::ElementsAreArray;

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "truthbook-store-XXXXXX");
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }

  // Empty when the directory could not be created.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A SqliteStore that deletes its scratch directory after closing, so that each contract test
// gets, and leaves behind, nothing but its own database file.
class ScratchSqliteStore final : public Store {
 public:
  ScratchSqliteStore(std::unique_ptr<ScratchDir> dir, std::unique_ptr<SqliteStore> store)
      : dir_(std::move(dir)), store_(std::move(store)) {}
  ~ScratchSqliteStore() override { store_.reset(); }  // close before the directory goes

  void WriteAsync(WriteFn fn, DoneFn done) override {
    store_->WriteAsync(std::move(fn), std::move(done));
  }
  Status Read(const ReadFn& fn) override { return store_->Read(fn); }
  std::string Location() const override { return store_->Location(); }
  std::string Backend() const override { return store_->Backend(); }

 private:
  std::unique_ptr<ScratchDir> dir_;
  std::unique_ptr<SqliteStore> store_;
};

Result<std::unique_ptr<Store>> OpenScratchSqlite(const Clock& clock) {
  auto dir = std::make_unique<ScratchDir>();
  if (dir->path().empty()) return Unavailable("cannot create a scratch directory");
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store,
                   SqliteStore::Open((dir->path() / "truthbook.db").string(), clock));
  return std::unique_ptr<Store>(new ScratchSqliteStore(std::move(dir), std::move(store)));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite", OpenScratchSqlite}));

// ---- SQLite only ----

class SqliteStoreTest : public StoreContractTest {
 protected:
  // Opens nothing: each test opens (and may reopen) its own file, and assigns store_ when it
  // wants the contract fixture's helpers on it.
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::string DbPath() const { return (dir_.path() / "truthbook.db").string(); }

  std::unique_ptr<SqliteStore> OpenStore() {
    Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(DbPath(), clock_);
    EXPECT_OK(opened);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // (version, applied_at) of every row of schema_migrations, read through a raw connection.
  std::vector<std::pair<int64_t, TimePoint>> AppliedMigrations() {
    static constexpr char kApplied[] =
        "SELECT version, applied_at FROM schema_migrations ORDER BY version, applied_at";
    std::vector<std::pair<int64_t, TimePoint>> rows;
    Result<std::unique_ptr<Connection>> conn = Connection::Open(DbPath(), /*read_only=*/true);
    EXPECT_OK(conn);
    if (!conn.ok()) return rows;
    Result<Statement> s = (*conn)->Prepare(kApplied);
    EXPECT_OK(s);
    if (!s.ok()) return rows;
    for (;;) {
      Result<bool> row = s->Step();
      EXPECT_OK(row);
      if (!row.ok() || !*row) return rows;
      rows.emplace_back(s->Int(0), s->Time(1));
    }
  }

  ScratchDir dir_;
};

TEST_F(SqliteStoreTest, ReopeningTheFileKeepsEveryRecord) {
  Seeded seeded;
  {
    std::unique_ptr<SqliteStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->Write([&](WriteTxn& t) { return WriteAll(t, seeded); }));
  }
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-1"); }), seeded.event);
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-1"); }), seeded.odds);
  EXPECT_EQ(Read([](Reader& r) { return r.GetInjurySnapshot("injury-1"); }), seeded.injury);
  EXPECT_EQ(Read([](Reader& r) { return r.GetSimRun("run-1"); }), seeded.run);
  EXPECT_EQ(Read([](Reader& r) { return r.GetPrediction("pred-1"); }), seeded.prediction);
  EXPECT_EQ(Read([](Reader& r) { return r.PublishForPrediction("pred-1"); }), seeded.publish);
  EXPECT_EQ(Read([](Reader& r) { return r.LatestResult("evt-1"); }), seeded.result);
  EXPECT_EQ(Read([](Reader& r) { return r.ListGradings("pub-1"); }),
            std::vector<ledger::Grading>{seeded.grading});
  EXPECT_EQ(Read([](Reader& r) { return r.GetCalibrationVersion("cal-1"); }), seeded.calibration);
  EXPECT_EQ(Read([](Reader& r) { return r.ListCalibrationSegments("cal-1"); }),
            std::vector<ledger::CalibrationSegment>{seeded.segment});
  EXPECT_EQ(LatestActivation(), seeded.activation);
  EXPECT_EQ(LedgerSize(), kSeededLedgerSize);

  // The log continues where it stopped.
  Result<int64_t> next = -1;
  ASSERT_OK(store().Write([&](WriteTxn& t) {
    next = t.AppendLedgerEntry(MakeEntry("after-reopen"));
    return next.status();
  }));
  EXPECT_EQ(*next, kSeededLedgerSize);
}

TEST_F(SqliteStoreTest, EachMigrationIsRecordedOnceAcrossOpens) {
  const TimePoint first_open = clock_.Now();
  ASSERT_NE(OpenStore(), nullptr);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_NE(OpenStore(), nullptr);

  std::vector<std::pair<int64_t, TimePoint>> expected;
  for (const Migration& m : Migrations()) expected.emplace_back(m.version, first_open);
  EXPECT_THAT(AppliedMigrations(), ElementsAreArray(expected));
}

TEST_F(SqliteStoreTest, OpenNamesEveryTableItCreated) {
  std::set<std::string> heard;
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(
      DbPath(), clock_, {}, [&](const std::string& table) { heard.insert(table); });
  ASSERT_OK(opened);
  for (const std::string& table : TableNames()) EXPECT_TRUE(heard.contains(table)) << table;
}

// Half the callbacks of one group-commit batch fail (by returning an error after writing, or
// by a duplicate insert); the other half must commit exactly as if alone.
TEST_F(SqliteStoreTest, FailingCallbacksInAGroupCommitBatchDoNotAffectTheOthers) {
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  ASSERT_OK(Insert(MakeEvent("evt-seed")));

  constexpr int kThreads = 32;
  enum class Kind { kSucceeds, kReturnsError, kInsertsDuplicate };
  auto kind_of = [](int i) {
    return i % 4 == 1   ? Kind::kReturnsError
           : i % 4 == 3 ? Kind::kInsertsDuplicate
                        : Kind::kSucceeds;
  };
  auto error_of = [](int i) { return InvalidArgument("job " + std::to_string(i) + " refused"); };

  // The writer thread is held inside a first Write until every thread is about to queue its
  // own, so that (barring scheduling far slower than a commit) they share the next batch.
  std::latch gate_running(1);
  std::latch all_queued(kThreads);
  std::thread gate([&] {
    EXPECT_OK(store().Write([&](WriteTxn&) {
      gate_running.count_down();
      all_queued.wait();
      return Status::Ok();
    }));
  });
  gate_running.wait();

  std::vector<Status> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = "job-" + std::to_string(i);
      all_queued.count_down();
      statuses[i] = store().Write([&](WriteTxn& t) -> Status {
        RETURN_IF_ERROR(t.InsertEvent(MakeEvent(id)));
        RETURN_IF_ERROR(t.AppendLedgerEntry(MakeEntry(id)));
        switch (kind_of(i)) {
          case Kind::kSucceeds:
            return Status::Ok();
          case Kind::kReturnsError:
            return error_of(i);
          case Kind::kInsertsDuplicate:
            return t.InsertEvent(MakeEvent("evt-seed"));
        }
        return Status::Ok();
      });
    });
  }
  for (std::thread& t : threads) t.join();
  gate.join();

  std::set<std::string> committed;
  for (int i = 0; i < kThreads; ++i) {
    SCOPED_TRACE("job " + std::to_string(i));
    const std::string id = "job-" + std::to_string(i);
    switch (kind_of(i)) {
      case Kind::kSucceeds:
        EXPECT_OK(statuses[i]);
        committed.insert(id);
        break;
      case Kind::kReturnsError:
        EXPECT_EQ(statuses[i], error_of(i)) << statuses[i].ToString();
        break;
      case Kind::kInsertsDuplicate:
        EXPECT_EQ(statuses[i].code(), StatusCode::kAlreadyExists) << statuses[i].ToString();
        break;
    }
    EXPECT_EQ(Read([&](Reader& r) { return r.CurrentEvent(id); }).has_value(),
              committed.contains(id));
  }

  // The log holds exactly the successful jobs, gap-free from 0.
  std::vector<ledger::LedgerEntry> entries = ListLedger(0, 2 * kThreads);
  std::set<std::string> logged;
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].log_index, static_cast<int64_t>(i));
    logged.insert(entries[i].record_id);
  }
  EXPECT_EQ(logged, committed);
  EXPECT_EQ(LedgerSize(), static_cast<int64_t>(committed.size()));
  EXPECT_EQ(CountRows()["events"], static_cast<int64_t>(committed.size()) + 1);
}

}  // namespace
}  // namespace truthbook::store::sqlite
