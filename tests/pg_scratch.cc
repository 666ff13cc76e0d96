#include "pg_scratch.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>

#include "shell.h"
#include "store/postgres/connection.h"

namespace truthbook::test_support {

using store::postgres::Connection;

std::optional<std::string> PostgresServer() {
  const char* server = std::getenv("TRUTHBOOK_PG");
  if (server == nullptr || *server == '\0') return std::nullopt;
  return std::string(server);
}

Result<std::unique_ptr<ScratchDatabase>> ScratchDatabase::Create(const std::string& server,
                                                                 const std::string& template_db) {
  static std::atomic<uint64_t> counter{0};
  std::random_device random;
  const std::string name =
      "tb_test_" + std::to_string(random()) + "_" + std::to_string(counter.fetch_add(1));
  ASSIGN_OR_RETURN(auto pairs, store::postgres::ParseConninfo(server));
  std::erase_if(pairs, [](const auto& kv) { return kv.first == "dbname"; });
  pairs.emplace_back("dbname", name);
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> admin, Connection::Open(server));
  std::string create = "CREATE DATABASE " + name;
  if (!template_db.empty()) create += " TEMPLATE " + template_db;
  RETURN_IF_ERROR(admin->Exec(create));
  return std::unique_ptr<ScratchDatabase>(
      new ScratchDatabase(server, name, store::postgres::FormatConninfo(pairs)));
}

ScratchDatabase::~ScratchDatabase() {
  Result<std::unique_ptr<Connection>> admin = Connection::Open(server_);
  if (admin.ok()) (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

namespace {

#ifndef TRUTHBOOK_SOURCE_DIR
#error "define TRUTHBOOK_SOURCE_DIR as the repository's root"
#endif

// Runs scripts/pg_temp.sh with `args`; its output (a conninfo for start and replica).
Result<std::string> PgTemp(const std::string& args) {
  ShellResult r = RunShell(TRUTHBOOK_SOURCE_DIR "/scripts/pg_temp.sh " + args);
  if (r.exit_code != 0) return Unavailable("pg_temp.sh " + args + ": " + r.output);
  return r.output.substr(0, r.output.find('\n'));
}

}  // namespace

Result<std::unique_ptr<TempCluster>> TempCluster::Start() {
  ASSIGN_OR_RETURN(std::string conninfo, PgTemp("start"));
  return std::unique_ptr<TempCluster>(new TempCluster(conninfo));
}

TempCluster::~TempCluster() { (void)PgTemp("stop \"" + conninfo_ + "\""); }

Result<std::unique_ptr<TempCluster>> TempCluster::Replica() const {
  ASSIGN_OR_RETURN(std::string conninfo, PgTemp("replica \"" + conninfo_ + "\""));
  return std::unique_ptr<TempCluster>(new TempCluster(conninfo));
}

Status TempCluster::Pause() const { return PgTemp("pause \"" + conninfo_ + "\"").status(); }

Status TempCluster::Resume() const { return PgTemp("resume \"" + conninfo_ + "\"").status(); }

Result<TextRows> QueryText(const std::string& conninfo, const std::string& sql) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(conninfo));
  PGresult* result = PQexec(conn->raw(), sql.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> owned(result, &PQclear);
  if (PQresultStatus(result) != PGRES_TUPLES_OK && PQresultStatus(result) != PGRES_COMMAND_OK) {
    const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    return store::postgres::PgStatus(sqlstate == nullptr ? "" : sqlstate,
                                     PQerrorMessage(conn->raw()), sql);
  }
  TextRows rows(PQntuples(result));
  for (int r = 0; r < PQntuples(result); ++r) {
    for (int c = 0; c < PQnfields(result); ++c) rows[r].emplace_back(PQgetvalue(result, r, c));
  }
  return rows;
}

}  // namespace truthbook::test_support
