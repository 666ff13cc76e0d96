#include "store/postgres/connection.h"

#include <endian.h>
#include <spdlog/spdlog.h>

#include <bit>
#include <cstring>
#include <string>

namespace truthbook::store::postgres {
namespace {

// PostgreSQL type Oids (catalog/pg_type_d.h, which only the server headers ship).
constexpr unsigned int kBoolOid = 16;
constexpr unsigned int kByteaOid = 17;
constexpr unsigned int kInt8Oid = 20;
constexpr unsigned int kInt2Oid = 21;
constexpr unsigned int kInt4Oid = 23;
constexpr unsigned int kTextOid = 25;
constexpr unsigned int kFloat4Oid = 700;
constexpr unsigned int kFloat8Oid = 701;
constexpr unsigned int kTextArrayOid = 1009;

std::string BigEndian64(uint64_t v) {
  v = htobe64(v);
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);
  return out;
}

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return be64toh(v);
}
uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return be32toh(v);
}
uint16_t Load16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return be16toh(v);
}

// libpq's messages end with a newline.
std::string Trimmed(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The reason in libpq's "connection to server at "h" (addr), port 5432 failed: REASON" (up
// to the end of its line), or the whole message when it has no such part.
std::string ConnectFailureReason(const std::string& message) {
  constexpr std::string_view kFailed = "failed: ";
  size_t at = message.rfind(kFailed);
  if (at == std::string::npos) return message;
  std::string reason = message.substr(at + kFailed.size());
  return reason.substr(0, reason.find('\n'));
}

}  // namespace

Status PgStatus(std::string_view sqlstate, std::string_view message, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += message;
  if (!sqlstate.empty()) {
    m += " (SQLSTATE ";
    m += sqlstate;
    m += ")";
  }
  if (sqlstate == "23505" || sqlstate == kLedgerRuleSqlstate) return AlreadyExists(std::move(m));
  if (sqlstate == "23503" || sqlstate == kStillReferencedSqlstate) {
    return FailedPrecondition(std::move(m));
  }
  if (sqlstate.empty() || sqlstate.starts_with("08") || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "53300" ||
      IsRetryableSqlstate(sqlstate)) {
    return Unavailable(std::move(m));
  }
  if (sqlstate.starts_with("22")) return InvalidArgument(std::move(m));
  return Internal(std::move(m));
}

bool IsRetryableSqlstate(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";
}

Result<std::vector<std::pair<std::string, std::string>>> ParseConninfo(
    const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    // The message may quote the string, password included: say only that it failed.
    PQfreemem(error);
    return InvalidArgument("db: not a libpq connection string or postgresql:// URI");
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') pairs.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return pairs;
}

