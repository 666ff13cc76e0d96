#include "store/sqlite/schema.h"

#include <string>

namespace truthbook::store::sqlite {
namespace {

// Triggers that make `table` append-only. `keys` are its unique keys (each a column list):
// a BEFORE INSERT trigger refuses a row whose key exists, because INSERT OR REPLACE deletes
// the old row without firing delete triggers unless recursive_triggers is on.
std::string AppendOnly(const std::string& table, const std::vector<std::string>& keys,
                       bool allow_delete = false) {
  std::string sql = "CREATE TRIGGER " + table + "_no_update BEFORE UPDATE ON " + table +
                    " BEGIN SELECT RAISE(ABORT, '" + table + " is append-only'); END;\n";
  if (!allow_delete) {
    sql += "CREATE TRIGGER " + table + "_no_delete BEFORE DELETE ON " + table +
           " BEGIN SELECT RAISE(ABORT, '" + table + " is append-only'); END;\n";
  }
  std::string exists;
  for (const std::string& key : keys) {
    if (!exists.empty()) exists += " OR ";
    std::string where;
    size_t start = 0;
    while (start <= key.size()) {
      size_t comma = key.find(',', start);
      if (comma == std::string::npos) comma = key.size();
      std::string col = key.substr(start, comma - start);
      if (!where.empty()) where += " AND ";
      where += col + " IS NEW." + col;
      start = comma + 1;
    }
    exists += "EXISTS (SELECT 1 FROM " + table + " WHERE " + where + ")";
  }
  sql += "CREATE TRIGGER " + table + "_no_replace BEFORE INSERT ON " + table + " WHEN " + exists +
         " BEGIN SELECT RAISE(ABORT, '" + table + ": a row with this key exists'); END;\n";
  return sql;
}

std::string V1Ledger() {
  std::string sql = R"sql(
CREATE TABLE events (
  event_id TEXT NOT NULL, revision INTEGER NOT NULL, sport TEXT NOT NULL, league TEXT NOT NULL,
  season TEXT NOT NULL, home_team TEXT NOT NULL, away_team TEXT NOT NULL,
  start_time INTEGER NOT NULL, status TEXT NOT NULL, body_sha256 TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, revision)) WITHOUT ROWID;
CREATE INDEX events_sport ON events (sport, event_id);

CREATE TABLE odds_snapshots (
  snapshot_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, book TEXT NOT NULL, market TEXT NOT NULL,
  captured_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, raw BLOB NOT NULL,
  quotes TEXT NOT NULL, devig_method TEXT NOT NULL, content_sha256 TEXT NOT NULL);
CREATE INDEX odds_snapshots_event_time ON odds_snapshots (event_id, captured_at, snapshot_id);
-- Identical content has the same event and capture time, so dedup needs no index on the
-- hash alone: a random-keyed index over millions of rows dirties a random page per insert.
CREATE UNIQUE INDEX odds_snapshots_content
  ON odds_snapshots (event_id, captured_at, content_sha256);

CREATE TABLE injury_snapshots (
  snapshot_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, team TEXT NOT NULL, source TEXT NOT NULL,
  captured_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, players TEXT NOT NULL,
  raw BLOB NOT NULL, content_sha256 TEXT NOT NULL UNIQUE);
CREATE INDEX injury_snapshots_event_time ON injury_snapshots (event_id, captured_at);

CREATE TABLE sim_runs (
  sim_run_id TEXT PRIMARY KEY, trigger TEXT NOT NULL, model_version TEXT NOT NULL,
  feature_set_version TEXT NOT NULL, decision_policy_version TEXT NOT NULL,
  git_sha TEXT NOT NULL, code_dirty INTEGER NOT NULL, n_sims INTEGER NOT NULL,
  rng_seed INTEGER NOT NULL, params TEXT NOT NULL, started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL);

CREATE TABLE sim_run_inputs (
  sim_run_id TEXT NOT NULL REFERENCES sim_runs (sim_run_id), input_kind TEXT NOT NULL,
  snapshot_id TEXT NOT NULL, content_sha256 TEXT NOT NULL,
  PRIMARY KEY (sim_run_id, snapshot_id));
CREATE INDEX sim_run_inputs_snapshot ON sim_run_inputs (snapshot_id);

CREATE TABLE predictions (
  prediction_id TEXT PRIMARY KEY, sim_run_id TEXT NOT NULL REFERENCES sim_runs (sim_run_id),
  event_id TEXT NOT NULL, market TEXT NOT NULL, selection TEXT NOT NULL, line REAL,
  player TEXT, stat TEXT, book TEXT NOT NULL, price_decimal REAL NOT NULL,
  price_american REAL NOT NULL, raw_prob REAL NOT NULL, calibrated_prob REAL,
  calibration_version_id TEXT, edge REAL, tier TEXT NOT NULL, stake_units REAL NOT NULL,
  recorded_at INTEGER NOT NULL);
CREATE INDEX predictions_sim_run ON predictions (sim_run_id);
CREATE INDEX predictions_event ON predictions (event_id);

CREATE TABLE ledger_entries (
  log_index INTEGER PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL,
  payload BLOB NOT NULL, entry_sha256 TEXT NOT NULL, recorded_at INTEGER NOT NULL);

-- An official record's key is its position in the log.
CREATE TABLE published_predictions (
  log_index INTEGER PRIMARY KEY REFERENCES ledger_entries (log_index),
  publish_id TEXT NOT NULL UNIQUE,
  prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (prediction_id),
  channel TEXT NOT NULL, visibility TEXT NOT NULL, is_official INTEGER NOT NULL,
  published_at INTEGER NOT NULL, request_sha256 TEXT NOT NULL);
CREATE INDEX published_predictions_time ON published_predictions (published_at, publish_id);

CREATE TABLE event_results (
  log_index INTEGER PRIMARY KEY REFERENCES ledger_entries (log_index),
  result_id TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL, revision INTEGER NOT NULL,
  status TEXT NOT NULL, home_score INTEGER, away_score INTEGER, player_stats TEXT NOT NULL,
  supersedes TEXT REFERENCES event_results (result_id), recorded_at INTEGER NOT NULL,
  UNIQUE (event_id, revision));

CREATE TABLE rejected_attempts (
  attempt_id TEXT PRIMARY KEY, kind TEXT NOT NULL, target_id TEXT NOT NULL,
  request_sha256 TEXT NOT NULL, reason TEXT NOT NULL, body BLOB NOT NULL,
  recorded_at INTEGER NOT NULL);
CREATE INDEX rejected_attempts_target ON rejected_attempts (target_id);

CREATE TABLE snapshot_cleanups (
  cleanup_id TEXT PRIMARY KEY, cutoff INTEGER NOT NULL, requested_at INTEGER NOT NULL,
  deleted_count INTEGER NOT NULL, deleted_ids TEXT NOT NULL);

-- Answers to POSTs with an Idempotency-Key: a cache, not a ledger table.
CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, status INTEGER NOT NULL,
  body BLOB NOT NULL, recorded_at INTEGER NOT NULL);

-- The log is gap-free: an entry must take exactly the next index.
CREATE TRIGGER ledger_entries_gap_free BEFORE INSERT ON ledger_entries
  WHEN NEW.log_index IS NOT (SELECT COALESCE(MAX(log_index) + 1, 0) FROM ledger_entries)
  BEGIN SELECT RAISE(ABORT, 'ledger_entries: log_index must be the next index'); END;

-- Retention may delete an odds snapshot only when no sim run read it.
CREATE TRIGGER odds_snapshots_no_delete_referenced BEFORE DELETE ON odds_snapshots
  WHEN EXISTS (SELECT 1 FROM sim_run_inputs WHERE snapshot_id = OLD.snapshot_id)
  BEGIN SELECT RAISE(ABORT, 'odds_snapshots: referenced by a sim run'); END;
)sql";
  sql += AppendOnly("events", {"event_id,revision"});
  sql += AppendOnly("odds_snapshots", {"snapshot_id", "event_id,captured_at,content_sha256"},
                    /*allow_delete=*/true);
  sql += AppendOnly("injury_snapshots", {"snapshot_id", "content_sha256"});
  sql += AppendOnly("sim_runs", {"sim_run_id"});
  sql += AppendOnly("sim_run_inputs", {"sim_run_id,snapshot_id"});
  sql += AppendOnly("predictions", {"prediction_id"});
  sql += AppendOnly("ledger_entries", {"log_index"});
  sql += AppendOnly("published_predictions", {"publish_id", "prediction_id", "log_index"});
  sql += AppendOnly("event_results", {"result_id", "event_id,revision", "log_index"});
  sql += AppendOnly("rejected_attempts", {"attempt_id"});
  sql += AppendOnly("snapshot_cleanups", {"cleanup_id"});
  return sql;
}

