#include "store/postgres/schema.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace truthbook::store::postgres {
namespace {

// Text columns compare byte by byte (COLLATE "C"), as SQLite compares them, so that every
// listing ordered by an id or a key comes back in the same order on both backends whatever
// the database's locale. The migrations write CTEXT for such a column.
std::string WithTextCollation(std::string sql) {
  static constexpr std::string_view kToken = "CTEXT";
  static constexpr std::string_view kType = "TEXT COLLATE \"C\"";
  for (size_t at = sql.find(kToken); at != std::string::npos; at = sql.find(kToken, at)) {
    sql.replace(at, kToken.size(), kType);
    at += kType.size();
  }
  return sql;
}

// `ALTER TABLE table ENABLE ALWAYS TRIGGER trigger`: fires whatever session_replication_role is.
std::string Always(const std::string& table, const std::string& trigger) {
  return "ALTER TABLE " + table + " ENABLE ALWAYS TRIGGER " + trigger + ";\n";
}

// Triggers that make `table` append-only: a row trigger and a statement trigger refuse
// UPDATE and DELETE (the statement one also when no row matches, so that an edit fails the
// same way on an empty table), and a statement trigger refuses TRUNCATE. With `allow_delete`
// DELETE is left to the table's own rules (odds snapshots: retention).
std::string AppendOnly(const std::string& table, bool allow_delete = false) {
  const std::string ops = allow_delete ? "UPDATE" : "UPDATE OR DELETE";
  std::string sql;
  sql += "CREATE TRIGGER " + table + "_append_only BEFORE " + ops + " ON " + table +
         " FOR EACH ROW EXECUTE FUNCTION tb_refuse_edit();\n";
  sql += "CREATE TRIGGER " + table + "_append_only_statement BEFORE " + ops + " ON " + table +
         " FOR EACH STATEMENT EXECUTE FUNCTION tb_refuse_edit();\n";
  sql += "CREATE TRIGGER " + table + "_no_truncate BEFORE TRUNCATE ON " + table +
         " FOR EACH STATEMENT EXECUTE FUNCTION tb_refuse_edit();\n";
  sql += Always(table, table + "_append_only");
  sql += Always(table, table + "_append_only_statement");
  sql += Always(table, table + "_no_truncate");
  return sql;
}

// The trigger functions name tables unqualified; `SET search_path FROM CURRENT` pins them to
// the schema the migration ran in, whatever search_path the session that fires them has.
std::string V1Ledger() {
  std::string sql = R"sql(
CREATE FUNCTION tb_refuse_edit() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'TB001';
END $$;

CREATE TABLE events (
  event_id CTEXT NOT NULL, revision BIGINT NOT NULL, sport CTEXT NOT NULL, league CTEXT NOT NULL,
  season CTEXT NOT NULL, home_team CTEXT NOT NULL, away_team CTEXT NOT NULL,
  start_time BIGINT NOT NULL, status CTEXT NOT NULL, body_sha256 CTEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (event_id, revision));
CREATE INDEX events_sport ON events (sport, event_id);

CREATE TABLE odds_snapshots (
  snapshot_id CTEXT PRIMARY KEY, event_id CTEXT NOT NULL, book CTEXT NOT NULL,
  market CTEXT NOT NULL, captured_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL,
  raw BYTEA NOT NULL, quotes CTEXT NOT NULL, devig_method CTEXT NOT NULL,
  content_sha256 CTEXT NOT NULL);
CREATE INDEX odds_snapshots_event_time ON odds_snapshots (event_id, captured_at, snapshot_id);
-- Identical content has the same event and capture time (see the SQLite schema).
CREATE UNIQUE INDEX odds_snapshots_content
  ON odds_snapshots (event_id, captured_at, content_sha256);

CREATE TABLE injury_snapshots (
  snapshot_id CTEXT PRIMARY KEY, event_id CTEXT NOT NULL, team CTEXT NOT NULL,
  source CTEXT NOT NULL, captured_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL,
  players CTEXT NOT NULL, raw BYTEA NOT NULL, content_sha256 CTEXT NOT NULL UNIQUE);
CREATE INDEX injury_snapshots_event_time ON injury_snapshots (event_id, captured_at);

CREATE TABLE sim_runs (
  sim_run_id CTEXT PRIMARY KEY, trigger CTEXT NOT NULL, model_version CTEXT NOT NULL,
  feature_set_version CTEXT NOT NULL, decision_policy_version CTEXT NOT NULL,
  git_sha CTEXT NOT NULL, code_dirty BOOLEAN NOT NULL, n_sims BIGINT NOT NULL,
  rng_seed BIGINT NOT NULL, params CTEXT NOT NULL, started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL);

-- seq keeps insertion order, which SQLite reads from its rowid.
CREATE TABLE sim_run_inputs (
  sim_run_id CTEXT NOT NULL REFERENCES sim_runs (sim_run_id), input_kind CTEXT NOT NULL,
  snapshot_id CTEXT NOT NULL, content_sha256 CTEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (sim_run_id, snapshot_id));
CREATE INDEX sim_run_inputs_snapshot ON sim_run_inputs (snapshot_id);

CREATE TABLE predictions (
  prediction_id CTEXT PRIMARY KEY,
  sim_run_id CTEXT NOT NULL REFERENCES sim_runs (sim_run_id),
  event_id CTEXT NOT NULL, market CTEXT NOT NULL, selection CTEXT NOT NULL,
  line DOUBLE PRECISION, player CTEXT, stat CTEXT, book CTEXT NOT NULL,
  price_decimal DOUBLE PRECISION NOT NULL, price_american DOUBLE PRECISION NOT NULL,
  raw_prob DOUBLE PRECISION NOT NULL, calibrated_prob DOUBLE PRECISION,
  calibration_version_id CTEXT, edge DOUBLE PRECISION, tier CTEXT NOT NULL,
  stake_units DOUBLE PRECISION NOT NULL, recorded_at BIGINT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE INDEX predictions_sim_run ON predictions (sim_run_id, seq);
CREATE INDEX predictions_event ON predictions (event_id);

CREATE TABLE ledger_entries (
  log_index BIGINT PRIMARY KEY, kind CTEXT NOT NULL, record_id CTEXT NOT NULL,
  payload BYTEA NOT NULL, entry_sha256 CTEXT NOT NULL, recorded_at BIGINT NOT NULL);

-- An official record's key is its position in the log.
CREATE TABLE published_predictions (
  log_index BIGINT PRIMARY KEY REFERENCES ledger_entries (log_index),
  publish_id CTEXT NOT NULL UNIQUE,
  prediction_id CTEXT NOT NULL UNIQUE REFERENCES predictions (prediction_id),
  channel CTEXT NOT NULL, visibility CTEXT NOT NULL, is_official BOOLEAN NOT NULL,
  published_at BIGINT NOT NULL, request_sha256 CTEXT NOT NULL);
CREATE INDEX published_predictions_time ON published_predictions (published_at, publish_id);

CREATE TABLE event_results (
  log_index BIGINT PRIMARY KEY REFERENCES ledger_entries (log_index),
  result_id CTEXT NOT NULL UNIQUE, event_id CTEXT NOT NULL, revision BIGINT NOT NULL,
  status CTEXT NOT NULL, home_score BIGINT, away_score BIGINT, player_stats CTEXT NOT NULL,
  supersedes CTEXT REFERENCES event_results (result_id), recorded_at BIGINT NOT NULL,
  UNIQUE (event_id, revision));

CREATE TABLE rejected_attempts (
  attempt_id CTEXT PRIMARY KEY, kind CTEXT NOT NULL, target_id CTEXT NOT NULL,
  request_sha256 CTEXT NOT NULL, reason CTEXT NOT NULL, body BYTEA NOT NULL,
  recorded_at BIGINT NOT NULL);
CREATE INDEX rejected_attempts_target ON rejected_attempts (target_id);

CREATE TABLE snapshot_cleanups (
  cleanup_id CTEXT PRIMARY KEY, cutoff BIGINT NOT NULL, requested_at BIGINT NOT NULL,
  deleted_count BIGINT NOT NULL, deleted_ids CTEXT NOT NULL);

-- Answers to POSTs with an Idempotency-Key: a cache, not a ledger table.
CREATE TABLE idempotency_keys (
  key CTEXT PRIMARY KEY, request_sha256 CTEXT NOT NULL, status BIGINT NOT NULL,
  body BYTEA NOT NULL, recorded_at BIGINT NOT NULL);

-- The log is gap-free: an entry must take exactly the next index. (The store appends under
-- an advisory lock, so that concurrent appenders queue instead of failing here.)
CREATE FUNCTION tb_ledger_gap_free() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.log_index IS DISTINCT FROM
      (SELECT COALESCE(MAX(log_index) + 1, 0) FROM ledger_entries) THEN
    RAISE EXCEPTION 'ledger_entries: log_index must be the next index' USING ERRCODE = 'TB001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_gap_free BEFORE INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION tb_ledger_gap_free();

-- Retention may delete an odds snapshot only when no sim run read it.
CREATE FUNCTION tb_odds_snapshot_unread() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM sim_run_inputs WHERE snapshot_id = OLD.snapshot_id) THEN
    RAISE EXCEPTION 'odds_snapshots: referenced by a sim run' USING ERRCODE = 'TB002';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER odds_snapshots_no_delete_referenced BEFORE DELETE ON odds_snapshots
  FOR EACH ROW EXECUTE FUNCTION tb_odds_snapshot_unread();
)sql";
  sql += Always("ledger_entries", "ledger_entries_gap_free");
  sql += Always("odds_snapshots", "odds_snapshots_no_delete_referenced");
  sql += AppendOnly("events");
  sql += AppendOnly("odds_snapshots", /*allow_delete=*/true);
  sql += AppendOnly("injury_snapshots");
  sql += AppendOnly("sim_runs");
  sql += AppendOnly("sim_run_inputs");
  sql += AppendOnly("predictions");
  sql += AppendOnly("ledger_entries");
  sql += AppendOnly("published_predictions");
  sql += AppendOnly("event_results");
  sql += AppendOnly("rejected_attempts");
  sql += AppendOnly("snapshot_cleanups");
  return WithTextCollation(std::move(sql));
}

