// A thin RAII layer over one libpq connection: connect, prepared statements cached per
// connection, typed binding and reading in libpq's binary format (so doubles and bytes round-trip
// exactly), and the one place where libpq errors become a Status. Times are BIGINT Unix
// milliseconds and blobs BYTEA, as the SQLite backend encodes them.
// Thread-compatible: one thread uses a Connection (and its Statements) at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace truthbook::store::postgres {

// SQLSTATEs that the schema's triggers raise (schema.cc), beside those PostgreSQL defines.
// An edit of a ledger table, or an insert that breaks a ledger rule (the gap-free log, a
// grading's linear history): AlreadyExists, as the SQLite backend answers the same case.
inline constexpr char kLedgerRuleSqlstate[] = "TB001";
// A delete of an odds snapshot that a sim run or a grading still names: FailedPrecondition.
inline constexpr char kStillReferencedSqlstate[] = "TB002";

// The Status for a failure with SQLSTATE `sqlstate` ("" when the server sent none, as when
// the connection is lost), prefixed by `what`:
//   23505 unique_violation, TB001 → AlreadyExists;  23503 foreign_key_violation, TB002 →
//   FailedPrecondition;  class 22 (data exception: text that is not UTF-8, a NUL in text) →
//   InvalidArgument;  class 08, 57P01-57P03, 53300, 40001, 40P01 and no SQLSTATE →
//   Unavailable;  anything else → Internal.
Status PgStatus(std::string_view sqlstate, std::string_view message, std::string_view what);

// Whether a transaction that failed with `sqlstate` may succeed when run again from the
// start: a serialization failure (40001) or a deadlock (40P01).
bool IsRetryableSqlstate(std::string_view sqlstate);

// The key=value pairs of a libpq conninfo (key=value or postgresql:// URI), defaults
// omitted. InvalidArgument when libpq cannot parse it.
Result<std::vector<std::pair<std::string, std::string>>> ParseConninfo(const std::string& conninfo);
// Pairs back to a key='value' conninfo, quoted as libpq expects.
std::string FormatConninfo(const std::vector<std::pair<std::string, std::string>>& pairs);
// `conninfo` without its password, for logs and health.
std::string RedactConninfo(const std::string& conninfo);

class Connection;

// Rows in PostgreSQL's binary COPY format, for Connection::CopyIn: the header, then per row
// BeginRow(n) and n fields, in the order of the COPY's column list. Text and bytea are sent
// byte for byte (the server still checks that text is valid UTF-8).
class CopyRows {
 public:
  CopyRows();
  CopyRows& BeginRow(int fields);
  CopyRows& Add(std::string_view v);  // text or bytea
  CopyRows& Add(const std::string& v) { return Add(std::string_view(v)); }
  CopyRows& Add(const std::optional<std::string>& v);
  CopyRows& Add(int64_t v);  // int8
  CopyRows& Add(TimePoint v) { return Add(int64_t{v.time_since_epoch().count()}); }
  // The rows with the trailer: what CopyIn sends.
  const std::string& Finish();

 private:
  void Put32(uint32_t v);
  std::string data_;
};

// One execution of a cached prepared statement: bind parameters 1..N, then Step() runs it on
// the first call and walks the rows. The statement is prepared on its connection the first
// time its SQL (by pointer) runs there, with the parameter types of that first binding; every
// later binding of the same SQL must use the same C++ types.
class Statement {
 public:
  Statement(Connection& conn, const char* sql) : conn_(&conn), sql_(sql) {}
  Statement(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding, 1-based as in SQL ($1). A parameter left unbound is a NULL of unknown type.
  Statement& Bind(int i, std::string_view v);                       // text
  Statement& BindBlob(int i, std::string_view v);                   // bytea
  Statement& BindTextArray(int i, std::span<const std::string> v);  // text[]
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, double v);
  Statement& Bind(int i, bool v);
  Statement& Bind(int i, TimePoint v) { return Bind(i, int64_t{v.time_since_epoch().count()}); }
  template <typename T>
  Statement& Bind(int i, const std::optional<T>& v) {
    if (v) return Bind(i, *v);
    return BindNull(i, TypeOf<T>());
  }
  // Binds args to parameters 1..N.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // Runs the statement on the first call; then advances: true with a row, false when done.
  Result<bool> Step();
  // Runs a statement without rows.
  Status Run();
  // Rows inserted, updated or deleted by the statement (after Run or Step).
  int64_t RowsAffected() const;

