// Black-box test support: runs the real `truthbook serve` binary (TRUTHBOOK_BIN) on a free
// loopback port with its own temporary directory and database, and talks to it over a tiny
// blocking HTTP/1.1 client. The database is a SQLite file, or, when the environment has
// TRUTHBOOK_TEST_BACKEND=postgresql, a scratch database on the TRUTHBOOK_PG server (CMake
// registers every HTTP test a second time that way, as `postgresql.Suite.Test`). Everything is
// bounded in time; nothing sleeps except the poll for the server's start-up. Test-only; one
// ServerProcess per test (or fixture), driven from the test thread (Request may be called from
// several threads at once).
//
// Usage, in a fixture:
//   void SetUp() override { ASSERT_TRUE(server_.Start()); }
//   HttpResult r = server_.Post("events", EventBody("nba-1"));
//   EXPECT_EQ(r.status, 201);
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pg_scratch.h"

namespace truthbook::test_support {

inline constexpr std::string_view kApiPrefix = "/api/calibration/";

using Headers = std::vector<std::pair<std::string, std::string>>;

// One HTTP answer. status is 0 when the exchange failed (refused, reset, timed out); then
// `error` says why.
struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string error;

  // The body parsed as JSON (discarded value when it is not JSON).
  nlohmann::json Json() const;
};

// Sends one request on its own connection with `Connection: close` and Content-Length, and
// reads the whole answer. `path` is the full path with any query ("/api/calibration/health").
// Gives up after `timeout_ms` of silence.
HttpResult SendHttp(uint16_t port, std::string_view method, std::string_view path,
                    std::string_view body = "", const Headers& headers = {},
                    int timeout_ms = 30000);

// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless the current test
// failed (then its path is printed so the server log can be read).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class ServerProcess {
 public:
  ServerProcess() = default;
  // `serve_flags` are passed to every start after the harness's own flags, e.g.
  // {"--rollups-schedule", "*/1 * * * * *"}.
  explicit ServerProcess(std::vector<std::string> serve_flags)
      : serve_flags_(std::move(serve_flags)) {}
  ~ServerProcess();  // SIGTERM, reap (SIGKILL after a deadline)
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `truthbook serve --db DB` on a free port and waits (bounded) until GET health
  // answers 200. Its stdout and stderr go to DIR/server.log. DB is the one chosen below, or
  // else DIR/t.db, or a fresh scratch PostgreSQL database under TRUTHBOOK_TEST_BACKEND.
  ::testing::AssertionResult Start();
  // Sends `signal` and reaps the process (SIGKILL after a deadline if it does not exit);
  // returns its wait status (0 when it was not running).
  int Kill(int signal);
  // Kill(SIGTERM) if running, then Start() again on the same database (on a new port).
  ::testing::AssertionResult Restart();
  bool running() const { return pid_ > 0; }
  // Replaces the extra serve flags of the next Start or Restart.
  void set_serve_flags(std::vector<std::string> flags) { serve_flags_ = std::move(flags); }

  // Before the first Start: run on a fresh scratch database on the TRUTHBOOK_PG server (fails
  // with kNoPostgres when it is unset).
  ::testing::AssertionResult UsePostgres();
  // Before the first Start: run on `db`, a --db value (e.g. another server's db(): several
  // servers on one store).
  void UseDatabase(std::string db) { db_ = std::move(db); }
  // Before the first Start: run on a copy of the database of `other`, which is stopped.
  ::testing::AssertionResult CopyDatabase(const ServerProcess& other);
  // The --db value: the SQLite path or the PostgreSQL conninfo.
  const std::string& db() const { return db_; }
  // Whether db() names a PostgreSQL server rather than a SQLite file.
  bool postgres() const;

  uint16_t port() const { return port_; }
  std::filesystem::path db_path() const { return dir_.path() / "t.db"; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string Log() const;

  // Full path ("/api/calibration/x", "/elsewhere") with optional query.
  HttpResult Request(std::string_view method, std::string_view path, std::string_view body = "",
                     const Headers& headers = {}) const;
  // `route` is relative to /api/calibration/ ("publish", "snapshots/e1?limit=1").
  HttpResult Get(std::string_view route) const;
  HttpResult Post(std::string_view route, const nlohmann::json& body,
                  const Headers& headers = {}) const;
  HttpResult PostRaw(std::string_view route, std::string_view body,
                     const Headers& headers = {}) const;

  // Every table's row count, from GET health's `collections` (empty map on failure, after
  // recording a test failure), except the scheduler's and the rollups' own tables (job_runs,
  // performance_rollups, rollup_state): after any grading the server refreshes the rollups in
  // the background, so those change on their own schedule.
  std::map<std::string, int64_t> RowCounts() const;

 private:
  // One start on a fresh port; `exited` says the server died during start-up.
  ::testing::AssertionResult StartOnce(bool& exited);

  TempDir dir_;
  std::vector<std::string> serve_flags_;
  std::string db_;
  std::unique_ptr<ScratchDatabase> scratch_;  // the PostgreSQL database this server owns
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Sends `n` POSTs to `route` at once, each from its own thread on its own connection, the
// i-th with body_for(i) to servers[i % servers.size()]; the answers in order.
std::vector<HttpResult> PostConcurrently(const std::vector<const ServerProcess*>& servers,
                                         std::string_view route, int n,
                                         const std::function<nlohmann::json(int)>& body_for);

// POSTs `body` to `route` of `server` and expects `status`; returns the answer's JSON.
nlohmann::json PostExpect(const ServerProcess& server, std::string_view route,
                          const nlohmann::json& body, int status, const Headers& headers = {});
// GETs `route` of `server` and expects 200 with application/json; returns the answer's JSON.
nlohmann::json GetOk(const ServerProcess& server, std::string_view route);

// A fixture with one server on a fresh database, started in SetUp.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  nlohmann::json PostExpect(std::string_view route, const nlohmann::json& body, int status,
                            const Headers& headers = {}) const {
    return test_support::PostExpect(server_, route, body, status, headers);
  }
  nlohmann::json GetOk(std::string_view route) const { return test_support::GetOk(server_, route); }

  ServerProcess server_;
};