// SQLite's version 2 refuses `INSERT OR REPLACE` through a reused rowid. PostgreSQL has
// neither rowids nor INSERT OR REPLACE (and ON CONFLICT DO UPDATE fires the update triggers),
// so there is nothing to do; the version is kept so that both backends count the same.
std::string V2RefuseRowidReuse() { return ""; }

// Gradings (issue 3), and the player and stat of a player-prop odds snapshot.
std::string V3Grading() {
  std::string sql = R"sql(
ALTER TABLE odds_snapshots ADD COLUMN player CTEXT;
ALTER TABLE odds_snapshots ADD COLUMN stat CTEXT;

CREATE TABLE grading (
  log_index BIGINT PRIMARY KEY REFERENCES ledger_entries (log_index),
  grading_id CTEXT NOT NULL UNIQUE,
  publish_id CTEXT NOT NULL REFERENCES published_predictions (publish_id),
  result_id CTEXT NOT NULL REFERENCES event_results (result_id),
  outcome CTEXT NOT NULL, stake_convention CTEXT NOT NULL, stake DOUBLE PRECISION NOT NULL,
  profit_units DOUBLE PRECISION NOT NULL, price_decimal DOUBLE PRECISION NOT NULL,
  closing_snapshot_id CTEXT REFERENCES odds_snapshots (snapshot_id),
  closing_price DOUBLE PRECISION, clv_price DOUBLE PRECISION, clv_fair DOUBLE PRECISION,
  clv_prob_pts DOUBLE PRECISION, clv_note CTEXT, devig_method CTEXT NOT NULL,
  prob_used CTEXT NOT NULL, prob DOUBLE PRECISION NOT NULL, brier DOUBLE PRECISION,
  log_loss DOUBLE PRECISION,
  supersedes CTEXT UNIQUE REFERENCES grading (grading_id), graded_at BIGINT NOT NULL,
  -- One grading per publish and result revision: grading the same revision again is a no-op.
  UNIQUE (publish_id, result_id));
CREATE INDEX grading_closing_snapshot ON grading (closing_snapshot_id);

-- Each publish has one linear history: a grading supersedes exactly the publish's current
-- grading (none for the first), so no grading is superseded twice or across publishes.
-- Gradings are inserted after their ledger entry, under the ledger lock, so this check sees
-- every grading committed before it.
CREATE FUNCTION tb_grading_supersedes_current() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.supersedes IS DISTINCT FROM (SELECT g.grading_id FROM grading g
      WHERE g.publish_id = NEW.publish_id
        AND NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id)) THEN
    RAISE EXCEPTION 'grading: must supersede the publish''s current grading'
      USING ERRCODE = 'TB001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER grading_supersedes_current BEFORE INSERT ON grading
  FOR EACH ROW EXECUTE FUNCTION tb_grading_supersedes_current();

