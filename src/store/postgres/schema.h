// The PostgreSQL schema as versioned, forward-only migrations numbered as the SQLite ones
// (store/sqlite/schema.h), with the same tables, keys and ledger rules, and the triggers that
// make the database itself refuse edits of ledger tables (DESIGN §2): row triggers refusing
// UPDATE and DELETE, statement triggers refusing UPDATE, DELETE and TRUNCATE, all
// `ENABLE ALWAYS` so that `session_replication_role = replica` does not switch them off.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/postgres/connection.h"

namespace truthbook::store::postgres {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// Every migration, in version order. Applied migrations are recorded in schema_migrations
// and never edited: a change to the schema is a new migration.
const std::vector<Migration>& Migrations();

// The session-level advisory lock that serializes migrators (several servers starting at
// once), and the transaction-level one under which a ledger entry takes the next log_index.
inline constexpr int64_t kMigrationLockKey = 0x74625f6d69677274;  // "tb_migrt"
inline constexpr int64_t kLedgerLockKey = 0x74625f6c65646772;     // "tb_ledgr"
// The transaction-level advisory lock under which a partition of odds_snapshots is created.
inline constexpr int64_t kPartitionLockKey = 0x74625f7061727473;  // "tb_parts"

// Applies every migration newer than the database's version, each in its own transaction,
// holding kMigrationLockKey throughout, then calls `on_table` with the name of each table of
// the current schema. Safe to run twice and from several processes at once.
Status Migrate(Connection& conn, TimePoint now,
               const std::function<void(const std::string& table)>& on_table);

// Grants `role` (an existing role, named as a plain lower-case identifier) what a truthbook
// server needs on the current schema and nothing more: SELECT and INSERT on every table,
// DELETE only where the store deletes (retention of odds snapshots, rebuilt rollup days),
// UPDATE only on the operational tables that change (job_runs, rollup_state), and no TRUNCATE
// or DDL. InvalidArgument for any other role name. See docs/DEPLOYMENT.md.
Status GrantAppRole(Connection& conn, const std::string& role);

// The names of every table, in creation order (for health counts).
const std::vector<std::string>& TableNames();

}  // namespace truthbook::store::postgres
