// Issue 6, acceptance 4: on PostgreSQL the database itself keeps the ledger append-only. Rows
// are written through the real store (PostgresStore + WriteLedgerRows); then `psql`, a separate
// session with none of truthbook's settings, tries to edit them:
//   - as a superuser, UPDATE, DELETE and TRUNCATE of every ledger table fail, also after
//     `SET session_replication_role = replica` (which switches off ordinary triggers), and
//     leave every row as it was;
//   - as the application role that `truthbook init-db --grant-app-role` sets up, they fail for
//     want of privilege, while a real server running as that role works.
// The one allowed DELETE is of an odds snapshot that no sim run read and no grading closes on.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "ledger_rows.h"
#include "pg_scratch.h"
#include "server_harness.h"
#include "shell.h"
#include "store/postgres/connection.h"
#include "store/postgres/postgres_store.h"

namespace truthbook::test_support {
namespace {

using store::postgres::PostgresStore;

// The ledger tables, and the one only PostgreSQL has: odds_snapshot_ids, which keeps
// snapshot ids unique across the monthly partitions of odds_snapshots.
std::vector<TableSpec> PostgresLedgerTables() {
  std::vector<TableSpec> specs = LedgerTables();
  specs.push_back({.table = "odds_snapshot_ids",
                   .column = "snapshot_id",
                   .delete_error = "odds_snapshot_ids: the snapshot is still stored"});
  return specs;
}

// Deleting is retention's: allowed by privilege, refused by triggers while in use.
bool RetentionDeletes(const std::string& table) {
  return table == "odds_snapshots" || table == "odds_snapshot_ids";
}

// A scratch database holding WriteLedgerRows, and an application role granted on it.
class PsqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = PostgresServer();
    if (!server_) return;
    Result<std::unique_ptr<ScratchDatabase>> db = ScratchDatabase::Create(*server_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    role_ = "tb_app_" + db_->name().substr(std::string_view("tb_test_").size());
    ASSERT_TRUE(QueryText(*server_, "CREATE ROLE " + role_ + " LOGIN").ok());
    ShellResult init = RunShell(std::string(TRUTHBOOK_BIN) + " init-db --db \"" + db_->conninfo() +
                                "\" --grant-app-role " + role_);
    ASSERT_EQ(init.exit_code, 0) << init.output;

    ManualClock clock(LedgerRowsAt(0));
    Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(db_->conninfo(), clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Status written = (*store)->Write(WriteLedgerRows);
    ASSERT_TRUE(written.ok()) << written.ToString();
  }

  static void TearDownTestSuite() {
    db_.reset();  // drops the role's privileges with the database
    if (server_ && !role_.empty()) (void)QueryText(*server_, "DROP ROLE IF EXISTS " + role_);
  }

  void SetUp() override {
    if (!server_) GTEST_SKIP() << kNoPostgres;
    ASSERT_NE(db_, nullptr);
  }

  // The scratch database's conninfo, logged in as `user` (the server's user when empty).
  static std::string Conninfo(const std::string& user = "") {
    auto pairs = store::postgres::ParseConninfo(db_->conninfo());
    EXPECT_TRUE(pairs.ok());
    if (!user.empty()) {
      std::erase_if(*pairs, [](const auto& kv) { return kv.first == "user"; });
      pairs->emplace_back("user", user);
    }
    return store::postgres::FormatConninfo(*pairs);
  }

  // Runs `commands` in one psql session as `user`, in turn, stopping at the first error, as an
  // operator at a terminal would.
  static ShellResult Psql(const std::vector<std::string>& commands, const std::string& user = "") {
    std::string line = "psql -X -q -v ON_ERROR_STOP=1 \"" + Conninfo(user) + "\"";
    for (const std::string& c : commands) line += " -c \"" + c + "\"";
    return RunShell(line);
  }

  // A digest of every row of every ledger table: equal digests mean nothing changed.
  static std::string Digest() {
    std::string sql = "SELECT concat_ws(' '";
    for (const TableSpec& spec : PostgresLedgerTables()) {
      sql += ", (SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM " +
             spec.table + " t)";
    }
    Result<TextRows> rows = QueryText(db_->conninfo(), sql + ")");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? (*rows)[0][0] : "";
  }

  // Runs `commands`, which must fail with `error` in psql's output and change nothing.
  static void ExpectRefused(const std::vector<std::string>& commands, const std::string& error,
                            const std::string& user = "") {
    SCOPED_TRACE(commands.back() + (user.empty() ? "" : " as " + user));
    const std::string before = Digest();
    ShellResult r = Psql(commands, user);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(error), std::string::npos) << "output: " << r.output;
    EXPECT_EQ(Digest(), before);
  }