-- Retention may not delete the closing snapshot a grading names.
CREATE FUNCTION tb_odds_snapshot_ungraded() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM grading WHERE closing_snapshot_id = OLD.snapshot_id) THEN
    RAISE EXCEPTION 'odds_snapshots: the closing line of a grading' USING ERRCODE = 'TB002';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER odds_snapshots_no_delete_graded BEFORE DELETE ON odds_snapshots
  FOR EACH ROW EXECUTE FUNCTION tb_odds_snapshot_ungraded();
)sql";
  sql += Always("grading", "grading_supersedes_current");
  sql += Always("odds_snapshots", "odds_snapshots_no_delete_graded");
  sql += AppendOnly("grading");
  return WithTextCollation(std::move(sql));
}

// Calibration (issue 4): versions and their segments are immutable once written;
// activations are official records in the ledger.
std::string V4Calibration() {
  std::string sql = R"sql(
CREATE TABLE calibration_versions (
  calibration_version_id CTEXT PRIMARY KEY, method CTEXT NOT NULL,
  training_from BIGINT NOT NULL, training_to BIGINT NOT NULL, n BIGINT NOT NULL,
  settings CTEXT NOT NULL, metrics_before CTEXT NOT NULL, metrics_after CTEXT NOT NULL,
  gates CTEXT NOT NULL, gates_passed BOOLEAN NOT NULL, code_version CTEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE INDEX calibration_versions_time ON calibration_versions (created_at);

CREATE TABLE calibration_segments (
  calibration_version_id CTEXT NOT NULL
    REFERENCES calibration_versions (calibration_version_id),
  segment_key CTEXT NOT NULL, fitted_on CTEXT NOT NULL, fallback CTEXT NOT NULL,
  n BIGINT NOT NULL, params CTEXT NOT NULL, metrics CTEXT NOT NULL, bins CTEXT NOT NULL,
  PRIMARY KEY (calibration_version_id, segment_key));

CREATE TABLE calibration_activations (
  log_index BIGINT PRIMARY KEY REFERENCES ledger_entries (log_index),
  activation_id CTEXT NOT NULL UNIQUE,
  calibration_version_id CTEXT NOT NULL
    REFERENCES calibration_versions (calibration_version_id),
  actor CTEXT NOT NULL, reason CTEXT NOT NULL, forced BOOLEAN NOT NULL,
  activated_at BIGINT NOT NULL);
)sql";
  sql += AppendOnly("calibration_versions");
  sql += AppendOnly("calibration_segments");
  sql += AppendOnly("calibration_activations");
  return WithTextCollation(std::move(sql));
}

