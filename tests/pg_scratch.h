// Test support for PostgreSQL: the server under test (TRUTHBOOK_PG, a libpq conninfo) and a
// scratch database on it that lives as long as its ScratchDatabase. Tests that need
// PostgreSQL are skipped when TRUTHBOOK_PG is unset (scripts/test.sh always sets it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace truthbook::test_support {

// What a test that needs PostgreSQL prints when TRUTHBOOK_PG is unset. CMake's
// SKIP_REGULAR_EXPRESSION reports such a test as skipped.
inline constexpr char kNoPostgres[] =
    "TRUTHBOOK_PG is not set: PostgreSQL tests skipped. Set it to the libpq conninfo of a "
    "server where tests may create schemas, databases and roles, e.g. "
    "TRUTHBOOK_PG=\"$(scripts/pg_temp.sh start)\" (a throwaway cluster; stop it with "
    "scripts/pg_temp.sh stop DIR), or run scripts/test.sh, which does this.";

// $TRUTHBOOK_PG, or nullopt when it is unset or empty.
std::optional<std::string> PostgresServer();

// A database created empty (or as a copy of `template_db`) on `server`, dropped with
// everything in it on destruction, even while servers are still connected.
class ScratchDatabase {
 public:
  static Result<std::unique_ptr<ScratchDatabase>> Create(const std::string& server,
                                                         const std::string& template_db = "");
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  // The server's conninfo with dbname set to this database.
  const std::string& conninfo() const { return conninfo_; }

 private:
  ScratchDatabase(std::string server, std::string name, std::string conninfo)
      : server_(std::move(server)), name_(std::move(name)), conninfo_(std::move(conninfo)) {}

  const std::string server_;
  const std::string name_;
  const std::string conninfo_;
};

// A PostgreSQL 15 cluster of the test's own (scripts/pg_temp.sh: Unix socket only), stopped
// and removed on destruction. For tests that stop the database or replicate it.
class TempCluster {
 public:
  static Result<std::unique_ptr<TempCluster>> Start();
  ~TempCluster();
  TempCluster(const TempCluster&) = delete;
  TempCluster& operator=(const TempCluster&) = delete;

  // A streaming read replica (hot standby) of this cluster.
  Result<std::unique_ptr<TempCluster>> Replica() const;
  // Stops the cluster at once, as a crash would; Resume starts it again as it was.
  Status Pause() const;
  Status Resume() const;
  const std::string& conninfo() const { return conninfo_; }

 private:
  explicit TempCluster(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  const std::string conninfo_;
};

// The rows of `sql` (one statement, no parameters; none for a command) on a new connection
// to `conninfo`, as text ("" for NULL).
using TextRows = std::vector<std::vector<std::string>>;
Result<TextRows> QueryText(const std::string& conninfo, const std::string& sql);

}  // namespace truthbook::test_support