  static inline std::optional<std::string> server_;
  static inline std::unique_ptr<ScratchDatabase> db_;
  static inline std::string role_;
};

// The same, once per ledger table.
class PsqlTableTest : public PsqlTest, public ::testing::WithParamInterface<TableSpec> {
 protected:
  const std::string& table() { return GetParam().table; }

  // Runs `edit` as a superuser, plainly and in replica mode, and as the application role
  // (refused for want of privilege when `privileged` is false).
  void ExpectEditRefused(const std::string& edit, const std::string& error, bool privileged) {
    ExpectRefused({edit}, error);
    ExpectRefused({"SET session_replication_role = replica", edit}, error);
    ExpectRefused({edit}, privileged ? error : "permission denied for table " + table(), role_);
  }
};

TEST_P(PsqlTableTest, UpdateIsRefused) {
  ExpectEditRefused("UPDATE " + table() + " SET " + GetParam().column + " = 'tampered'",
                    table() + " is append-only", /*privileged=*/false);
}

TEST_P(PsqlTableTest, DeleteIsRefused) {
  ExpectEditRefused("DELETE FROM " + table(), GetParam().delete_error,
                    /*privileged=*/RetentionDeletes(table()));
}

TEST_P(PsqlTableTest, TruncateIsRefused) {
  ExpectEditRefused("TRUNCATE " + table() + " CASCADE", "is append-only", /*privileged=*/false);
}

INSTANTIATE_TEST_SUITE_P(LedgerTables, PsqlTableTest, ::testing::ValuesIn(PostgresLedgerTables()),
                         [](const ::testing::TestParamInfo<TableSpec>& info) {
                           return info.param.table;
                         });

TEST_F(PsqlTest, DeleteOfAnOddsSnapshotNoSimRunReadAndNoGradingClosesOnSucceeds) {
  ShellResult r = Psql({"DELETE FROM odds_snapshots WHERE snapshot_id = 'odds-free'"}, role_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  Result<TextRows> left =
      QueryText(db_->conninfo(), "SELECT snapshot_id FROM odds_snapshots ORDER BY 1");
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_EQ(*left, (TextRows{{"odds-closing"}, {"odds-used"}}));
}

TEST_F(PsqlTest, GrantAppRoleRefusesANameThatIsNotAPlainIdentifier) {
  const std::string before = Digest();
  ShellResult init = RunShell(std::string(TRUTHBOOK_BIN) + " init-db --db \"" + db_->conninfo() +
                              "\" --grant-app-role 'x; DROP TABLE events CASCADE'");
  EXPECT_EQ(init.exit_code, 2) << init.output;
  EXPECT_NE(init.output.find("app-role: expected a lower-case identifier"), std::string::npos)
      << init.output;
  EXPECT_EQ(Digest(), before);
}

// A partition is a table of its own: editing it directly is refused as well.
TEST_F(PsqlTest, EditsOfEveryOddsSnapshotPartitionAreRefused) {
  Result<TextRows> partitions =
      QueryText(db_->conninfo(),
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'odds_snapshots'::regclass ORDER BY 1");
  ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
  ASSERT_GE(partitions->size(), 5u);  // 2025-03 (the rows), this month and the next three
  for (const auto& row : *partitions) {
    const std::string& partition = row[0];
    for (const std::string& edit :
         {"UPDATE " + partition + " SET book = 'tampered'", "TRUNCATE " + partition}) {
      ExpectRefused({edit}, partition + " is append-only");
      ExpectRefused({"SET session_replication_role = replica", edit},
                    partition + " is append-only");
      ExpectRefused({edit}, "permission denied for table " + partition, role_);
    }
  }
}

TEST_F(PsqlTest, ServerRunsAsTheApplicationRole) {
  ServerProcess server;
  server.UseDatabase(Conninfo(role_));
  ASSERT_TRUE(server.Start());
  SeedFlow flow = CreateSeedFlow(server, "nba-app-role");
  ASSERT_EQ(flow.prediction_ids.size(), 1u);
  HttpResult published = server.Post("publish", PublishBody(flow.prediction_ids[0]));
  EXPECT_EQ(published.status, 201) << published.body;
}

}  // namespace
}  // namespace truthbook::test_support
