// Acceptance 4 (issue 2): the database itself keeps the ledger append-only. Rows are written
// through the real store (SqliteStore + WriteTxn); then the `sqlite3` command-line shell, a
// separate connection with none of truthbook's settings, tries to edit them. Every edit of a
// ledger table must fail and leave the file's contents exactly as they were; the one allowed
// DELETE is of an odds snapshot that no sim run read and no grading names as its closing line.

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "ledger_rows.h"
#include "shell.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook {
namespace {

using store::sqlite::SqliteStore;
using test_support::LedgerTables;
using test_support::RunShell;
using test_support::ShellResult;
using test_support::TableSpec;

// Creates a database holding at least one row in every ledger table, written by the store,
// then gives tests the sqlite3 shell on it.
class AppendOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Shell("-version").exit_code, 0) << "the sqlite3 shell is required";
    std::string pattern = std::filesystem::temp_directory_path() / "truthbook-append-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = (dir_ / "truthbook.db").string();
    ASSERT_NO_FATAL_FAILURE(Populate());
  }

  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // Writes WriteLedgerRows through SqliteStore, then closes the store.
  void Populate() {
    ManualClock clock(test_support::LedgerRowsAt(0));
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(db_, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Status written = (*store)->Write(test_support::WriteLedgerRows);
    ASSERT_TRUE(written.ok()) << written.ToString();
    store.value().reset();  // the shell gets the file to itself

    for (const TableSpec& spec : LedgerTables()) {
      ASSERT_NE(Query("SELECT COUNT(*) FROM " + spec.table + ";"), "0\n") << spec.table;
    }
  }

  // Runs the sqlite3 shell with `args` (already quoted for /bin/sh) on nothing else.
  static ShellResult Shell(const std::string& args) { return RunShell("sqlite3 " + args); }

  // Runs `sql` (one or more statements) in one sqlite3 shell on the database, stopping at the
  // first error, as an operator at a terminal would.
  ShellResult Sql(const std::string& sql) {
    const std::filesystem::path script = dir_ / "script.sql";
    std::ofstream(script) << sql << "\n";
    return Shell("-batch -bail '" + db_ + "' < '" + script.string() + "'");
  }

  // The output of a query that must succeed.
  std::string Query(const std::string& sql) {
    ShellResult r = Sql(sql);
    EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.output;
    return r.output;
  }

  // Every schema object and every row, rowids included: equal dumps mean nothing changed.
  std::string Dump() { return Query(".dump --preserve-rowids"); }

  // Runs `sql`, which must fail with `error` in its output and change nothing at all.
  void ExpectRefused(const std::string& sql, const std::string& error) {
    SCOPED_TRACE(sql);
    const std::string before = Dump();
    ShellResult r = Sql(sql);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(error), std::string::npos) << "output: " << r.output;
    EXPECT_EQ(Dump(), before);
  }

  // Runs `sql`, which may fail or succeed, but must change nothing at all.
  void ExpectUnchanged(const std::string& sql) {
    SCOPED_TRACE(sql);
    const std::string before = Dump();
    ShellResult r = Sql(sql);
    EXPECT_EQ(Dump(), before) << "output: " << r.output;
  }

  std::filesystem::path dir_;
  std::string db_;
};

// The same, once per ledger table.
class AppendOnlyTableTest : public AppendOnlyTest, public ::testing::WithParamInterface<TableSpec> {
 protected:
  const std::string& table() { return GetParam().table; }

  // A temp table `x` holding a copy of every row (with its rowid as `rid`), edited by `set`.
  std::string CopyRows(const std::string& set) {
    std::string sql = "CREATE TEMP TABLE x AS SELECT " +
                      std::string(GetParam().separate_rowid ? "rowid AS rid, " : "") +
                      "* FROM main." + table() + ";\n";
    sql += "UPDATE x SET " + GetParam().column + " = 'tampered'" + (set.empty() ? "" : ", " + set) +
           ";\n";
    return sql;
  }

  // The table's columns, comma separated, in declaration order.
  std::string Columns() {
    std::string columns =
        Query("SELECT group_concat(name, ', ') FROM pragma_table_info('" + table() + "');");
    while (!columns.empty() && columns.back() == '\n') columns.pop_back();
    return columns;
  }

  // `verb` (INSERT OR REPLACE, REPLACE, ...) the rows of x into the table, without rowids.
  std::string InsertCopies(const std::string& verb, const std::string& tail = "") {
    const std::string columns = Columns();
    return verb + " INTO main." + table() + " (" + columns + ") SELECT " + columns + " FROM x" +
           tail + ";";
  }
};

TEST_P(AppendOnlyTableTest, UpdateIsRefused) {
  ExpectRefused("UPDATE " + table() + " SET " + GetParam().column + " = 'tampered';",
                table() + " is append-only");
}

TEST_P(AppendOnlyTableTest, DeleteIsRefused) {
  ExpectRefused("DELETE FROM " + table() + ";", GetParam().delete_error);
}

TEST_P(AppendOnlyTableTest, InsertOrReplaceOfAnExistingKeyIsRefused) {
  std::vector<std::string> keeps = GetParam().keep_one_key;
  keeps.insert(keeps.begin(), "");  // every key kept: a plain re-insert with changed data
  for (const std::string& keep : keeps) {
    ExpectRefused(CopyRows(keep) + InsertCopies("INSERT OR REPLACE"),
                  table() + ": a row with this key exists");
    ExpectRefused(CopyRows(keep) + InsertCopies("REPLACE"),
                  table() + ": a row with this key exists");
  }
}

