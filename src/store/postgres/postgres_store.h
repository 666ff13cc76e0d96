// The PostgreSQL backend of store::Store, for several servers sharing one store. A small pool
// of connections serves both halves: Write runs its callback in a READ COMMITTED transaction
// (run again from the start after a serialization failure or a deadlock), on one of a few
// writer threads, which commit the writes queued meanwhile together (group commit: the
// ledger's lock is held to the commit, so one WAL flush then serves many appends); Read runs its
// callback in a REPEATABLE READ READ ONLY transaction on the caller's thread. What makes concurrent
// servers safe lives in the transactions themselves: ledger entries take the next log_index under a
// transaction-level advisory lock (gap-free across servers), and inserts that may collide use ON
// CONFLICT DO NOTHING (never DO UPDATE, which would fire the append-only triggers) and report
// AlreadyExists with the transaction still usable, as SQLite's failed statement is rolled back
// alone. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "store/postgres/connection.h"
#include "store/postgres/partitions.h"
#include "store/store.h"

namespace truthbook::store::postgres {

struct PostgresOptions {
  // Most connections the store holds open, readers and writers together (plus one that
  // creates odds_snapshots partitions when a month needs one). Default 8.
  int max_connections = 8;
  // Threads that run WriteAsync callbacks, each its own transaction (of a batch). Default 2:
  // one batch can take the ledger's lock while the other commits; more threads make smaller
  // batches that queue on that lock (docs/BENCHMARKS.md, "Publishes on PostgreSQL").
  int writer_threads = 2;
  // Times one write is tried when PostgreSQL reports a serialization failure or a deadlock.
  // Default 5.
  int max_write_attempts = 5;
  // Most queued writes one writer thread runs in one transaction (group commit). Default 64.
  int max_batch = 64;
  // For a read replica (a hot standby): Open creates no partitions (the primary does), and a
  // schema that needs migrating is an error rather than migrated. Default false.
  bool read_only = false;
};

class PostgresStore final : public Store {
 public:
  // Months after the current one whose odds_snapshots partitions Open() creates ahead of time.
  static constexpr int kPartitionsAhead = 3;

  // Connects with the libpq `conninfo` (key=value or postgresql:// URI), applies pending
  // migrations (serialized across processes) and creates the odds_snapshots partitions of the
  // current month and the kPartitionsAhead after it. `on_table` (may be empty) hears each table
  // name, for `init-db`. InvalidArgument for an unparseable conninfo; Unavailable when the
  // server cannot be reached or the schema cannot be migrated.
  static Result<std::unique_ptr<PostgresStore>> Open(
      const std::string& conninfo, const Clock& clock, PostgresOptions options = {},
      const std::function<void(const std::string&)>& on_table = {});
  // Whether `db` (a --db value) names a PostgreSQL server rather than a SQLite file: a
  // postgresql:// or postgres:// URI, or a conninfo with host=.
  static bool IsConninfo(std::string_view db);

  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;
  // Runs what WriteAsync queued, then closes every connection.
  ~PostgresStore() override;

  void WriteAsync(WriteFn fn, DoneFn done) override;
  Status Read(const ReadFn& fn) override;
  // The conninfo without its password.
  std::string Location() const override { return location_; }
  std::string Backend() const override { return "postgresql"; }

 private:
  class Lease;
  struct Job {
    WriteFn fn;
    DoneFn done;
    Status status;
  };

  PostgresStore(std::string conninfo, PostgresOptions options, std::unique_ptr<Connection> first);
  // A connection of the pool with a transaction begun by `begin`. A pooled connection that
  // turns out to be lost (the server restarted) is dropped and another one tried.
  Result<Lease> Begin(const char* begin);
  Result<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> conn);
  Status RunWrite(const WriteFn& fn);
  // Runs two or more writes in one transaction, each in a savepoint so that a write that
  // fails is rolled back alone, and commits once; sets each job's status.
  void CommitBatch(std::vector<Job>& batch);
  void WriterLoop();

  const std::string conninfo_;
  const std::string location_;
  const PostgresOptions options_;
  OddsPartitions partitions_;  // its own connection, besides the pool

  std::mutex mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // connections out or idle; mu_

  std::condition_variable work_cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> writers_;
};

}  // namespace truthbook::store::postgres