// Performance rollups and the scheduler (issue 5): operational state, not ledger records.
std::string V5RollupsAndJobs() {
  return WithTextCollation(R"sql(
CREATE TABLE performance_rollups (
  rollup_key CTEXT NOT NULL, dims CTEXT NOT NULL, day BIGINT NOT NULL, season CTEXT NOT NULL,
  win BIGINT NOT NULL, loss BIGINT NOT NULL, push BIGINT NOT NULL, void BIGINT NOT NULL,
  half_win BIGINT NOT NULL, half_loss BIGINT NOT NULL, stake DOUBLE PRECISION NOT NULL,
  profit_units DOUBLE PRECISION NOT NULL, clv_price_sum DOUBLE PRECISION NOT NULL,
  clv_price_n BIGINT NOT NULL, clv_fair_sum DOUBLE PRECISION NOT NULL,
  clv_prob_pts_sum DOUBLE PRECISION NOT NULL, clv_n BIGINT NOT NULL,
  beat_close_n BIGINT NOT NULL, brier_sum DOUBLE PRECISION NOT NULL,
  log_loss_sum DOUBLE PRECISION NOT NULL, scored_n BIGINT NOT NULL,
  -- 10 reliability bins x (n, sum p, sum hits), little-endian int64/float64.
  bins BYTEA NOT NULL, computed_at BIGINT NOT NULL,
  PRIMARY KEY (dims, rollup_key, day, season));
CREATE INDEX performance_rollups_day ON performance_rollups (day);
CREATE TABLE rollup_state (
  id BIGINT PRIMARY KEY CHECK (id = 1), watermark BIGINT NOT NULL);
CREATE TABLE job_runs (
  job CTEXT NOT NULL, slot CTEXT NOT NULL, trigger CTEXT NOT NULL, status CTEXT NOT NULL,
  claimed_by CTEXT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT,
  duration_ms BIGINT, summary CTEXT NOT NULL,
  PRIMARY KEY (job, slot));
CREATE INDEX job_runs_started ON job_runs (job, started_at);
)sql");
}