std::string FormatConninfo(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += ' ';
    out += key;
    out += "='";
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

std::string RedactConninfo(const std::string& conninfo) {
  auto pairs = ParseConninfo(conninfo);
  if (!pairs.ok()) return "(unparseable conninfo)";
  std::erase_if(*pairs, [](const auto& kv) { return kv.first == "password"; });
  return FormatConninfo(*pairs);
}

// ---- Statement ----

Statement::Param& Statement::At(int i) {
  if (static_cast<int>(params_.size()) < i) params_.resize(i);
  return params_[i - 1];
}

Statement& Statement::BindNull(int i, unsigned int type) {
  Param& p = At(i);
  p.type = type;
  p.value.clear();
  p.is_null = true;
  return *this;
}

Statement& Statement::Bind(int i, std::string_view v) {
  At(i) = Param{kTextOid, std::string(v), false};
  return *this;
}

Statement& Statement::BindBlob(int i, std::string_view v) {
  At(i) = Param{kByteaOid, std::string(v), false};
  return *this;
}

// The binary array format (arrayfuncs.c array_recv): dimensions, a has-nulls flag, the element
// type, each dimension's length and lower bound, then each element's length and bytes.
Statement& Statement::BindTextArray(int i, std::span<const std::string> v) {
  std::string out;
  auto put32 = [&](uint32_t x) {
    x = htobe32(x);
    out.append(reinterpret_cast<const char*>(&x), 4);
  };
  put32(1);  // one dimension
  put32(0);  // no nulls
  put32(kTextOid);
  put32(static_cast<uint32_t>(v.size()));
  put32(1);  // lower bound
  for (const std::string& s : v) {
    put32(static_cast<uint32_t>(s.size()));
    out += s;
  }
  At(i) = Param{kTextArrayOid, std::move(out), false};
  return *this;
}

Statement& Statement::Bind(int i, int64_t v) {
  At(i) = Param{kInt8Oid, BigEndian64(static_cast<uint64_t>(v)), false};
  return *this;
}

Statement& Statement::Bind(int i, double v) {
  At(i) = Param{kFloat8Oid, BigEndian64(std::bit_cast<uint64_t>(v)), false};
  return *this;
}

Statement& Statement::Bind(int i, bool v) {
  At(i) = Param{kBoolOid, std::string(1, v ? '\1' : '\0'), false};
  return *this;
}

Result<bool> Statement::Step() {
  base_ = 0;
  if (!result_) {
    ASSIGN_OR_RETURN(PGresult * result, conn_->Execute(*this));
    result_.reset(result);
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_.get());
}

Status Statement::Run() {
  if (!result_) return Step().status();
  return Status::Ok();
}

int64_t Statement::RowsAffected() const {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  return n != nullptr && *n != '\0' ? std::stoll(n) : 0;
}

bool Statement::IsNull(int i) const { return PQgetisnull(result_.get(), row_, base_ + i) != 0; }

std::string Statement::Text(int i) const {
  if (IsNull(i)) return std::string();
  return std::string(Cell(i), CellLength(i));
}

int64_t Statement::Int(int i) const {
  if (IsNull(i)) return 0;
  const char* p = Cell(i);
  switch (CellType(i)) {
    case kInt8Oid:
      return static_cast<int64_t>(Load64(p));
    case kInt4Oid:
      return static_cast<int32_t>(Load32(p));
    case kInt2Oid:
      return static_cast<int16_t>(Load16(p));
    case kBoolOid:
      return *p != 0;
    case kFloat8Oid:
      return static_cast<int64_t>(std::bit_cast<double>(Load64(p)));
    default:
      return 0;  // a column of another type is a bug in the SQL beside the caller
  }
}

double Statement::Double(int i) const {
  if (IsNull(i)) return 0;
  const char* p = Cell(i);
  switch (CellType(i)) {
    case kFloat8Oid:
      return std::bit_cast<double>(Load64(p));
    case kFloat4Oid:
      return std::bit_cast<float>(Load32(p));
    default:
      return static_cast<double>(Int(i));
  }
}

bool Statement::Bool(int i) const { return Int(i) != 0; }

std::optional<std::string> Statement::OptText(int i) const {
  if (IsNull(i)) return std::nullopt;
  return Text(i);
}

std::optional<double> Statement::OptDouble(int i) const {
  if (IsNull(i)) return std::nullopt;
  return Double(i);
}

std::optional<int64_t> Statement::OptInt(int i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

// ---- CopyRows ----

CopyRows::CopyRows() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // and its NUL
  data_.append(kSignature, sizeof(kSignature));
  Put32(0);  // flags
  Put32(0);  // header extension length
}

void CopyRows::Put32(uint32_t v) {
  v = htobe32(v);
  data_.append(reinterpret_cast<const char*>(&v), 4);
}

CopyRows& CopyRows::BeginRow(int fields) {
  const uint16_t n = htobe16(static_cast<uint16_t>(fields));
  data_.append(reinterpret_cast<const char*>(&n), 2);
  return *this;
}

CopyRows& CopyRows::Add(std::string_view v) {
  Put32(static_cast<uint32_t>(v.size()));
  data_.append(v);
  return *this;
}

CopyRows& CopyRows::Add(const std::optional<std::string>& v) {
  if (v) return Add(std::string_view(*v));
  Put32(0xffffffff);  // -1: NULL
  return *this;
}

CopyRows& CopyRows::Add(int64_t v) {
  Put32(8);
  data_ += BigEndian64(static_cast<uint64_t>(v));
  return *this;
}

const std::string& CopyRows::Finish() {
  data_.append("\xff\xff", 2);  // a field count of -1 ends the data
  return data_;
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  // Earlier keywords are defaults: the conninfo (expanded from "dbname") overrides them.
  const char* const keys[] = {"connect_timeout", "client_encoding", "fallback_application_name",
                              "dbname", nullptr};
  const char* const values[] = {"10", "UTF8", "truthbook", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Unavailable("connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    // libpq names the host or socket path, which an HTTP client has no business seeing: the
    // log gets all of it, the status only the reason ("Connection refused").
    spdlog::warn("connect to PostgreSQL: {}", message);
    return Unavailable("connect to PostgreSQL: " + ConnectFailureReason(message));
  }
  // NOTICEs (a DROP ... CASCADE listing what it dropped) would go to stderr; nobody reads them.
  PQsetNoticeReceiver(
      conn, [](void*, const PGresult*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

Status Connection::Check(PGresult* result, std::string_view what) {
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return Status::Ok();
  }
  std::string sqlstate;
  std::string message;
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state != nullptr) sqlstate = state;
    message = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
  }
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  if (sqlstate == "25P02" && !failure_.ok()) return failure_;  // in_failed_sql_transaction
  if (Broken()) sqlstate.clear();                              // lost: Unavailable
  Status s = PgStatus(sqlstate, message, what);
  if (failure_.ok()) {
    failure_ = s;
    failure_sqlstate_ = sqlstate;
  }
  return s;
}

Status Connection::Exec(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  Status s = Check(result, "exec");
  PQclear(result);
  return s;
}

Status Connection::CopyIn(const char* sql, std::string_view data) {
  PGresult* started = PQexec(conn_, sql);
  if (PQresultStatus(started) != PGRES_COPY_IN) {
    Status s = Check(started, "copy");
    PQclear(started);
    return s.ok() ? Internal(std::string("copy: not a COPY FROM STDIN: ") + sql) : s;
  }
  PQclear(started);
  // On a send failure the server still ends the COPY; its result says why.
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) == 1) {
    (void)PQputCopyEnd(conn_, nullptr);
  } else {
    (void)PQputCopyEnd(conn_, "client could not send the rows");
  }
  PGresult* result = PQgetResult(conn_);
  std::string what = "copy";
  const char* context = result != nullptr ? PQresultErrorField(result, PG_DIAG_CONTEXT) : nullptr;
  if (context != nullptr) what += " (" + Trimmed(context) + ")";  // "COPY t, line 3, column c"
  Status s = Check(result, what);
  PQclear(result);
  while ((result = PQgetResult(conn_)) != nullptr) PQclear(result);
  return s;
}

