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
#include "ledger/records.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook {
namespace {

using store::WriteTxn;
using store::sqlite::SqliteStore;

struct ShellResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// One ledger table and how to tamper with it.
struct TableSpec {
  std::string table;
  // A text column that an edit changes.
  std::string column;
  // SET clauses for a scratch copy of the rows: each keeps exactly one unique key of the
  // original row and makes the others fresh, so a replace conflicts through that key alone.
  // (Every table is also tried with all of its keys kept.)
  std::vector<std::string> keep_one_key{};
  // A SET clause making every unique key fresh; an insert of such a row is legitimate.
  std::string fresh_keys{};
  // Whether the table has a rowid that is not one of its declared keys.
  bool separate_rowid = true;
  // The error the shell prints when a DELETE is refused.
  std::string delete_error = "is append-only";
};

void PrintTo(const TableSpec& spec, std::ostream* os) { *os << spec.table; }

const std::vector<TableSpec>& LedgerTables() {
  static const auto* specs = new std::vector<TableSpec>{
      {.table = "events",
       .column = "status",
       .fresh_keys = "revision = revision + 100",
       .separate_rowid = false},  // WITHOUT ROWID
      {.table = "odds_snapshots",
       .column = "book",
       .keep_one_key = {"snapshot_id = snapshot_id || '-new'",
                        "content_sha256 = content_sha256 || '-new'"},
       .fresh_keys = "snapshot_id = snapshot_id || '-new', "
                     "content_sha256 = content_sha256 || '-new'",
       .delete_error = "referenced by a sim run"},
      {.table = "injury_snapshots",
       .column = "team",
       .keep_one_key = {"snapshot_id = snapshot_id || '-new'",
                        "content_sha256 = content_sha256 || '-new'"},
       .fresh_keys = "snapshot_id = snapshot_id || '-new', "
                     "content_sha256 = content_sha256 || '-new'"},
      {.table = "sim_runs", .column = "model_version", .fresh_keys = "sim_run_id = 'run-new'"},
      {.table = "sim_run_inputs",
       .column = "content_sha256",
       .fresh_keys = "snapshot_id = snapshot_id || '-new'"},
      {.table = "predictions", .column = "selection", .fresh_keys = "prediction_id = 'pred-new'"},
      {.table = "published_predictions",
       .column = "channel",
       // A NEW publish_id with an EXISTING prediction_id is the case that matters most.
       .keep_one_key = {"publish_id = 'pub-new', log_index = log_index + 100",
                        "prediction_id = 'pred-new', log_index = log_index + 100",
                        "publish_id = 'pub-new', prediction_id = 'pred-new'"},
       .fresh_keys =
           "publish_id = 'pub-new', prediction_id = 'pred-new', log_index = log_index + 100",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "event_results",
       .column = "status",
       .keep_one_key = {"result_id = 'res-new', log_index = log_index + 100",
                        "revision = revision + 100, log_index = log_index + 100",
                        "result_id = 'res-new', revision = revision + 100"},
       .fresh_keys =
           "result_id = 'res-new', revision = revision + 100, log_index = log_index + 100",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "rejected_attempts", .column = "reason", .fresh_keys = "attempt_id = 'rej-new'"},
      {.table = "ledger_entries",
       .column = "kind",
       // The next index: the gap-free rule admits no other.
       .fresh_keys = "log_index = (SELECT MAX(log_index) + 1 FROM main.ledger_entries)",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "snapshot_cleanups",
       .column = "deleted_ids",
       .fresh_keys = "cleanup_id = 'cleanup-new'"},
      {.table = "grading",
       .column = "outcome",
       // supersedes is unique too: it is made fresh here (a NULL stays NULL) and has a test of
       // its own, InsertOrReplaceOfASecondGradingSupersedingTheSameOneIsRefused.
       .keep_one_key = {"result_id = result_id || '-new', log_index = log_index + 100, "
                        "supersedes = supersedes || '-new'",
                        "grading_id = grading_id || '-new', log_index = log_index + 100, "
                        "supersedes = supersedes || '-new'",
                        "grading_id = grading_id || '-new', result_id = result_id || '-new', "
                        "supersedes = supersedes || '-new'"},
       // A fresh grading must supersede the publish's current one (grd-2).
       .fresh_keys = "grading_id = grading_id || '-new', result_id = result_id || '-new', "
                     "log_index = log_index + 100, supersedes = 'grd-2'",
       .separate_rowid = false},  // log_index is the rowid
      {.table = "calibration_versions",
       .column = "method",
       .fresh_keys = "calibration_version_id = calibration_version_id || '-new'"},
      {.table = "calibration_segments",
       .column = "fitted_on",
       // One key of two columns: a row that keeps only one of them is a fresh segment.
       .fresh_keys = "segment_key = segment_key || '-new'",
       .separate_rowid = false},  // WITHOUT ROWID
      {.table = "calibration_activations",
       .column = "actor",
       .keep_one_key = {"activation_id = activation_id || '-new'", "log_index = log_index + 100"},
       .fresh_keys = "activation_id = activation_id || '-new', log_index = log_index + 100",
       .separate_rowid = false},  // log_index is the rowid
  };
  return *specs;
}

// Creates a database holding at least one row in every ledger table, written by the store,
// then gives tests the sqlite3 shell on it.
class AppendOnlyTest : public ::testing::Test {
 protected:
  static TimePoint At(int minutes) {
    using namespace std::chrono;
    return TimePoint(sys_days(year(2025) / March / 1)) + std::chrono::minutes(minutes);
  }

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