// The triggers that PostgreSQL does not clone from odds_snapshots to its partitions: the
// statement triggers refusing UPDATE and TRUNCATE, so that an edit aimed at one partition
// directly fails as one aimed at the parent does. (Row triggers are cloned, ENABLE ALWAYS
// included.) `partition` is a plpgsql expression naming the partition.
std::string PartitionStatementTriggers(const std::string& partition) {
  std::string sql;
  for (const auto& [suffix, event] :
       {std::pair<std::string, std::string>{"_append_only_statement", "UPDATE"},
        {"_no_truncate", "TRUNCATE"}}) {
    sql += "  EXECUTE format('CREATE TRIGGER %I BEFORE " + event +
           " ON %I FOR EACH STATEMENT EXECUTE FUNCTION tb_refuse_edit()', " + partition + " || '" +
           suffix + "', " + partition + ");\n";
    sql += "  EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', " + partition + ", " +
           partition + " || '" + suffix + "');\n";
  }
  return sql;
}

// odds_snapshots partitioned by month of captured_at (docs/STORAGE.md, "Partitions"). A
// partitioned table's unique keys must hold the partition key, so snapshot_id alone cannot be
// one: odds_snapshot_ids, written by the same statement as the snapshot, keeps it unique
// across partitions and is what grading's closing_snapshot_id references. The existing rows
// move over; triggers and indexes are made anew.
std::string V6PartitionOddsSnapshots() {
  std::string sql = R"sql(
ALTER TABLE grading DROP CONSTRAINT grading_closing_snapshot_id_fkey;
ALTER TABLE odds_snapshots RENAME TO odds_snapshots_v5;
ALTER TABLE odds_snapshots_v5 DROP CONSTRAINT odds_snapshots_pkey;
DROP INDEX odds_snapshots_event_time, odds_snapshots_content;

CREATE TABLE odds_snapshots (
  snapshot_id CTEXT NOT NULL, event_id CTEXT NOT NULL, book CTEXT NOT NULL,
  market CTEXT NOT NULL, captured_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL,
  raw BYTEA NOT NULL, quotes CTEXT NOT NULL, devig_method CTEXT NOT NULL,
  content_sha256 CTEXT NOT NULL, player CTEXT, stat CTEXT,
  PRIMARY KEY (snapshot_id, captured_at))
  PARTITION BY RANGE (captured_at);
CREATE INDEX odds_snapshots_event_time ON odds_snapshots (event_id, captured_at, snapshot_id);
CREATE UNIQUE INDEX odds_snapshots_content
  ON odds_snapshots (event_id, captured_at, content_sha256);

CREATE TABLE odds_snapshot_ids (snapshot_id CTEXT PRIMARY KEY, captured_at BIGINT NOT NULL);

-- Row triggers are cloned to every partition, present and future, ENABLE ALWAYS included.
CREATE TRIGGER odds_snapshots_no_delete_referenced BEFORE DELETE ON odds_snapshots
  FOR EACH ROW EXECUTE FUNCTION tb_odds_snapshot_unread();
CREATE TRIGGER odds_snapshots_no_delete_graded BEFORE DELETE ON odds_snapshots
  FOR EACH ROW EXECUTE FUNCTION tb_odds_snapshot_ungraded();

-- An id goes only after its snapshot, and never while a grading names it (the foreign key
-- alone would not hold in replica mode).
CREATE FUNCTION tb_odds_snapshot_id_unused() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM odds_snapshots
             WHERE snapshot_id = OLD.snapshot_id AND captured_at = OLD.captured_at) THEN
    RAISE EXCEPTION 'odds_snapshot_ids: the snapshot is still stored' USING ERRCODE = 'TB002';
  END IF;
  IF EXISTS (SELECT 1 FROM grading WHERE closing_snapshot_id = OLD.snapshot_id) THEN
    RAISE EXCEPTION 'odds_snapshot_ids: the closing line of a grading' USING ERRCODE = 'TB002';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER odds_snapshot_ids_no_delete_used BEFORE DELETE ON odds_snapshot_ids
  FOR EACH ROW EXECUTE FUNCTION tb_odds_snapshot_id_unused();