TEST_P(AppendOnlyTableTest, InsertOrIgnoreOfAnExistingKeyChangesNothing) {
  ExpectUnchanged(CopyRows("") + InsertCopies("INSERT OR IGNORE"));
}

TEST_P(AppendOnlyTableTest, UpsertDoUpdateChangesNothing) {
  ExpectUnchanged(CopyRows("") + InsertCopies("INSERT", " WHERE true ON CONFLICT DO UPDATE SET " +
                                                            GetParam().column + " = excluded." +
                                                            GetParam().column));
}

// The control: the triggers refuse edits, not inserts. A row with fresh keys goes in.
TEST_P(AppendOnlyTableTest, InsertOfFreshKeysIsAccepted) {
  const std::string count = "SELECT COUNT(*) FROM " + table() + ";";
  const int before = std::stoi(Query(count));
  ShellResult r = Sql(CopyRows(GetParam().fresh_keys) + "DELETE FROM x WHERE rowid > 1;\n" +
                      InsertCopies("INSERT"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(std::stoi(Query(count)), before + 1);
}

INSTANTIATE_TEST_SUITE_P(LedgerTables, AppendOnlyTableTest, ::testing::ValuesIn(LedgerTables()),
                         [](const ::testing::TestParamInfo<TableSpec>& info) {
                           return info.param.table;
                         });

// Tables whose rowid is not one of their declared keys (not events, WITHOUT ROWID, nor
// the official records and ledger_entries, whose rowid is log_index).
class AppendOnlyRowidTest : public AppendOnlyTableTest {};

std::vector<TableSpec> TablesWithSeparateRowid() {
  std::vector<TableSpec> specs;
  for (const TableSpec& spec : LedgerTables()) {
    if (spec.separate_rowid) specs.push_back(spec);
  }
  return specs;
}

TEST_P(AppendOnlyRowidTest, InsertOrReplaceReusingARowidIsRefused) {
  // Every declared key fresh, only the rowid taken: REPLACE would swap in a different row.
  ExpectRefused(CopyRows(GetParam().fresh_keys) + "INSERT OR REPLACE INTO main." + table() +
                    " (rowid, " + Columns() + ") SELECT * FROM x;",
                table() + ": a row with this rowid exists");
}

INSTANTIATE_TEST_SUITE_P(LedgerTables, AppendOnlyRowidTest,
                         ::testing::ValuesIn(TablesWithSeparateRowid()),
                         [](const ::testing::TestParamInfo<TableSpec>& info) {
                           return info.param.table;
                         });

TEST_F(AppendOnlyTest, DeleteOfAnOddsSnapshotNoSimRunReadAndNoGradingClosesOnSucceeds) {
  ShellResult r = Sql("DELETE FROM odds_snapshots WHERE snapshot_id = 'odds-free';");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Query("SELECT snapshot_id FROM odds_snapshots ORDER BY snapshot_id;"),
            "odds-closing\nodds-used\n");
}

TEST_F(AppendOnlyTest, DeleteOfAnOddsSnapshotASimRunReadFails) {
  ExpectRefused("DELETE FROM odds_snapshots WHERE snapshot_id = 'odds-used';",
                "odds_snapshots: referenced by a sim run");
}

TEST_F(AppendOnlyTest, DeleteOfAGradingsClosingOddsSnapshotFails) {
  ExpectRefused("DELETE FROM odds_snapshots WHERE snapshot_id = 'odds-closing';",
                "odds_snapshots: the closing line of a grading");
}

TEST_F(AppendOnlyTest, InsertOrReplaceOfASecondGradingSupersedingTheSameOneIsRefused) {
  // A copy of grd-2 with every other key fresh still supersedes grd-1: it conflicts only on the
  // unique supersedes column, which REPLACE would settle by silently deleting grd-2. The
  // trigger that keeps each publish's history linear refuses it first.
  ExpectRefused(
      "CREATE TEMP TABLE x AS SELECT * FROM main.grading WHERE grading_id = 'grd-2';\n"
      "UPDATE x SET grading_id = 'grd-3', result_id = 'res-3', log_index = log_index + 100;\n"
      "INSERT OR REPLACE INTO main.grading SELECT * FROM x;",
      "grading: must supersede the publish's current grading");
}

TEST_F(AppendOnlyTest, LedgerEntryWithAGapInLogIndexIsRefused) {
  ASSERT_EQ(Query("SELECT MAX(log_index) FROM ledger_entries;"), "5\n");
  ExpectRefused(
      "INSERT INTO ledger_entries (log_index, kind, record_id, payload, entry_sha256, "
      "recorded_at) VALUES (7, 'publish', 'pub-x', '{}', 'sha', 0);",
      "log_index must be the next index");
}

TEST_F(AppendOnlyTest, LedgerEntryWithoutALogIndexIsRefused) {
  // SQLite would pick MAX(rowid) + 1 itself; the log still takes only explicit next indexes.
  ExpectRefused(
      "INSERT INTO ledger_entries (kind, record_id, payload, entry_sha256, recorded_at) "
      "VALUES ('publish', 'pub-x', '{}', 'sha', 0);",
      "log_index must be the next index");
}

}  // namespace
}  // namespace truthbook
