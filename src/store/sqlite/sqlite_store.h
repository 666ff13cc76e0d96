// The SQLite backend of store::Store. One writer thread owns the write connection and commits
// concurrent Write() calls together (group commit): each call runs inside its own SAVEPOINT of
// a shared transaction, and every caller is answered only after the one fsynced COMMIT.
// A completion thread runs the callers' callbacks, so the writer thread does nothing but
// transactions. Reads use a pool of connections; WAL lets them run beside the writer.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace truthbook::store::sqlite {

struct SqliteOptions {
  // Most Write() calls committed in one transaction. Default 256.
  int max_batch = 256;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` and applies pending migrations.
  // `on_table` (may be empty) hears each table name, for `init-db`.
  // Fails with Unavailable when the file cannot be opened or migrated.
  static Result<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, const Clock& clock, SqliteOptions options = {},
      const std::function<void(const std::string&)>& on_table = {});
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

  void WriteAsync(WriteFn fn, DoneFn done) override;
  Status Read(const ReadFn& fn) override;
  std::string Location() const override { return path_; }
  std::string Backend() const override { return "sqlite"; }

 private:
  struct Job {
    WriteFn fn;
    DoneFn done;
    Status status;
  };

  SqliteStore(std::string path, std::unique_ptr<Connection> writer, SqliteOptions options);
  void WriterLoop();
  void CommitBatch(std::vector<Job>& batch);
  void CompleterLoop();
  // sqlite3_wal_hook, on the writer thread after each commit: the checkpoint policy.
  static int OnCommit(void* self, sqlite3* db, const char* name, int wal_pages);

  const std::string path_;
  const SqliteOptions options_;
  std::unique_ptr<Connection> writer_;  // used only by writer_thread_
  int last_wal_pages_ = 0;              // used only by writer_thread_

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<Job> queue_;                                  // guarded by mu_
  bool stopping_ = false;                                  // guarded by mu_
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by mu_

  std::condition_variable finished_cv_;
  std::deque<std::vector<Job>> finished_;  // committed batches awaiting callbacks; mu_
  bool writer_done_ = false;               // guarded by mu_

  std::thread writer_thread_;
  std::thread completer_thread_;
};

}  // namespace truthbook::store::sqlite