// Version 1's key triggers missed the implicit key: `INSERT OR REPLACE INTO t (rowid, ...)`
// with an existing rowid and otherwise fresh keys deleted the old row (firing no delete
// trigger) and put a different one in its place. Refuse any insert whose rowid is taken.
// events is WITHOUT ROWID; in ledger_entries, published_predictions and event_results the
// rowid is log_index, which the key triggers already check.
std::string V2RefuseRowidReuse() {
  std::string sql;
  for (const std::string table :
       {"odds_snapshots", "injury_snapshots", "sim_runs", "sim_run_inputs", "predictions",
        "rejected_attempts", "snapshot_cleanups"}) {
    sql += "CREATE TRIGGER " + table + "_no_rowid_reuse BEFORE INSERT ON " + table +
           " WHEN EXISTS (SELECT 1 FROM " + table + " WHERE rowid = NEW.rowid) BEGIN SELECT " +
           "RAISE(ABORT, '" + table + ": a row with this rowid exists'); END;\n";
  }
  return sql;
}

// Gradings (issue 3), and the player and stat of a player-prop odds snapshot, which the
// closing-line lookup matches on.
std::string V3Grading() {
  std::string sql = R"sql(
ALTER TABLE odds_snapshots ADD COLUMN player TEXT;
ALTER TABLE odds_snapshots ADD COLUMN stat TEXT;

CREATE TABLE grading (
  log_index INTEGER PRIMARY KEY REFERENCES ledger_entries (log_index),
  grading_id TEXT NOT NULL UNIQUE,
  publish_id TEXT NOT NULL REFERENCES published_predictions (publish_id),
  result_id TEXT NOT NULL REFERENCES event_results (result_id),
  outcome TEXT NOT NULL, stake_convention TEXT NOT NULL, stake REAL NOT NULL,
  profit_units REAL NOT NULL, price_decimal REAL NOT NULL,
  closing_snapshot_id TEXT REFERENCES odds_snapshots (snapshot_id), closing_price REAL,
  clv_price REAL, clv_fair REAL, clv_prob_pts REAL, clv_note TEXT, devig_method TEXT NOT NULL,
  prob_used TEXT NOT NULL, prob REAL NOT NULL, brier REAL, log_loss REAL,
  supersedes TEXT UNIQUE REFERENCES grading (grading_id), graded_at INTEGER NOT NULL,
  -- One grading per publish and result revision: grading the same revision again is a no-op.
  UNIQUE (publish_id, result_id));
CREATE INDEX grading_closing_snapshot ON grading (closing_snapshot_id);

-- Each publish has one linear history: a grading supersedes exactly the publish's current
-- grading (none for the first), so no grading is superseded twice or across publishes.
CREATE TRIGGER grading_supersedes_current BEFORE INSERT ON grading
  WHEN NEW.supersedes IS NOT (SELECT g.grading_id FROM grading g
    WHERE g.publish_id = NEW.publish_id
      AND NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id))
  BEGIN SELECT RAISE(ABORT, 'grading: must supersede the publish''s current grading'); END;