  // Writes at least one row per ledger table through SqliteStore, then closes the store. Three
  // odds snapshots: "odds-used", read by sim run "run-1"; "odds-closing", the closing line of
  // grading "grd-1"; and "odds-free", neither. Two result revisions, each graded: "grd-2"
  // (on "res-2") supersedes "grd-1" (on "res-1"). Calibration version "cal-1" with two
  // segments, made live by "act-1". Log: pub-1, res-1, grd-1, res-2, grd-2, act-1.
  void Populate() {
    ManualClock clock(At(0));
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(db_, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Status written = (*store)->Write([&](WriteTxn& t) -> Status {
      RETURN_IF_ERROR(t.InsertEvent({"evt-1", 1, "basketball", "NBA", "2024-25", "BOS", "NYK",
                                     At(600), "scheduled", "body-1", At(1)}));
      RETURN_IF_ERROR(t.InsertOddsSnapshot({"odds-used", "evt-1", "pinnacle", "moneyline", At(2),
                                            At(3), "{\"raw\":1}", "[]", "multiplicative",
                                            "sha-odds-used", std::nullopt, std::nullopt}));
      RETURN_IF_ERROR(t.InsertOddsSnapshot({"odds-free", "evt-1", "pinnacle", "spread", At(4),
                                            At(5), "{\"raw\":2}", "[]", "multiplicative",
                                            "sha-odds-free", std::nullopt, std::nullopt}));
      RETURN_IF_ERROR(t.InsertOddsSnapshot({"odds-closing", "evt-1", "pinnacle", "moneyline",
                                            At(590), At(591), "{\"raw\":4}", "[]", "multiplicative",
                                            "sha-odds-closing", std::nullopt, std::nullopt}));
      RETURN_IF_ERROR(t.InsertInjurySnapshot({"injury-1", "evt-1", "BOS", "league-report", At(6),
                                              At(7), "[]", "{\"raw\":3}", "sha-injury-1"}));
      RETURN_IF_ERROR(t.InsertSimRun({"run-1", "manual", "model-3", "features-2", "policy-1",
                                      "0123abc", false, 1000, 42, "{}", At(8), At(9), At(10)}));
      RETURN_IF_ERROR(
          t.InsertSimRunInput({"run-1", "odds_snapshot", "odds-used", "sha-odds-used"}));
      RETURN_IF_ERROR(
          t.InsertSimRunInput({"run-1", "injury_snapshot", "injury-1", "sha-injury-1"}));
      ledger::Prediction prediction;
      prediction.prediction_id = "pred-1";
      prediction.sim_run_id = "run-1";
      prediction.event_id = "evt-1";
      prediction.market = "moneyline";
      prediction.selection = "home";
      prediction.book = "pinnacle";
      prediction.price_decimal = 1.91;
      prediction.price_american = -110;
      prediction.raw_prob = 0.55;
      prediction.tier = "A";
      prediction.recorded_at = At(11);
      RETURN_IF_ERROR(t.InsertPrediction(prediction));
      ASSIGN_OR_RETURN(int64_t publish_index,
                       t.AppendLedgerEntry({-1, "publish", "pub-1", "{}", "sha-e0", At(12)}));
      RETURN_IF_ERROR(t.InsertPublish(
          {"pub-1", "pred-1", "web", "public", true, At(12), "req-1", publish_index}));
      ASSIGN_OR_RETURN(int64_t result_index,
                       t.AppendLedgerEntry({-1, "event_result", "res-1", "{}", "sha-e1", At(13)}));
      RETURN_IF_ERROR(t.InsertEventResult(
          {"res-1", "evt-1", 1, "final", 101, 99, "[]", std::nullopt, At(13), result_index}));
      ledger::Grading grading;
      grading.grading_id = "grd-1";
      grading.publish_id = "pub-1";
      grading.result_id = "res-1";
      grading.outcome = "WIN";
      grading.stake_convention = "risk";
      grading.stake = 1;
      grading.profit_units = 0.91;
      grading.price_decimal = 1.91;
      grading.closing_snapshot_id = "odds-closing";
      grading.closing_price = 1.87;
      grading.devig_method = "multiplicative";
      grading.prob_used = "raw";
      grading.prob = 0.55;
      grading.brier = 0.2025;
      grading.log_loss = 0.5978;
      grading.graded_at = At(14);
      ASSIGN_OR_RETURN(grading.log_index,
                       t.AppendLedgerEntry({-1, "grading", "grd-1", "{}", "sha-e2", At(14)}));
      RETURN_IF_ERROR(t.InsertGrading(grading));
      ASSIGN_OR_RETURN(int64_t correction_index,
                       t.AppendLedgerEntry({-1, "event_result", "res-2", "{}", "sha-e3", At(15)}));
      RETURN_IF_ERROR(t.InsertEventResult(
          {"res-2", "evt-1", 2, "final", 101, 100, "[]", "res-1", At(15), correction_index}));
      grading.grading_id = "grd-2";
      grading.result_id = "res-2";
      grading.outcome = "LOSS";
      grading.profit_units = -1;
      grading.supersedes = "grd-1";
      grading.graded_at = At(16);
      ASSIGN_OR_RETURN(grading.log_index,
                       t.AppendLedgerEntry({-1, "grading", "grd-2", "{}", "sha-e4", At(16)}));
      RETURN_IF_ERROR(t.InsertGrading(grading));
      RETURN_IF_ERROR(t.InsertCalibrationVersion(
          {"cal-1", "isotonic", At(-43200), At(0), 2, R"({"training_days":30})",
           R"({"brier":0.25})", R"({"brier":0.2})", "[]", true, "0123abc", At(17)}));
      for (const std::string key : {"sport=basketball", "sport=basketball|tier=A"}) {
        RETURN_IF_ERROR(t.InsertCalibrationSegment({"cal-1", key, "sport=basketball", "sport", 1,
                                                    R"({"method":"isotonic"})", "{}", "[]"}));
      }
      ASSIGN_OR_RETURN(
          int64_t activation_index,
          t.AppendLedgerEntry({-1, "calibration_activation", "act-1", "{}", "sha-e5", At(18)}));
      RETURN_IF_ERROR(t.InsertCalibrationActivation(
          {"act-1", "cal-1", "scheduler", "", false, At(18), activation_index}));
      RETURN_IF_ERROR(t.InsertRejectedAttempt(
          {"rej-1", "publish", "pred-1", "req-2", "different body", "{}", At(14)}));
      return t.InsertSnapshotCleanup({"cleanup-1", At(-60), At(15), 0, "[]"});
    });
    ASSERT_TRUE(written.ok()) << written.ToString();
    store.value().reset();  // the shell gets the file to itself

    for (const TableSpec& spec : LedgerTables()) {
      ASSERT_NE(Query("SELECT COUNT(*) FROM " + spec.table + ";"), "0\n") << spec.table;
    }
  }

  // Runs the sqlite3 shell with `args` (already quoted for /bin/sh) on nothing else.
  static ShellResult Shell(const std::string& args) {
    ShellResult result;
    std::string command = "sqlite3 " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
    int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }

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