// Expects an application/problem+json answer with `status` (also as its status member), string
// type and title, and a detail that contains `detail`.
void ExpectProblem(const HttpResult& r, int status, std::string_view detail);
// The same, and the detail starts with "`field`:".
void ExpectProblem(const HttpResult& r, int status, std::string_view field,
                   std::string_view detail);

// Request bodies of the seed's flow, valid as given; tests edit the JSON to vary them.
nlohmann::json EventBody(const std::string& event_id,
                         const std::string& start_time = "2099-01-01T00:30:00Z",
                         const std::string& sport = "NBA");
// A two-sided spread snapshot (home -3.5 / away +3.5 at -110).
nlohmann::json OddsSnapshotBody(const std::string& event_id,
                                const std::string& captured_at = "2026-11-26T18:00:00Z",
                                const std::string& book = "pinnacle",
                                const std::string& market = "spread");
nlohmann::json InjurySnapshotBody(const std::string& event_id);
// One prediction of a sim run, staking 1 unit; `line` is left out when not given. Tests set
// more fields (calibrated_prob, player, ...) on it.
nlohmann::json PredictionBody(const std::string& event_id, const std::string& market,
                              const std::string& selection, std::optional<double> line,
                              const nlohmann::json& price, double raw_prob,
                              const std::string& book = "pinnacle", const std::string& tier = "A");
// A sim run with `predictions` reading `inputs` ({kind, snapshot_id}), started and finished
// at 18:05 and 18:06 UTC on `day` ("YYYY-MM-DD").
nlohmann::json SimRunWith(const nlohmann::json& predictions,
                          const nlohmann::json& inputs = nlohmann::json::array(),
                          const std::string& day = "2026-11-26");
// A sim run reading `inputs` ({kind, snapshot_id}) with one spread prediction on `event_id`
// per entry of `raw_probs`.
nlohmann::json SimRunBody(const std::string& event_id, const nlohmann::json& inputs,
                          const std::vector<double>& raw_probs = {0.56});
nlohmann::json PublishBody(const std::string& prediction_id,
                           const std::string& channel = "TELEGRAM");
nlohmann::json ResultBody(const std::string& event_id, int home_score, int away_score);

// The ids of one seed flow: event -> odds and injury snapshots -> sim run with predictions.
struct SeedFlow {
  std::string event_id;
  std::string odds_snapshot_id;
  std::string odds_sha256;
  std::string injury_snapshot_id;
  std::string injury_sha256;
  std::string sim_run_id;
  std::vector<std::string> prediction_ids;
};

// Creates one seed flow on `server` with `n_predictions` predictions (records a test failure
// and returns what it has on any unexpected answer).
SeedFlow CreateSeedFlow(const ServerProcess& server, const std::string& event_id,
                        const std::string& start_time = "2099-01-01T00:30:00Z",
                        int n_predictions = 1, const std::string& sport = "NBA");

}  // namespace truthbook::test_support