-- Retention may not delete the closing snapshot a grading names.
CREATE TRIGGER odds_snapshots_no_delete_graded BEFORE DELETE ON odds_snapshots
  WHEN EXISTS (SELECT 1 FROM grading WHERE closing_snapshot_id = OLD.snapshot_id)
  BEGIN SELECT RAISE(ABORT, 'odds_snapshots: the closing line of a grading'); END;
)sql";
  sql += AppendOnly("grading", {"grading_id", "publish_id,result_id", "log_index"});
  return sql;
}

// Calibration (issue 4): versions and their segments are immutable once written;
// activations are official records in the ledger.
std::string V4Calibration() {
  std::string sql = R"sql(
CREATE TABLE calibration_versions (
  calibration_version_id TEXT PRIMARY KEY, method TEXT NOT NULL,
  training_from INTEGER NOT NULL, training_to INTEGER NOT NULL, n INTEGER NOT NULL,
  settings TEXT NOT NULL, metrics_before TEXT NOT NULL, metrics_after TEXT NOT NULL,
  gates TEXT NOT NULL, gates_passed INTEGER NOT NULL, code_version TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE INDEX calibration_versions_time ON calibration_versions (created_at);

CREATE TABLE calibration_segments (
  calibration_version_id TEXT NOT NULL
    REFERENCES calibration_versions (calibration_version_id),
  segment_key TEXT NOT NULL, fitted_on TEXT NOT NULL, fallback TEXT NOT NULL,
  n INTEGER NOT NULL, params TEXT NOT NULL, metrics TEXT NOT NULL, bins TEXT NOT NULL,
  PRIMARY KEY (calibration_version_id, segment_key)) WITHOUT ROWID;

CREATE TABLE calibration_activations (
  log_index INTEGER PRIMARY KEY REFERENCES ledger_entries (log_index),
  activation_id TEXT NOT NULL UNIQUE,
  calibration_version_id TEXT NOT NULL
    REFERENCES calibration_versions (calibration_version_id),
  actor TEXT NOT NULL, reason TEXT NOT NULL, forced INTEGER NOT NULL,
  activated_at INTEGER NOT NULL);
)sql";
  sql += AppendOnly("calibration_versions", {"calibration_version_id"});
  sql += AppendOnly("calibration_segments", {"calibration_version_id,segment_key"});
  sql += AppendOnly("calibration_activations", {"activation_id", "log_index"});
  sql +=
      "CREATE TRIGGER calibration_versions_no_rowid_reuse BEFORE INSERT ON "
      "calibration_versions WHEN EXISTS (SELECT 1 FROM calibration_versions WHERE rowid = "
      "NEW.rowid) BEGIN SELECT RAISE(ABORT, 'calibration_versions: a row with this rowid "
      "exists'); END;\n";
  return sql;
}

