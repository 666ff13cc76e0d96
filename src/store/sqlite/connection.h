// A thin RAII layer over one sqlite3 connection: open with the project's pragmas, cached
// prepared statements, typed binding and reading. sqlite3 result codes become a Status here
// and nowhere else. Thread-compatible: one thread uses a Connection at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "base/clock.h"
#include "base/status.h"

namespace truthbook::store::sqlite {

// The Status for sqlite3 result `rc` on `db` (which may be null), prefixed by `what`.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

class Connection;

// A prepared statement borrowed from a Connection's cache; reset when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding, 1-based as in sqlite3. TimePoints are stored as Unix milliseconds.
  Statement& Bind(int i, std::string_view v);
  Statement& BindBlob(int i, std::string_view v);
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, double v);
  Statement& Bind(int i, bool v) { return Bind(i, int64_t{v}); }
  Statement& Bind(int i, TimePoint v) { return Bind(i, int64_t{v.time_since_epoch().count()}); }
  template <typename T>
  Statement& Bind(int i, const std::optional<T>& v) {
    if (v) return Bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // Binds args to parameters 1..N.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // Advances: true with a row, false when done, or an error.
  Result<bool> Step();
  // Runs to completion (for statements without rows).
  Status Run();

  // Column readers, 0-based from the column base, valid after Step() returned true.
  std::string Text(int i) const;
  int64_t Int(int i) const { return sqlite3_column_int64(stmt_, base_ + i); }
  double Double(int i) const { return sqlite3_column_double(stmt_, base_ + i); }
  bool Bool(int i) const { return Int(i) != 0; }
  TimePoint Time(int i) const { return TimePoint(std::chrono::milliseconds(Int(i))); }
  bool IsNull(int i) const { return sqlite3_column_type(stmt_, base_ + i) == SQLITE_NULL; }
  std::optional<std::string> OptText(int i) const;
  std::optional<double> OptDouble(int i) const;
  std::optional<int64_t> OptInt(int i) const;

  // Makes column `base` read as column 0, so that one row mapper reads a record from any
  // position of a joined row: ReadPrediction(s.From(8)). Step() resets it to 0.
  const Statement& From(int base) const {
    base_ = base;
    return *this;
  }

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  mutable int base_ = 0;
};

class Connection {
 public:
  // Opens (creating if needed) `path` in WAL mode with synchronous=FULL, foreign keys on and
  // a busy timeout. Fails with Unavailable when the file cannot be opened.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // A cached prepared statement for `sql`. The cache is keyed by the pointer: pass named
  // constants (kInsertEvent), not temporaries.
  Result<Statement> Prepare(const char* sql);
  // The first column of the first row of a one-off query (not cached), 0 when no row.
  Result<int64_t> QueryInt(const std::string& sql);
  // Runs one or more statements without results.
  Status Exec(const std::string& sql);
  sqlite3* raw() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace truthbook::store::sqlite
