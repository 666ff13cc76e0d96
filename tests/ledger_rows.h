// Test support for the append-only tests of both backends: one row (or more) in every ledger
// table, written through the store, and how to tamper with each table.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/store.h"

namespace truthbook::test_support {

// One ledger table and how to tamper with it. (The keys and rowid matter for SQLite's
// INSERT OR REPLACE; PostgreSQL has no such statement.)
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
  // The error a shell prints when a DELETE of every row is refused.
  std::string delete_error = "is append-only";
};

void PrintTo(const TableSpec& spec, std::ostream* os);

// Every ledger table.
const std::vector<TableSpec>& LedgerTables();

// 2025-03-01T00:00Z plus `minutes`: the times of the rows below.
TimePoint LedgerRowsAt(int minutes);

// Writes at least one row per ledger table. Three odds snapshots: "odds-used", read by sim run
// "run-1"; "odds-closing", the closing line of grading "grd-1"; and "odds-free", neither. Two
// result revisions, each graded: "grd-2" (on "res-2") supersedes "grd-1" (on "res-1").
// Calibration version "cal-1" with two segments, made live by "act-1". Log: pub-1, res-1,
// grd-1, res-2, grd-2, act-1.
Status WriteLedgerRows(store::WriteTxn& t);

}  // namespace truthbook::test_support