  // Column readers, 0-based from the column base, valid after Step() returned true.
  std::string Text(int i) const;  // text or bytea, byte for byte
  int64_t Int(int i) const;
  double Double(int i) const;
  bool Bool(int i) const;
  TimePoint Time(int i) const { return TimePoint(std::chrono::milliseconds(Int(i))); }
  bool IsNull(int i) const;
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
  friend class Connection;
  struct Param {
    unsigned int type = 0;  // an Oid; 0 lets the server infer it
    std::string value;
    bool is_null = true;
  };
  struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
  };

  template <typename T>
  static unsigned int TypeOf();
  Statement& BindNull(int i, unsigned int type);
  Param& At(int i);
  const char* Cell(int i) const { return PQgetvalue(result_.get(), row_, base_ + i); }
  int CellLength(int i) const { return PQgetlength(result_.get(), row_, base_ + i); }
  unsigned int CellType(int i) const { return PQftype(result_.get(), base_ + i); }

  Connection* conn_;
  const char* sql_;
  std::vector<Param> params_;
  std::unique_ptr<PGresult, ResultDeleter> result_;
  int row_ = -1;
  mutable int base_ = 0;
};

class Connection {
 public:
  // Connects with `conninfo` (application_name defaults to truthbook, connect_timeout to 10
  // seconds). Unavailable when the server cannot be reached or refuses the login.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // A statement for `sql`, prepared on this connection the first time it runs. The cache is
  // keyed by the pointer: pass named constants (kInsertEvent), not temporaries.
  Statement Prepare(const char* sql) { return Statement(*this, sql); }
  // Runs one or more statements without parameters or results (simple query protocol).
  Status Exec(const std::string& sql);
  // Runs `sql`, a COPY ... FROM STDIN, sending `data` (CopyRows::Finish() for FORMAT binary).
  // A failure names the row the server refused, as PostgreSQL reports it.
  Status CopyIn(const char* sql, std::string_view data);

  // The first failure since the last ClearFailure(), and its SQLSTATE. After a failed
  // statement PostgreSQL refuses everything until the transaction ends; what it then says
  // ("current transaction is aborted") is replaced by this first failure.
  const Status& failure() const { return failure_; }
  const std::string& failure_sqlstate() const { return failure_sqlstate_; }
  void ClearFailure() {
    failure_ = Status::Ok();
    failure_sqlstate_.clear();
  }

  // Whether the connection is unusable (lost, or never made); it should then be dropped.
  bool Broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // Whether no transaction is open (so the connection can go back to a pool).
  bool Idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  PGconn* raw() { return conn_; }

 private:
  friend class Statement;
  struct Prepared {
    std::string name;
    std::vector<unsigned int> types;
  };

  explicit Connection(PGconn* conn) : conn_(conn) {}
  // Executes `stmt` (preparing it first if needed) and returns its result, or a failure.
  Result<PGresult*> Execute(Statement& stmt);
  // The Status for `result` (which may be null), recorded as the failure when it is one.
  Status Check(PGresult* result, std::string_view what);

  PGconn* conn_;
  std::unordered_map<const char*, Prepared> prepared_;
  Status failure_;
  std::string failure_sqlstate_;
};

template <>
inline unsigned int Statement::TypeOf<std::string>() {
  return 25;  // text
}
template <>
inline unsigned int Statement::TypeOf<int64_t>() {
  return 20;  // int8
}
template <>
inline unsigned int Statement::TypeOf<double>() {
  return 701;  // float8
}
template <>
inline unsigned int Statement::TypeOf<bool>() {
  return 16;  // bool
}
template <>
inline unsigned int Statement::TypeOf<TimePoint>() {
  return 20;  // int8 Unix milliseconds
}

}  // namespace truthbook::store::postgres