// Performance rollups and the scheduler (issue 5). Both are operational state, not ledger
// records: rollups are rebuilt from gradings, and a job run is claimed and then finished.
std::string V5RollupsAndJobs() {
  return R"sql(
CREATE TABLE performance_rollups (
  rollup_key TEXT NOT NULL, dims TEXT NOT NULL, day INTEGER NOT NULL, season TEXT NOT NULL,
  win INTEGER NOT NULL, loss INTEGER NOT NULL, push INTEGER NOT NULL, void INTEGER NOT NULL,
  half_win INTEGER NOT NULL, half_loss INTEGER NOT NULL, stake REAL NOT NULL,
  profit_units REAL NOT NULL, clv_price_sum REAL NOT NULL, clv_price_n INTEGER NOT NULL,
  clv_fair_sum REAL NOT NULL, clv_prob_pts_sum REAL NOT NULL, clv_n INTEGER NOT NULL,
  beat_close_n INTEGER NOT NULL, brier_sum REAL NOT NULL, log_loss_sum REAL NOT NULL,
  scored_n INTEGER NOT NULL,
  -- 10 reliability bins x (n, sum p, sum hits), little-endian int64/float64.
  bins BLOB NOT NULL, computed_at INTEGER NOT NULL,
  -- Reads scan one combination (dims) or one key in key and day order: both are ranges of
  -- this key, with no sort and no second lookup.
  PRIMARY KEY (dims, rollup_key, day, season)) WITHOUT ROWID;
CREATE INDEX performance_rollups_day ON performance_rollups (day);
CREATE TABLE rollup_state (
  id INTEGER PRIMARY KEY CHECK (id = 1), watermark INTEGER NOT NULL);
CREATE TABLE job_runs (
  job TEXT NOT NULL, slot TEXT NOT NULL, trigger TEXT NOT NULL, status TEXT NOT NULL,
  claimed_by TEXT NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER,
  duration_ms INTEGER, summary TEXT NOT NULL,
  PRIMARY KEY (job, slot)) WITHOUT ROWID;
CREATE INDEX job_runs_started ON job_runs (job, started_at);
)sql";
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, "ledger core", V1Ledger()},
      {2, "append-only: refuse rowid reuse", V2RefuseRowidReuse()},
      {3, "grading", V3Grading()},
      {4, "calibration", V4Calibration()},
      {5, "performance rollups and job runs", V5RollupsAndJobs()},
  };
  return *migrations;
}

const std::vector<std::string>& TableNames() {
  static const auto* names = new std::vector<std::string>{"events",
                                                          "odds_snapshots",
                                                          "injury_snapshots",
                                                          "sim_runs",
                                                          "sim_run_inputs",
                                                          "predictions",
                                                          "published_predictions",
                                                          "event_results",
                                                          "grading",
                                                          "calibration_versions",
                                                          "calibration_segments",
                                                          "calibration_activations",
                                                          "performance_rollups",
                                                          "rollup_state",
                                                          "job_runs",
                                                          "rejected_attempts",
                                                          "ledger_entries",
                                                          "snapshot_cleanups",
                                                          "idempotency_keys",
                                                          "schema_migrations"};
  return *names;
}

Status Migrate(Connection& conn, TimePoint now,
               const std::function<void(const std::string& table)>& on_table) {
  RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
  static constexpr char kCurrentVersion[] =
      "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
  static constexpr char kRecord[] =
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";
  for (const Migration& m : Migrations()) {
    RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      ASSIGN_OR_RETURN(Statement current, conn.Prepare(kCurrentVersion));
      ASSIGN_OR_RETURN(bool row, current.Step());
      if (row && current.Int(0) >= m.version) return Status::Ok();
      RETURN_IF_ERROR(conn.Exec(m.sql));
      ASSIGN_OR_RETURN(Statement record, conn.Prepare(kRecord));
      return record.BindAll(int64_t{m.version}, m.name, now).Run();
    }();
    RETURN_IF_ERROR(conn.Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
    RETURN_IF_ERROR(s);
  }
  static constexpr char kTables[] =
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid";
  ASSIGN_OR_RETURN(Statement tables, conn.Prepare(kTables));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, tables.Step());
    if (!row) break;
    on_table(tables.Text(0));
  }
  return Status::Ok();
}

}  // namespace truthbook::store::sqlite