Result<PGresult*> Connection::Execute(Statement& stmt) {
  const int n = static_cast<int>(stmt.params_.size());
  std::vector<unsigned int> types(n);
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n, 1);  // binary
  for (int i = 0; i < n; ++i) {
    const Statement::Param& p = stmt.params_[i];
    types[i] = p.type;
    values[i] = p.is_null ? nullptr : p.value.data();
    lengths[i] = static_cast<int>(p.value.size());
  }
  auto it = prepared_.find(stmt.sql_);
  if (it == prepared_.end()) {
    std::string name = "tb" + std::to_string(prepared_.size() + 1);
    PGresult* prepared = PQprepare(conn_, name.c_str(), stmt.sql_, n, types.data());
    Status s = Check(prepared, "prepare");
    PQclear(prepared);
    RETURN_IF_ERROR(s);
    it = prepared_.emplace(stmt.sql_, Prepared{std::move(name), types}).first;
  } else if (it->second.types != types) {
    return Internal(std::string("statement bound with other parameter types than when it was "
                                "prepared: ") +
                    stmt.sql_);
  }
  PGresult* result = PQexecPrepared(conn_, it->second.name.c_str(), n, values.data(),
                                    lengths.data(), formats.data(), /*resultFormat=*/1);
  Status s = Check(result, "query");
  if (!s.ok()) {
    PQclear(result);
    return s;
  }
  return result;
}

}  // namespace truthbook::store::postgres