-- Adds the partition of the month holding `t` (Unix ms) unless it exists. Under a
-- transaction-level advisory lock, so servers racing for one month create it once. CREATE
-- TABLE and ATTACH rather than CREATE TABLE ... PARTITION OF, which would wait for (and
-- block) every transaction writing odds_snapshots; ATTACH takes a lock that inserts and reads
-- do not conflict with. SECURITY DEFINER: the application role needs no CREATE privilege.
CREATE FUNCTION tb_odds_partition(t BIGINT) RETURNS void LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  month_start TIMESTAMP := date_trunc('month',
      to_timestamp(floor(t / 1000.0)::float8) AT TIME ZONE 'UTC');
  from_ms BIGINT := (extract(epoch FROM month_start) * 1000)::bigint;
  to_ms BIGINT := (extract(epoch FROM month_start + interval '1 month') * 1000)::bigint;
  part TEXT := 'odds_snapshots_' || to_char(month_start, 'YYYY_MM');
BEGIN
  PERFORM pg_advisory_xact_lock()sql" +
                    std::to_string(kPartitionLockKey) + R"sql();
  IF to_regclass(quote_ident(part)) IS NOT NULL THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE odds_snapshots INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                 part);
  EXECUTE format('ALTER TABLE odds_snapshots ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                 part, from_ms, to_ms);
)sql";
  sql += PartitionStatementTriggers("part");
  sql += R"sql(END $$;

SELECT tb_odds_partition(MIN(captured_at)) FROM odds_snapshots_v5
  GROUP BY date_trunc('month', to_timestamp(floor(captured_at / 1000.0)::float8) AT TIME ZONE 'UTC');
INSERT INTO odds_snapshots (snapshot_id, event_id, book, market, captured_at, recorded_at, raw,
    quotes, devig_method, content_sha256, player, stat)
  SELECT snapshot_id, event_id, book, market, captured_at, recorded_at, raw, quotes,
    devig_method, content_sha256, player, stat FROM odds_snapshots_v5;
INSERT INTO odds_snapshot_ids (snapshot_id, captured_at)
  SELECT snapshot_id, captured_at FROM odds_snapshots_v5;
DROP TABLE odds_snapshots_v5;

