// The SQLite schema as versioned, forward-only migrations, and the append-only triggers that
// make the database itself refuse edits to ledger tables (DESIGN §2).
// Thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/sqlite/connection.h"

namespace truthbook::store::sqlite {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// Every migration, in version order. Applied migrations are recorded in schema_migrations
// and never edited: a change to the schema is a new migration.
const std::vector<Migration>& Migrations();

// Applies every migration newer than the database's version, each in its own transaction,
// calling `on_table` with the name of each table that exists afterwards. Safe to run twice.
Status Migrate(Connection& conn, TimePoint now,
               const std::function<void(const std::string& table)>& on_table);

// The names of every table, in creation order (for health counts).
const std::vector<std::string>& TableNames();

}  // namespace truthbook::store::sqlite