ALTER TABLE grading ADD CONSTRAINT grading_closing_snapshot_id_fkey
  FOREIGN KEY (closing_snapshot_id) REFERENCES odds_snapshot_ids (snapshot_id);
)sql";
  sql += Always("odds_snapshots", "odds_snapshots_no_delete_referenced");
  sql += Always("odds_snapshots", "odds_snapshots_no_delete_graded");
  sql += Always("odds_snapshot_ids", "odds_snapshot_ids_no_delete_used");
  sql += AppendOnly("odds_snapshots", /*allow_delete=*/true);
  sql += AppendOnly("odds_snapshot_ids", /*allow_delete=*/true);
  return WithTextCollation(std::move(sql));
}

Status MigrateLocked(Connection& conn, TimePoint now) {
  // The application role may not create tables (DEPLOYMENT.md): a current schema is only read.
  static constexpr char kHasMigrations[] = "SELECT to_regclass('schema_migrations') IS NOT NULL";
  Statement has = conn.Prepare(kHasMigrations);
  ASSIGN_OR_RETURN(bool row, has.Step());
  if (!row || !has.Bool(0)) {
    RETURN_IF_ERROR(
        conn.Exec("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  }
  static constexpr char kCurrentVersion[] =
      "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
  static constexpr char kRecord[] =
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";
  for (const Migration& m : Migrations()) {
    RETURN_IF_ERROR(conn.Exec("BEGIN"));
    Status s = [&]() -> Status {
      Statement current = conn.Prepare(kCurrentVersion);
      ASSIGN_OR_RETURN(bool row, current.Step());
      if (row && current.Int(0) >= m.version) return Status::Ok();
      if (!m.sql.empty()) RETURN_IF_ERROR(conn.Exec(m.sql));
      return conn.Prepare(kRecord).BindAll(int64_t{m.version}, m.name, now).Run();
    }();
    RETURN_IF_ERROR(conn.Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
    RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, "ledger core", V1Ledger()},
      {2, "append-only: refuse rowid reuse", V2RefuseRowidReuse()},
      {3, "grading", V3Grading()},
      {4, "calibration", V4Calibration()},
      {5, "performance rollups and job runs", V5RollupsAndJobs()},
      {6, "odds snapshots partitioned by month", V6PartitionOddsSnapshots()},
  };
  return *migrations;
}

Status GrantAppRole(Connection& conn, const std::string& role) {
  const bool plain = !role.empty() && role.size() <= 63 && !std::isdigit(role[0]) &&
                     std::all_of(role.begin(), role.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || std::isdigit(c) || c == '_';
                     });
  if (!plain) return InvalidArgument("app-role: expected a lower-case identifier, got " + role);
  return conn.Exec("DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO " + role +
                   "', current_schema()); "
                   "EXECUTE format('GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA %I TO " +
                   role +
                   "', current_schema()); "
                   "EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO " +
                   role +
                   "', current_schema()); END $$;\n"
                   "REVOKE INSERT ON schema_migrations FROM " +
                   role +
                   ";\n"
                   "GRANT DELETE ON odds_snapshots, odds_snapshot_ids, performance_rollups TO " +
                   role +
                   ";\n"
                   "GRANT UPDATE ON job_runs, rollup_state TO " +
                   role + ";\n");
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
  static const std::string kLock =
      "SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")";
  static const std::string kUnlock =
      "SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")";
  RETURN_IF_ERROR(conn.Exec(kLock));
  Status migrated = MigrateLocked(conn, now);
  if (!conn.Idle()) (void)conn.Exec("ROLLBACK");
  conn.ClearFailure();
  Status unlocked = conn.Exec(kUnlock);
  RETURN_IF_ERROR(migrated);
  RETURN_IF_ERROR(unlocked);

  // Tables of the schema new tables go to (the first of search_path), oldest first.
  static constexpr char kTables[] =
      "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
      "ORDER BY c.oid";
  Statement tables = conn.Prepare(kTables);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, tables.Step());
    if (!row) break;
    on_table(tables.Text(0));
  }
  return Status::Ok();
}

}  // namespace truthbook::store::postgres
