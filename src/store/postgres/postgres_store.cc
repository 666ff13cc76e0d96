#include "store/postgres/postgres_store.h"

#include <bit>
#include <chrono>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

#include "store/postgres/partitions.h"
#include "store/postgres/schema.h"

namespace truthbook::store::postgres {
namespace {

using ledger::Event;
using ledger::EventResult;
using ledger::IdempotentResponse;
using ledger::InjurySnapshot;
using ledger::LedgerEntry;
using ledger::OddsSnapshot;
using ledger::Prediction;
using ledger::Publish;
using ledger::SimRun;
using ledger::SimRunInput;

// ---- SQL, beside the code that runs it (the SQLite backend's statements, in PostgreSQL) ----

constexpr char kCurrentEvent[] =
    "SELECT event_id, revision, sport, league, season, home_team, away_team, start_time, "
    "status, body_sha256, recorded_at FROM events WHERE event_id = $1 "
    "ORDER BY revision DESC LIMIT 1";
constexpr char kEventOfPrediction[] =
    "SELECT e.event_id, e.revision, e.sport, e.league, e.season, e.home_team, e.away_team, "
    "e.start_time, e.status, e.body_sha256, e.recorded_at FROM predictions p "
    "JOIN events e ON e.event_id = p.event_id WHERE p.prediction_id = $1 "
    "ORDER BY e.revision DESC LIMIT 1";
constexpr char kListUnknownEvents[] =
    "SELECT id FROM unnest($1::text[]) WITH ORDINALITY AS u (id, n) "
    "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = u.id) "
    "GROUP BY id ORDER BY MIN(n)";
constexpr char kInsertEvent[] =
    "INSERT INTO events (event_id, revision, sport, league, season, home_team, away_team, "
    "start_time, status, body_sha256, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
    "ON CONFLICT DO NOTHING";

#define TB_ODDS_COLS                                                                           \
  "snapshot_id, event_id, book, market, captured_at, recorded_at, raw, quotes, devig_method, " \
  "content_sha256, player, stat"
// odds_snapshot_ids names the snapshot's capture time, so only its partition is searched.
#define TB_ODDS_TIME_OF_ID "(SELECT captured_at FROM odds_snapshot_ids WHERE snapshot_id = $1)"
constexpr char kGetOdds[] = "SELECT " TB_ODDS_COLS
                            " FROM odds_snapshots WHERE snapshot_id = $1 "
                            "AND captured_at = " TB_ODDS_TIME_OF_ID;
constexpr char kFindOddsByContent[] =
    "SELECT " TB_ODDS_COLS
    " FROM odds_snapshots "
    "WHERE event_id = $1 AND captured_at = $2 AND content_sha256 = $3";
constexpr char kListOdds[] =
    "SELECT " TB_ODDS_COLS
    " FROM odds_snapshots WHERE event_id = $1 "
    "AND ($2 IS NULL OR book = $2) AND ($3 IS NULL OR market = $3) "
    "AND ($4 IS NULL OR captured_at >= $4) AND ($5 IS NULL OR captured_at <= $5) "
    "AND ($6 IS NULL OR captured_at > $6 OR (captured_at = $6 AND snapshot_id > $7)) "
    "ORDER BY captured_at, snapshot_id LIMIT $8";
// A snapshot and its id row are inserted by one statement. Content already stored (the
// partitioned unique index) inserts neither; an id taken in another month fails on
// odds_snapshot_ids' key. The row count is that of the ids inserted.
#define TB_INSERT_ODDS_THEN_ID(rows)                                 \
  "WITH ins AS (INSERT INTO odds_snapshots (" TB_ODDS_COLS ") " rows \
  " ON CONFLICT DO NOTHING RETURNING snapshot_id, captured_at) "     \
  "INSERT INTO odds_snapshot_ids (snapshot_id, captured_at) "        \
  "SELECT snapshot_id, captured_at FROM ins"
constexpr char kInsertOdds[] =
    TB_INSERT_ODDS_THEN_ID("VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)");
// Bulk ingest: COPY into a session's temporary staging table (emptied at each commit), then
// one INSERT ... SELECT. The batch's own repeats are left out beforehand (InsertOddsSnapshots),
// so the order in which the server inserts does not matter.
constexpr char kCreateOrEmptyStaging[] =
    "CREATE TEMP TABLE IF NOT EXISTS tb_odds_staging (ord BIGINT NOT NULL, "
    "LIKE odds_snapshots) ON COMMIT DELETE ROWS; DELETE FROM tb_odds_staging";
constexpr char kEmptyStaging[] = "TRUNCATE tb_odds_staging";
constexpr char kCopyOdds[] = "COPY odds_snapshots (" TB_ODDS_COLS ") FROM STDIN (FORMAT binary)";
constexpr char kCopyOddsIds[] =
    "COPY odds_snapshot_ids (snapshot_id, captured_at) FROM STDIN (FORMAT binary)";
constexpr char kCopyStaging[] =
    "COPY tb_odds_staging (ord, " TB_ODDS_COLS ") FROM STDIN (FORMAT binary)";
constexpr char kInsertStaged[] =
    TB_INSERT_ODDS_THEN_ID("SELECT " TB_ODDS_COLS " FROM tb_odds_staging");
// The staged rows that were not inserted as given: the stored snapshot with their content,
// or nulls when there is none (their snapshot_id is taken by other content).
constexpr char kStagedNotInserted[] =
    "SELECT s.ord, s.snapshot_id, o.snapshot_id, o.event_id, o.book, o.market, o.captured_at, "
    "o.recorded_at, o.raw, o.quotes, o.devig_method, o.content_sha256, o.player, o.stat "
    "FROM tb_odds_staging s LEFT JOIN odds_snapshots o ON o.event_id = s.event_id "
    "AND o.captured_at = s.captured_at AND o.content_sha256 = s.content_sha256 "
    "WHERE o.snapshot_id IS DISTINCT FROM s.snapshot_id ORDER BY s.ord";
#undef TB_INSERT_ODDS_THEN_ID
constexpr char kListClosing[] =
    "SELECT snapshot_id, event_id, book, market, captured_at, recorded_at, ''::bytea, quotes, "
    "devig_method, content_sha256, player, stat FROM odds_snapshots WHERE event_id = $1 "
    "AND book = $2 AND market = $3 AND player IS NOT DISTINCT FROM $4 "
    "AND stat IS NOT DISTINCT FROM $5 AND captured_at <= $6 "
    "ORDER BY captured_at DESC, snapshot_id DESC LIMIT $7";
#undef TB_ODDS_COLS

#define TB_INJURY_COLS \
  "snapshot_id, event_id, team, source, captured_at, recorded_at, players, raw, content_sha256"
constexpr char kGetInjury[] =
    "SELECT " TB_INJURY_COLS " FROM injury_snapshots WHERE snapshot_id = $1";
constexpr char kFindInjuryByHash[] =
    "SELECT " TB_INJURY_COLS " FROM injury_snapshots WHERE content_sha256 = $1";
constexpr char kInsertInjury[] = "INSERT INTO injury_snapshots (" TB_INJURY_COLS
                                 ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING";
#undef TB_INJURY_COLS

constexpr char kFindSnapshotRef[] =
    "SELECT 'odds_snapshot'::text, content_sha256 FROM odds_snapshots WHERE snapshot_id = $1 "
    "AND captured_at = " TB_ODDS_TIME_OF_ID
    " "
    "UNION ALL "
    "SELECT 'injury_snapshot'::text, content_sha256 FROM injury_snapshots WHERE snapshot_id = $1";

#define TB_RUN_COLS                                                                    \
  "sim_run_id, trigger, model_version, feature_set_version, decision_policy_version, " \
  "git_sha, code_dirty, n_sims, rng_seed, params, started_at, finished_at, recorded_at"
constexpr char kGetSimRun[] = "SELECT " TB_RUN_COLS " FROM sim_runs WHERE sim_run_id = $1";
constexpr char kInsertSimRun[] = "INSERT INTO sim_runs (" TB_RUN_COLS
                                 ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) "
                                 "ON CONFLICT DO NOTHING";
#undef TB_RUN_COLS

constexpr char kListInputs[] =
    "SELECT sim_run_id, input_kind, snapshot_id, content_sha256 FROM sim_run_inputs "
    "WHERE sim_run_id = $1 ORDER BY seq";
constexpr char kInsertInput[] =
    "INSERT INTO sim_run_inputs (sim_run_id, input_kind, snapshot_id, content_sha256) "
    "VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING";

#define TB_PRED_COLS                                                                         \
  "prediction_id, sim_run_id, event_id, market, selection, line, player, stat, book, "       \
  "price_decimal, price_american, raw_prob, calibrated_prob, calibration_version_id, edge, " \
  "tier, stake_units, recorded_at"
constexpr char kGetPrediction[] =
    "SELECT " TB_PRED_COLS " FROM predictions WHERE prediction_id = $1";
constexpr char kListPredictions[] =
    "SELECT " TB_PRED_COLS " FROM predictions WHERE sim_run_id = $1 ORDER BY seq";
constexpr char kInsertPrediction[] =
    "INSERT INTO predictions (" TB_PRED_COLS
    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) "
    "ON CONFLICT DO NOTHING";
#undef TB_PRED_COLS

#define TB_PUB_COLS                                                              \
  "pp.publish_id, pp.prediction_id, pp.channel, pp.visibility, pp.is_official, " \
  "pp.published_at, pp.request_sha256, pp.log_index"
constexpr char kPublishForPrediction[] =
    "SELECT " TB_PUB_COLS " FROM published_predictions pp WHERE pp.prediction_id = $1";
constexpr char kListPublished[] =
    "SELECT " TB_PUB_COLS
    " FROM published_predictions pp "
    "WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM predictions p JOIN events e "
    "  ON e.event_id = p.event_id WHERE p.prediction_id = pp.prediction_id AND e.sport = $1)) "
    "AND ($2 IS NULL OR pp.channel = $2) "
    "AND ($3 IS NULL OR pp.published_at >= $3) AND ($4 IS NULL OR pp.published_at <= $4) "
    "AND ($5 IS NULL OR pp.published_at > $5 OR (pp.published_at = $5 AND pp.publish_id > $6)) "
    "ORDER BY pp.published_at, pp.publish_id LIMIT $7";
#undef TB_PUB_COLS
constexpr char kInsertPublish[] =
    "INSERT INTO published_predictions (publish_id, prediction_id, channel, visibility, "
    "is_official, published_at, request_sha256, log_index) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) "
    "ON CONFLICT DO NOTHING RETURNING log_index";
// Serializes the transactions that publish one prediction: taken before the check for an
// existing publish, it makes the check see a concurrent publish of the same prediction once
// that commits (the two-key form keeps these locks apart from the ledger's one-key lock).
constexpr char kLockPrediction[] = "SELECT pg_advisory_xact_lock(1, hashtext($1))";
// Likewise for captures of one injury report (its content hash).
constexpr char kLockInjuryContent[] = "SELECT pg_advisory_xact_lock(2, hashtext($1))";

constexpr char kLatestResult[] =
    "SELECT result_id, event_id, revision, status, home_score, away_score, player_stats, "
    "supersedes, recorded_at, log_index FROM event_results WHERE event_id = $1 "
    "ORDER BY revision DESC LIMIT 1";
constexpr char kInsertResult[] =
    "INSERT INTO event_results (result_id, event_id, revision, status, home_score, away_score, "
    "player_stats, supersedes, recorded_at, log_index) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
    "ON CONFLICT DO NOTHING";

// A grading input row: publish (0-7), prediction (8-25), current event revision (26-36),
// latest result (37-46, null without one), current grading id and its result id (47-48).
#define TB_GRADING_INPUT                                                                        \
  "SELECT pp.publish_id, pp.prediction_id, pp.channel, pp.visibility, pp.is_official, "         \
  "pp.published_at, pp.request_sha256, pp.log_index, "                                          \
  "p.prediction_id, p.sim_run_id, p.event_id, p.market, p.selection, p.line, p.player, "        \
  "p.stat, p.book, p.price_decimal, p.price_american, p.raw_prob, p.calibrated_prob, "          \
  "p.calibration_version_id, p.edge, p.tier, p.stake_units, p.recorded_at, "                    \
  "e.event_id, e.revision, e.sport, e.league, e.season, e.home_team, e.away_team, "             \
  "e.start_time, e.status, e.body_sha256, e.recorded_at, "                                      \
  "r.result_id, r.event_id, r.revision, r.status, r.home_score, r.away_score, r.player_stats, " \
  "r.supersedes, r.recorded_at, r.log_index, g.grading_id, g.result_id "                        \
  "FROM published_predictions pp "                                                              \
  "JOIN predictions p ON p.prediction_id = pp.prediction_id "                                   \
  "JOIN events e ON e.event_id = p.event_id "                                                   \
  "  AND e.revision = (SELECT MAX(revision) FROM events WHERE event_id = p.event_id) "          \
  "LEFT JOIN event_results r ON r.event_id = p.event_id "                                       \
  "  AND r.revision = (SELECT MAX(revision) FROM event_results WHERE event_id = p.event_id) "   \
  "LEFT JOIN grading g ON g.publish_id = pp.publish_id "                                        \
  "  AND NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id) "
constexpr char kGradingInput[] = TB_GRADING_INPUT "WHERE pp.publish_id = $1";
constexpr char kPendingGradings[] = TB_GRADING_INPUT
    "WHERE pp.log_index > $1 AND r.result_id IS NOT NULL "
    "AND (g.result_id IS NULL OR g.result_id <> r.result_id) ORDER BY pp.log_index LIMIT $2";
#undef TB_GRADING_INPUT

#define TB_GRADING_COLS                                                                    \
  "grading_id, publish_id, result_id, outcome, stake_convention, stake, profit_units, "    \
  "price_decimal, closing_snapshot_id, closing_price, clv_price, clv_fair, clv_prob_pts, " \
  "clv_note, devig_method, prob_used, prob, brier, log_loss, supersedes, graded_at, log_index"
constexpr char kListGradings[] =
    "SELECT " TB_GRADING_COLS " FROM grading WHERE publish_id = $1 ORDER BY log_index";
constexpr char kInsertGrading[] =
    "INSERT INTO grading (" TB_GRADING_COLS
    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22) "
    "ON CONFLICT DO NOTHING";
#undef TB_GRADING_COLS

constexpr char kSumGradings[] =
    "SELECT g.outcome, COUNT(*), COALESCE(SUM(g.stake), 0), COALESCE(SUM(g.profit_units), 0), "
    "COALESCE(SUM(g.clv_price), 0), COUNT(g.clv_price), COALESCE(SUM(g.clv_fair), 0), "
    "COALESCE(SUM(g.clv_prob_pts), 0), COUNT(g.clv_fair), COUNT(*) FILTER (WHERE g.clv_fair > 0), "
    "COALESCE(SUM(g.brier), 0), COALESCE(SUM(g.log_loss), 0), COUNT(g.brier) "
    "FROM grading g JOIN published_predictions pp ON pp.publish_id = g.publish_id "
    "JOIN predictions p ON p.prediction_id = pp.prediction_id "
    "JOIN events e ON e.event_id = p.event_id "
    "  AND e.revision = (SELECT MAX(revision) FROM events WHERE event_id = p.event_id) "
    "WHERE NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id) "
    "AND ($1 IS NULL OR e.sport = $1) AND ($2 IS NULL OR e.league = $2) "
    "AND ($3 IS NULL OR p.market = $3) AND ($4 IS NULL OR p.tier = $4) "
    "AND ($5 IS NULL OR pp.channel = $5) AND ($6 IS NULL OR p.book = $6) "
    "AND ($7 IS NULL OR pp.published_at >= $7) AND ($8 IS NULL OR pp.published_at <= $8) "
    "GROUP BY g.outcome ORDER BY g.outcome";

constexpr char kTrainingRows[] =
    "SELECT pp.published_at, pp.publish_id, e.sport, p.tier, p.market, p.raw_prob, g.outcome "
    "FROM published_predictions pp JOIN predictions p ON p.prediction_id = pp.prediction_id "
    "JOIN events e ON e.event_id = p.event_id "
    "  AND e.revision = (SELECT MAX(revision) FROM events WHERE event_id = p.event_id) "
    "JOIN grading g ON g.publish_id = pp.publish_id "
    "  AND NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id) "
    "WHERE pp.published_at >= $1 AND pp.published_at <= $2 "
    "AND g.outcome NOT IN ('PUSH', 'VOID') ORDER BY pp.published_at, pp.publish_id";

#define TB_CALIB_VERSION_COLS                                                                 \
  "calibration_version_id, method, training_from, training_to, n, settings, metrics_before, " \
  "metrics_after, gates, gates_passed, code_version, created_at"
constexpr char kListCalibrationVersions[] = "SELECT " TB_CALIB_VERSION_COLS
                                            " FROM calibration_versions "
                                            "ORDER BY created_at DESC, calibration_version_id "
                                            "DESC LIMIT $1";
constexpr char kGetCalibrationVersion[] = "SELECT " TB_CALIB_VERSION_COLS
                                          " FROM calibration_versions "
                                          "WHERE calibration_version_id = $1";
constexpr char kInsertCalibrationVersion[] =
    "INSERT INTO calibration_versions (" TB_CALIB_VERSION_COLS
    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING";
#undef TB_CALIB_VERSION_COLS
constexpr char kListCalibrationSegments[] =
    "SELECT calibration_version_id, segment_key, fitted_on, fallback, n, params, metrics, bins "
    "FROM calibration_segments WHERE calibration_version_id = $1 ORDER BY segment_key";
constexpr char kInsertCalibrationSegment[] =
    "INSERT INTO calibration_segments (calibration_version_id, segment_key, fitted_on, fallback, "
    "n, params, metrics, bins) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING";
constexpr char kLatestActivation[] =
    "SELECT activation_id, calibration_version_id, actor, reason, forced, activated_at, "
    "log_index FROM calibration_activations ORDER BY log_index DESC LIMIT 1";
constexpr char kInsertActivation[] =
    "INSERT INTO calibration_activations (activation_id, calibration_version_id, actor, reason, "
    "forced, activated_at, log_index) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING";

constexpr char kInsertRejected[] =
    "INSERT INTO rejected_attempts (attempt_id, kind, target_id, request_sha256, reason, body, "
    "recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING";
constexpr char kInsertCleanup[] =
    "INSERT INTO snapshot_cleanups (cleanup_id, cutoff, requested_at, deleted_count, "
    "deleted_ids) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING";
constexpr char kDeleteOdds[] =
    "DELETE FROM odds_snapshots WHERE snapshot_id = $1 "
    "AND captured_at = " TB_ODDS_TIME_OF_ID;
// After the snapshot: the schema refuses to delete the id of a stored snapshot.
constexpr char kDeleteOddsId[] = "DELETE FROM odds_snapshot_ids WHERE snapshot_id = $1";
#undef TB_ODDS_TIME_OF_ID
constexpr char kListUnreferenced[] =
    "SELECT s.snapshot_id FROM odds_snapshots s WHERE s.captured_at < $1 AND NOT EXISTS "
    "(SELECT 1 FROM sim_run_inputs i WHERE i.snapshot_id = s.snapshot_id) AND NOT EXISTS "
    "(SELECT 1 FROM grading g WHERE g.closing_snapshot_id = s.snapshot_id) "
    "ORDER BY s.captured_at, s.snapshot_id LIMIT $2";

constexpr char kRollupDaysGradedAfter[] =
    "SELECT DISTINCT pp.published_at / 86400000 FROM grading g "
    "JOIN published_predictions pp ON pp.publish_id = g.publish_id WHERE g.log_index > $1 "
    "ORDER BY 1";
constexpr char kRollupFacts[] =
    "SELECT e.sport, e.league, e.season, p.tier, p.market, pp.channel, p.book, g.outcome, "
    "g.stake, g.profit_units, g.clv_price, g.clv_fair, g.clv_prob_pts, g.prob, g.brier, "
    "g.log_loss FROM published_predictions pp "
    "JOIN grading g ON g.publish_id = pp.publish_id "
    "  AND NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id) "
    "JOIN predictions p ON p.prediction_id = pp.prediction_id "
    "JOIN events e ON e.event_id = p.event_id "
    "  AND e.revision = (SELECT MAX(revision) FROM events WHERE event_id = p.event_id) "
    "WHERE pp.published_at >= $1 AND pp.published_at < $2";
#define TB_ROLLUP_COLS                                                                 \
  "rollup_key, dims, day, season, win, loss, push, void, half_win, half_loss, stake, " \
  "profit_units, clv_price_sum, clv_price_n, clv_fair_sum, clv_prob_pts_sum, clv_n, "  \
  "beat_close_n, brier_sum, log_loss_sum, scored_n, bins, computed_at"
constexpr char kRollupDaysOfDims[] =
    "SELECT " TB_ROLLUP_COLS
    " FROM performance_rollups WHERE dims = $1 "
    "AND ($2 IS NULL OR season = $2) AND day BETWEEN $3 AND $4 ORDER BY rollup_key, day, season";
constexpr char kRollupDaysOfKey[] =
    "SELECT " TB_ROLLUP_COLS
    " FROM performance_rollups WHERE dims = $1 AND rollup_key = $2 "
    "AND ($3 IS NULL OR season = $3) AND day BETWEEN $4 AND $5 ORDER BY rollup_key, day, season";
constexpr char kInsertRollupDay[] =
    "INSERT INTO performance_rollups (" TB_ROLLUP_COLS
    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,"
    "$23)";
constexpr char kDeleteRollupDay[] = "DELETE FROM performance_rollups WHERE day = $1";
// Serializes the refreshes of one day (two servers' rollup jobs): the second waits, then its
// DELETE sees and removes the rows the first inserted, instead of colliding with them.
constexpr char kLockRollupDay[] = "SELECT pg_advisory_xact_lock(3, CAST($1 AS integer))";
constexpr char kLatestRollupDay[] =
    "SELECT " TB_ROLLUP_COLS
    " FROM performance_rollups WHERE dims = $1 AND rollup_key = $2 AND day <= $3 "
    "ORDER BY day DESC, season DESC LIMIT 1";
#undef TB_ROLLUP_COLS
constexpr char kRollupWatermark[] = "SELECT watermark FROM rollup_state WHERE id = 1";
// rollup_state is operational state, not a ledger table: DO UPDATE is fine here.
constexpr char kSetRollupWatermark[] =
    "INSERT INTO rollup_state (id, watermark) VALUES (1, $1) ON CONFLICT (id) DO UPDATE "
    "SET watermark = GREATEST(rollup_state.watermark, excluded.watermark)";

#define TB_JOB_RUN_COLS \
  "job, slot, trigger, status, claimed_by, started_at, finished_at, duration_ms, summary"
constexpr char kGetJobRun[] =
    "SELECT " TB_JOB_RUN_COLS " FROM job_runs WHERE job = $1 AND slot = $2";
constexpr char kListJobRuns[] = "SELECT " TB_JOB_RUN_COLS
                                " FROM job_runs WHERE job = $1 "
                                "ORDER BY started_at DESC, slot DESC LIMIT $2";
constexpr char kLatestJobSlot[] =
    "SELECT MAX(slot) FROM job_runs WHERE job = $1 AND trigger <> 'manual'";
// A claim that loses the race to another server inserts nothing: AlreadyExists, without an
// error in the server's log for every slot every server tried.
constexpr char kInsertJobRun[] = "INSERT INTO job_runs (" TB_JOB_RUN_COLS
                                 ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING";
#undef TB_JOB_RUN_COLS
constexpr char kFinishJobRun[] =
    "UPDATE job_runs SET status = $1, finished_at = $2, duration_ms = $3, summary = $4 "
    "WHERE job = $5 AND slot = $6";

constexpr char kListLedger[] =
    "SELECT log_index, kind, record_id, payload, entry_sha256, recorded_at FROM ledger_entries "
    "WHERE log_index >= $1 ORDER BY log_index LIMIT $2";
constexpr char kLedgerSize[] = "SELECT COALESCE(MAX(log_index) + 1, 0) FROM ledger_entries";
// The one serialization point of the log, across transactions and servers: held until the
// appending transaction ends, so the next appender reads MAX after this one committed (or
// rolled back). A sequence would leave gaps.
constexpr char kLockLedger[] = "SELECT pg_advisory_xact_lock($1)";
constexpr char kInsertLedger[] =
    "INSERT INTO ledger_entries (log_index, kind, record_id, payload, entry_sha256, "
    "recorded_at) SELECT COALESCE(MAX(log_index) + 1, 0), $1, $2, $3, $4, $5 "
    "FROM ledger_entries RETURNING log_index";

constexpr char kGetIdempotent[] =
    "SELECT key, request_sha256, status, body, recorded_at FROM idempotency_keys WHERE key = $1";
constexpr char kPutIdempotent[] =
    "INSERT INTO idempotency_keys (key, request_sha256, status, body, recorded_at) "
    "VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING";

// Row counts of every table in one statement.
const char* CountRowsSql() {
  static const std::string* sql = [] {
    auto* s = new std::string;
    for (const std::string& table : TableNames()) {
      if (!s->empty()) *s += " UNION ALL ";
      *s += "SELECT '" + table + "'::text, COUNT(*) FROM " + table;
    }
    return s;
  }();
  return sql->c_str();
}

constexpr char kBeginWrite[] = "BEGIN";
constexpr char kBeginRead[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// ---- row mappers ----

Event ReadEvent(const Statement& s) {
  return Event{s.Text(0), s.Int(1),  s.Text(2), s.Text(3), s.Text(4), s.Text(5),
               s.Text(6), s.Time(7), s.Text(8), s.Text(9), s.Time(10)};
}
OddsSnapshot ReadOdds(const Statement& s) {
  return OddsSnapshot{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Time(4),     s.Time(5),
                      s.Text(6), s.Text(7), s.Text(8), s.Text(9), s.OptText(10), s.OptText(11)};
}
InjurySnapshot ReadInjury(const Statement& s) {
  return InjurySnapshot{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Time(4),
                        s.Time(5), s.Text(6), s.Text(7), s.Text(8)};
}
SimRun ReadSimRun(const Statement& s) {
  return SimRun{s.Text(0), s.Text(1), s.Text(2), s.Text(3),  s.Text(4),  s.Text(5), s.Bool(6),
                s.Int(7),  s.Int(8),  s.Text(9), s.Time(10), s.Time(11), s.Time(12)};
}
SimRunInput ReadInput(const Statement& s) {
  return SimRunInput{s.Text(0), s.Text(1), s.Text(2), s.Text(3)};
}
Prediction ReadPrediction(const Statement& s) {
  return Prediction{s.Text(0),      s.Text(1),    s.Text(2),       s.Text(3),     s.Text(4),
                    s.OptDouble(5), s.OptText(6), s.OptText(7),    s.Text(8),     s.Double(9),
                    s.Double(10),   s.Double(11), s.OptDouble(12), s.OptText(13), s.OptDouble(14),
                    s.Text(15),     s.Double(16), s.Time(17)};
}
Publish ReadPublish(const Statement& s) {
  return Publish{s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                 s.Bool(4), s.Time(5), s.Text(6), s.Int(7)};
}
EventResult ReadResult(const Statement& s) {
  return EventResult{s.Text(0),   s.Text(1), s.Int(2),     s.Text(3), s.OptInt(4),
                     s.OptInt(5), s.Text(6), s.OptText(7), s.Time(8), s.Int(9)};
}
ledger::Grading ReadGrading(const Statement& s) {
  return ledger::Grading{s.Text(0),       s.Text(1),       s.Text(2),       s.Text(3),
                         s.Text(4),       s.Double(5),     s.Double(6),     s.Double(7),
                         s.OptText(8),    s.OptDouble(9),  s.OptDouble(10), s.OptDouble(11),
                         s.OptDouble(12), s.OptText(13),   s.Text(14),      s.Text(15),
                         s.Double(16),    s.OptDouble(17), s.OptDouble(18), s.OptText(19),
                         s.Time(20),      s.Int(21)};
}
GradingInput ReadGradingInput(const Statement& s) {
  GradingInput in{ReadPublish(s.From(0)), ReadPrediction(s.From(8)),
                  ReadEvent(s.From(26)),  std::nullopt,
                  std::nullopt,           std::nullopt};
  if (!s.From(0).IsNull(37)) in.result = ReadResult(s.From(37));
  in.current_grading_id = s.From(0).OptText(47);
  in.current_result_id = s.OptText(48);
  return in;
}
GradingTotals ReadTotals(const Statement& s) {
  return GradingTotals{s.Text(0),    s.Int(1),     s.Double(2), s.Double(3), s.Double(4),
                       s.Int(5),     s.Double(6),  s.Double(7), s.Int(8),    s.Int(9),
                       s.Double(10), s.Double(11), s.Int(12)};
}
TrainingRow ReadTrainingRow(const Statement& s) {
  return TrainingRow{s.Time(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Double(5), s.Text(6)};
}
ledger::CalibrationVersion ReadCalibrationVersion(const Statement& s) {
  return ledger::CalibrationVersion{s.Text(0), s.Text(1), s.Time(2),  s.Time(3),
                                    s.Int(4),  s.Text(5), s.Text(6),  s.Text(7),
                                    s.Text(8), s.Bool(9), s.Text(10), s.Time(11)};
}
ledger::CalibrationSegment ReadCalibrationSegment(const Statement& s) {
  return ledger::CalibrationSegment{s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                                    s.Int(4),  s.Text(5), s.Text(6), s.Text(7)};
}
ledger::CalibrationActivation ReadActivation(const Statement& s) {
  return ledger::CalibrationActivation{s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                                       s.Bool(4), s.Time(5), s.Int(6)};
}
LedgerEntry ReadLedger(const Statement& s) {
  return LedgerEntry{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Time(5)};
}
IdempotentResponse ReadIdempotent(const Statement& s) {
  return IdempotentResponse{s.Text(0), s.Text(1), static_cast<int>(s.Int(2)), s.Text(3), s.Time(4)};
}

// The reliability bins of RollupSums as one BYTEA, exactly as the SQLite backend stores them:
// kBins int64 counts, then kBins float64 sums of p, then kBins float64 sums of hits, in
// little-endian byte order.
static_assert(std::endian::native == std::endian::little);
constexpr size_t kRollupBinsBytes = RollupSums::kBins * 3 * 8;

std::string EncodeRollupBins(const RollupSums& sums) {
  std::string out(kRollupBinsBytes, '\0');
  std::memcpy(out.data(), sums.bin_n.data(), 8 * RollupSums::kBins);
  std::memcpy(out.data() + 8 * RollupSums::kBins, sums.bin_p_sum.data(), 8 * RollupSums::kBins);
  std::memcpy(out.data() + 16 * RollupSums::kBins, sums.bin_hit_sum.data(), 8 * RollupSums::kBins);
  return out;
}

RollupFact ReadRollupFact(const Statement& s) {
  return RollupFact{s.Text(0),       s.Text(1),    s.Text(2),       s.Text(3),
                    s.Text(4),       s.Text(5),    s.Text(6),       s.Text(7),
                    s.Double(8),     s.Double(9),  s.OptDouble(10), s.OptDouble(11),
                    s.OptDouble(12), s.Double(13), s.OptDouble(14), s.OptDouble(15)};
}

RollupDay ReadRollupDay(const Statement& s) {
  RollupDay d{s.Text(0), s.Text(1), s.Int(2), s.Text(3), {}, s.Time(22)};
  RollupSums& r = d.sums;
  for (size_t o = 0; o < r.count_by_outcome.size(); ++o) {
    r.count_by_outcome[o] = s.Int(4 + static_cast<int>(o));
  }
  r.stake = s.Double(10);
  r.profit_units = s.Double(11);
  r.clv_price_sum = s.Double(12);
  r.clv_price_n = s.Int(13);
  r.clv_fair_sum = s.Double(14);
  r.clv_prob_pts_sum = s.Double(15);
  r.clv_n = s.Int(16);
  r.beat_close_n = s.Int(17);
  r.brier_sum = s.Double(18);
  r.log_loss_sum = s.Double(19);
  r.scored_n = s.Int(20);
  const std::string bins = s.Text(21);
  if (bins.size() == kRollupBinsBytes) {
    std::memcpy(r.bin_n.data(), bins.data(), 8 * RollupSums::kBins);
    std::memcpy(r.bin_p_sum.data(), bins.data() + 8 * RollupSums::kBins, 8 * RollupSums::kBins);
    std::memcpy(r.bin_hit_sum.data(), bins.data() + 16 * RollupSums::kBins, 8 * RollupSums::kBins);
  }
  return d;
}

JobRun ReadJobRun(const Statement& s) {
  std::optional<TimePoint> finished;
  if (!s.IsNull(6)) finished = s.Time(6);
  return JobRun{s.Text(0), s.Text(1), s.Text(2),   s.Text(3), s.Text(4),
                s.Time(5), finished,  s.OptInt(7), s.Text(8)};
}

// Runs a bound statement and maps its first row, if any.
template <typename T>
Result<std::optional<T>> One(Statement& s, T (*read)(const Statement&)) {
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<T>();
  return std::optional<T>(read(s));
}

// Runs a bound statement and maps every row.
template <typename T>
Result<std::vector<T>> All(Statement& s, T (*read)(const Statement&)) {
  std::vector<T> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(read(s));
  }
}

// The reads, shared by the read-only view and the write transaction.
template <typename Base>
class PgReads : public Base {
 public:
  explicit PgReads(Connection& conn) : conn_(conn) {}

  Result<std::map<std::string, int64_t>> CountRows() override {
    Statement s = conn_.Prepare(CountRowsSql());
    std::map<std::string, int64_t> counts;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return counts;
      counts[s.Text(0)] = s.Int(1);
    }
  }

  Result<std::optional<Event>> CurrentEvent(const std::string& event_id) override {
    Statement s = conn_.Prepare(kCurrentEvent);
    s.BindAll(event_id);
    return One(s, ReadEvent);
  }
  Result<std::vector<std::string>> ListUnknownEvents(
      std::span<const std::string> event_ids) override {
    Statement s = conn_.Prepare(kListUnknownEvents);
    s.BindTextArray(1, event_ids);
    return All<std::string>(s, [](const Statement& st) { return st.Text(0); });
  }
  Result<std::optional<OddsSnapshot>> GetOddsSnapshot(const std::string& id) override {
    Statement s = conn_.Prepare(kGetOdds);
    s.BindAll(id);
    return One(s, ReadOdds);
  }
  Result<std::optional<OddsSnapshot>> FindOddsSnapshotByContent(const std::string& event_id,
                                                                TimePoint captured_at,
                                                                const std::string& hash) override {
    Statement s = conn_.Prepare(kFindOddsByContent);
    s.BindAll(event_id, captured_at, hash);
    return One(s, ReadOdds);
  }
  Result<std::vector<OddsSnapshot>> ListOddsSnapshots(const SnapshotQuery& q) override {
    Statement s = conn_.Prepare(kListOdds);
    std::optional<TimePoint> after_time;
    std::optional<std::string> after_id;
    if (q.after) {
      after_time = q.after->time;
      after_id = q.after->id;
    }
    s.BindAll(q.event_id, q.book, q.market, q.captured_from, q.captured_until, after_time, after_id,
              int64_t{q.limit});
    return All(s, ReadOdds);
  }
  Result<std::optional<InjurySnapshot>> GetInjurySnapshot(const std::string& id) override {
    Statement s = conn_.Prepare(kGetInjury);
    s.BindAll(id);
    return One(s, ReadInjury);
  }
  Result<std::optional<InjurySnapshot>> FindInjurySnapshotByHash(const std::string& hash) override {
    Statement s = conn_.Prepare(kFindInjuryByHash);
    s.BindAll(hash);
    return One(s, ReadInjury);
  }
  Result<std::optional<SnapshotRef>> FindSnapshotRef(const std::string& id) override {
    Statement s = conn_.Prepare(kFindSnapshotRef);
    s.BindAll(id);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<SnapshotRef>();
    return std::optional<SnapshotRef>(SnapshotRef{s.Text(0), s.Text(1)});
  }
  Result<std::optional<SimRun>> GetSimRun(const std::string& id) override {
    Statement s = conn_.Prepare(kGetSimRun);
    s.BindAll(id);
    return One(s, ReadSimRun);
  }
  Result<std::vector<SimRunInput>> ListSimRunInputs(const std::string& id) override {
    Statement s = conn_.Prepare(kListInputs);
    s.BindAll(id);
    return All(s, ReadInput);
  }
  Result<std::vector<Prediction>> ListPredictions(const std::string& run_id) override {
    Statement s = conn_.Prepare(kListPredictions);
    s.BindAll(run_id);
    return All(s, ReadPrediction);
  }
  Result<std::optional<Prediction>> GetPrediction(const std::string& id) override {
    Statement s = conn_.Prepare(kGetPrediction);
    s.BindAll(id);
    return One(s, ReadPrediction);
  }
  Result<std::optional<Event>> EventOfPrediction(const std::string& prediction_id) override {
    Statement s = conn_.Prepare(kEventOfPrediction);
    s.BindAll(prediction_id);
    return One(s, ReadEvent);
  }
  Result<std::optional<Publish>> PublishForPrediction(const std::string& id) override {
    Statement s = conn_.Prepare(kPublishForPrediction);
    s.BindAll(id);
    return One(s, ReadPublish);
  }
  Result<std::vector<Publish>> ListPublished(const PublishedQuery& q) override {
    Statement s = conn_.Prepare(kListPublished);
    std::optional<TimePoint> after_time;
    std::optional<std::string> after_id;
    if (q.after) {
      after_time = q.after->time;
      after_id = q.after->id;
    }
    s.BindAll(q.sport, q.channel, q.published_from, q.published_until, after_time, after_id,
              int64_t{q.limit});
    return All(s, ReadPublish);
  }
  Result<std::optional<EventResult>> LatestResult(const std::string& event_id) override {
    Statement s = conn_.Prepare(kLatestResult);
    s.BindAll(event_id);
    return One(s, ReadResult);
  }
  Result<std::vector<OddsSnapshot>> ListClosingCandidates(const ClosingQuery& q) override {
    Statement s = conn_.Prepare(kListClosing);
    s.BindAll(q.event_id, q.book, q.market, q.player, q.stat, q.at_or_before, int64_t{q.limit});
    return All(s, ReadOdds);
  }
  Result<std::optional<GradingInput>> GetGradingInput(const std::string& publish_id) override {
    Statement s = conn_.Prepare(kGradingInput);
    s.BindAll(publish_id);
    return One(s, ReadGradingInput);
  }
  Result<std::vector<GradingInput>> ListPendingGradings(int64_t after_log_index,
                                                        int limit) override {
    Statement s = conn_.Prepare(kPendingGradings);
    s.BindAll(after_log_index, int64_t{limit});
    return All(s, ReadGradingInput);
  }
  Result<std::vector<ledger::Grading>> ListGradings(const std::string& publish_id) override {
    Statement s = conn_.Prepare(kListGradings);
    s.BindAll(publish_id);
    return All(s, ReadGrading);
  }
  Result<std::vector<GradingTotals>> SumGradings(const GradingQuery& q) override {
    Statement s = conn_.Prepare(kSumGradings);
    s.BindAll(q.sport, q.league, q.market, q.tier, q.channel, q.book, q.published_from,
              q.published_until);
    return All(s, ReadTotals);
  }
  Result<std::vector<TrainingRow>> ListTrainingRows(TimePoint from, TimePoint to) override {
    Statement s = conn_.Prepare(kTrainingRows);
    s.BindAll(from, to);
    return All(s, ReadTrainingRow);
  }
  Result<std::vector<ledger::CalibrationVersion>> ListCalibrationVersions(int limit) override {
    Statement s = conn_.Prepare(kListCalibrationVersions);
    s.BindAll(int64_t{limit});
    return All(s, ReadCalibrationVersion);
  }
  Result<std::optional<ledger::CalibrationVersion>> GetCalibrationVersion(
      const std::string& id) override {
    Statement s = conn_.Prepare(kGetCalibrationVersion);
    s.BindAll(id);
    return One(s, ReadCalibrationVersion);
  }
  Result<std::vector<ledger::CalibrationSegment>> ListCalibrationSegments(
      const std::string& version_id) override {
    Statement s = conn_.Prepare(kListCalibrationSegments);
    s.BindAll(version_id);
    return All(s, ReadCalibrationSegment);
  }
  Result<std::optional<ledger::CalibrationActivation>> LatestActivation() override {
    Statement s = conn_.Prepare(kLatestActivation);
    return One(s, ReadActivation);
  }
  Result<std::vector<int64_t>> ListRollupDaysGradedAfter(int64_t after_log_index) override {
    Statement s = conn_.Prepare(kRollupDaysGradedAfter);
    s.BindAll(after_log_index);
    return All<int64_t>(s, [](const Statement& st) { return st.Int(0); });
  }
  Status ForEachRollupFact(TimePoint from, TimePoint to,
                           const std::function<void(const RollupFact&)>& fn) override {
    Statement s = conn_.Prepare(kRollupFacts);
    s.BindAll(from, to);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      fn(ReadRollupFact(s));
    }
  }
  Result<int64_t> RollupWatermark() override {
    Statement s = conn_.Prepare(kRollupWatermark);
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{-1};
  }
  Result<std::vector<RollupDay>> ListRollupDays(const RollupQuery& q) override {
    if (q.rollup_key) {
      Statement s = conn_.Prepare(kRollupDaysOfKey);
      s.BindAll(q.dims, *q.rollup_key, q.season, q.day_from, q.day_to);
      return All(s, ReadRollupDay);
    }
    Statement s = conn_.Prepare(kRollupDaysOfDims);
    s.BindAll(q.dims, q.season, q.day_from, q.day_to);
    return All(s, ReadRollupDay);
  }
  Result<std::optional<RollupDay>> LatestRollupDay(const std::string& dims,
                                                   const std::string& rollup_key,
                                                   int64_t day_to) override {
    Statement s = conn_.Prepare(kLatestRollupDay);
    s.BindAll(dims, rollup_key, day_to);
    return One(s, ReadRollupDay);
  }
  Result<std::optional<JobRun>> GetJobRun(const std::string& job,
                                          const std::string& slot) override {
    Statement s = conn_.Prepare(kGetJobRun);
    s.BindAll(job, slot);
    return One(s, ReadJobRun);
  }
  Result<std::optional<std::string>> LatestJobSlot(const std::string& job) override {
    Statement s = conn_.Prepare(kLatestJobSlot);
    s.BindAll(job);
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.OptText(0) : std::nullopt;
  }
  Result<std::vector<JobRun>> ListJobRuns(const std::string& job, int limit) override {
    Statement s = conn_.Prepare(kListJobRuns);
    s.BindAll(job, int64_t{limit});
    return All(s, ReadJobRun);
  }
  Result<std::vector<LedgerEntry>> ListLedgerEntries(int64_t first, int limit) override {
    Statement s = conn_.Prepare(kListLedger);
    s.BindAll(first, int64_t{limit});
    return All(s, ReadLedger);
  }
  Result<int64_t> LedgerSize() override {
    Statement s = conn_.Prepare(kLedgerSize);
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{0};
  }
  Result<std::vector<std::string>> ListUnreferencedOddsSnapshots(TimePoint cutoff,
                                                                 int limit) override {
    Statement s = conn_.Prepare(kListUnreferenced);
    s.BindAll(cutoff, int64_t{limit});
    return All<std::string>(s, [](const Statement& st) { return st.Text(0); });
  }
  Result<std::optional<IdempotentResponse>> GetIdempotentResponse(const std::string& key) override {
    Statement s = conn_.Prepare(kGetIdempotent);
    s.BindAll(key);
    return One(s, ReadIdempotent);
  }

 protected:
  // Runs `sql` with `args` bound, for statements without rows.
  template <typename... Args>
  Status Run(const char* sql, const Args&... args) {
    Statement s = conn_.Prepare(sql);
    s.BindAll(args...);
    return s.Run();
  }

  Connection& conn_;
};

class PgReader final : public PgReads<Reader> {
 public:
  using PgReads::PgReads;
};

class PgWriteTxn final : public PgReads<WriteTxn> {
 public:
  PgWriteTxn(Connection& conn, OddsPartitions& partitions)
      : PgReads(conn), partitions_(partitions) {}

  // The check before a publish, made race-free across transactions (kLockPrediction).
  Result<std::optional<Publish>> PublishForPrediction(const std::string& id) override {
    RETURN_IF_ERROR(Run(kLockPrediction, id));
    return PgReads::PublishForPrediction(id);
  }
  // The check before an injury capture, likewise (kLockInjuryContent).
  Result<std::optional<InjurySnapshot>> FindInjurySnapshotByHash(const std::string& hash) override {
    RETURN_IF_ERROR(Run(kLockInjuryContent, hash));
    return PgReads::FindInjurySnapshotByHash(hash);
  }

  Status InsertEvent(const Event& e) override {
    return Insert("events", kInsertEvent, e.event_id, e.revision, e.sport, e.league, e.season,
                  e.home_team, e.away_team, e.start_time, e.status, e.body_sha256, e.recorded_at);
  }
  Status InsertOddsSnapshot(const OddsSnapshot& s) override {
    RETURN_IF_ERROR(partitions_.Ensure(std::span(&s.captured_at, 1)));
    Statement st = conn_.Prepare(kInsertOdds);
    st.BindAll(s.snapshot_id, s.event_id, s.book, s.market, s.captured_at, s.recorded_at);
    st.BindBlob(7, s.raw).Bind(8, s.quotes_json).Bind(9, s.devig_method);
    st.Bind(10, s.content_sha256).Bind(11, s.player).Bind(12, s.stat);
    return Inserted("odds_snapshots", st);
  }
  Result<std::vector<std::optional<OddsSnapshot>>> InsertOddsSnapshots(
      std::span<const OddsSnapshot> snapshots) override {
    std::vector<std::optional<OddsSnapshot>> out(snapshots.size());
    if (snapshots.empty()) return out;
    std::vector<TimePoint> times;
    times.reserve(snapshots.size());
    for (const OddsSnapshot& s : snapshots) times.push_back(s.captured_at);
    RETURN_IF_ERROR(partitions_.Ensure(times));

    // A row repeating the content of an earlier row is not sent: it gets what that row gets
    // (the first wins, and the server need not sort the batch).
    std::vector<size_t> first(snapshots.size());
    std::unordered_map<std::string, size_t> first_of_content;
    for (size_t i = 0; i < snapshots.size(); ++i) {
      const OddsSnapshot& s = snapshots[i];
      std::string key = s.event_id;
      key += '\0';
      key += std::to_string(s.captured_at.time_since_epoch().count());
      key += '\0';
      key += s.content_sha256;
      first[i] = first_of_content.try_emplace(std::move(key), i).first->second;
    }

    // New content, the common case, goes straight in: COPY into the table and its id rows,
    // inside a savepoint. A unique violation (content or id stored already) rolls back to it,
    // and the staging path below sorts out which rows are new.
    ASSIGN_OR_RETURN(bool copied, CopyNew(snapshots, first));
    if (copied) {
      for (size_t i = 0; i < snapshots.size(); ++i) {
        if (first[i] != i) out[i] = snapshots[first[i]];
      }
      return out;
    }

    // Another write of this transaction (group commit) may have left rows in the table.
    RETURN_IF_ERROR(conn_.Exec(staged_ ? kEmptyStaging : kCreateOrEmptyStaging));
    staged_ = true;
    CopyRows rows;
    for (size_t i = 0; i < snapshots.size(); ++i) {
      if (first[i] != i) continue;
      const OddsSnapshot& s = snapshots[i];
      rows.BeginRow(13).Add(static_cast<int64_t>(i)).Add(s.snapshot_id).Add(s.event_id);
      rows.Add(s.book).Add(s.market).Add(s.captured_at).Add(s.recorded_at).Add(s.raw);
      rows.Add(s.quotes_json).Add(s.devig_method).Add(s.content_sha256).Add(s.player);
      rows.Add(s.stat);
    }
    RETURN_IF_ERROR(conn_.CopyIn(kCopyStaging, rows.Finish()));

    Statement insert = conn_.Prepare(kInsertStaged);
    RETURN_IF_ERROR(insert.Run());
    if (insert.RowsAffected() != static_cast<int64_t>(first_of_content.size())) {
      // Some content was stored already: say which, with the stored snapshot.
      Statement left = conn_.Prepare(kStagedNotInserted);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, left.Step());
        if (!row) break;
        if (left.IsNull(2)) {
          return AlreadyExists("odds_snapshots: snapshot_id " + left.Text(1) +
                               " is taken by other content");
        }
        const int64_t ord = left.Int(0);
        out[ord] = ReadOdds(left.From(2));
      }
    }
    for (size_t i = 0; i < snapshots.size(); ++i) {
      if (first[i] != i) out[i] = out[first[i]] ? out[first[i]] : snapshots[first[i]];
    }
    return out;
  }
  Status InsertInjurySnapshot(const InjurySnapshot& s) override {
    Statement st = conn_.Prepare(kInsertInjury);
    st.BindAll(s.snapshot_id, s.event_id, s.team, s.source, s.captured_at, s.recorded_at,
               s.players_json);
    st.BindBlob(8, s.raw).Bind(9, s.content_sha256);
    return Inserted("injury_snapshots", st);
  }
  Status InsertSimRun(const SimRun& r) override {
    return Insert("sim_runs", kInsertSimRun, r.sim_run_id, r.trigger, r.model_version,
                  r.feature_set_version, r.decision_policy_version, r.git_sha, r.code_dirty,
                  r.n_sims, r.rng_seed, r.params_json, r.started_at, r.finished_at, r.recorded_at);
  }
  Status InsertSimRunInput(const SimRunInput& i) override {
    return Insert("sim_run_inputs", kInsertInput, i.sim_run_id, i.input_kind, i.snapshot_id,
                  i.content_sha256);
  }
  Status InsertPrediction(const Prediction& p) override {
    return Insert("predictions", kInsertPrediction, p.prediction_id, p.sim_run_id, p.event_id,
                  p.market, p.selection, p.line, p.player, p.stat, p.book, p.price_decimal,
                  p.price_american, p.raw_prob, p.calibrated_prob, p.calibration_version_id, p.edge,
                  p.tier, p.stake_units, p.recorded_at);
  }
  // ON CONFLICT DO NOTHING RETURNING: a publish that collides leaves the transaction usable,
  // and a fresh SELECT says which publish holds the prediction.
  Status InsertPublish(const Publish& p) override {
    Statement st = conn_.Prepare(kInsertPublish);
    st.BindAll(p.publish_id, p.prediction_id, p.channel, p.visibility, p.is_official,
               p.published_at, p.request_sha256, p.log_index);
    ASSIGN_OR_RETURN(bool inserted, st.Step());
    if (inserted) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<Publish> existing,
                     PgReads::PublishForPrediction(p.prediction_id));
    if (existing) {
      return AlreadyExists("published_predictions: prediction " + p.prediction_id +
                           " is already published as " + existing->publish_id);
    }
    return AlreadyExists("published_predictions: a row with this key exists");
  }
  Status InsertEventResult(const EventResult& r) override {
    return Insert("event_results", kInsertResult, r.result_id, r.event_id, r.revision, r.status,
                  r.home_score, r.away_score, r.player_stats_json, r.supersedes, r.recorded_at,
                  r.log_index);
  }
  Status InsertGrading(const ledger::Grading& g) override {
    return Insert("grading", kInsertGrading, g.grading_id, g.publish_id, g.result_id, g.outcome,
                  g.stake_convention, g.stake, g.profit_units, g.price_decimal,
                  g.closing_snapshot_id, g.closing_price, g.clv_price, g.clv_fair, g.clv_prob_pts,
                  g.clv_note, g.devig_method, g.prob_used, g.prob, g.brier, g.log_loss,
                  g.supersedes, g.graded_at, g.log_index);
  }
  Status InsertCalibrationVersion(const ledger::CalibrationVersion& v) override {
    return Insert("calibration_versions", kInsertCalibrationVersion, v.calibration_version_id,
                  v.method, v.training_from, v.training_to, v.n, v.settings_json,
                  v.metrics_before_json, v.metrics_after_json, v.gates_json, v.gates_passed,
                  v.code_version, v.created_at);
  }
  Status InsertCalibrationSegment(const ledger::CalibrationSegment& s) override {
    return Insert("calibration_segments", kInsertCalibrationSegment, s.calibration_version_id,
                  s.segment_key, s.fitted_on, s.fallback, s.n, s.params_json, s.metrics_json,
                  s.bins_json);
  }
  Status InsertCalibrationActivation(const ledger::CalibrationActivation& a) override {
    return Insert("calibration_activations", kInsertActivation, a.activation_id,
                  a.calibration_version_id, a.actor, a.reason, a.forced, a.activated_at,
                  a.log_index);
  }
  Status InsertRejectedAttempt(const ledger::RejectedAttempt& a) override {
    Statement st = conn_.Prepare(kInsertRejected);
    st.BindAll(a.attempt_id, a.kind, a.target_id, a.request_sha256, a.reason);
    st.BindBlob(6, a.body).Bind(7, a.recorded_at);
    return Inserted("rejected_attempts", st);
  }
  Status InsertSnapshotCleanup(const ledger::SnapshotCleanup& c) override {
    return Insert("snapshot_cleanups", kInsertCleanup, c.cleanup_id, c.cutoff, c.requested_at,
                  c.deleted_count, c.deleted_ids_json);
  }
  Status DeleteOddsSnapshot(const std::string& snapshot_id) override {
    RETURN_IF_ERROR(Run(kDeleteOdds, snapshot_id));  // the schema refuses a referenced one
    return Run(kDeleteOddsId, snapshot_id);
  }
  Status ReplaceRollupDay(int64_t day, const std::vector<RollupDay>& rows) override {
    RETURN_IF_ERROR(Run(kLockRollupDay, day));
    RETURN_IF_ERROR(Run(kDeleteRollupDay, day));
    for (const RollupDay& d : rows) {
      const RollupSums& r = d.sums;
      Statement st = conn_.Prepare(kInsertRollupDay);
      st.BindAll(d.rollup_key, d.dims, d.day, d.season, r.count_by_outcome[0],
                 r.count_by_outcome[1], r.count_by_outcome[2], r.count_by_outcome[3],
                 r.count_by_outcome[4], r.count_by_outcome[5], r.stake, r.profit_units,
                 r.clv_price_sum, r.clv_price_n, r.clv_fair_sum, r.clv_prob_pts_sum, r.clv_n,
                 r.beat_close_n, r.brier_sum, r.log_loss_sum, r.scored_n);
      st.BindBlob(22, EncodeRollupBins(r)).Bind(23, d.computed_at);
      RETURN_IF_ERROR(st.Run());
    }
    return Status::Ok();
  }
  Status SetRollupWatermark(int64_t log_index) override {
    return Run(kSetRollupWatermark, log_index);
  }
  Status InsertJobRun(const JobRun& r) override {
    return Insert("job_runs", kInsertJobRun, r.job, r.slot, r.trigger, r.status, r.claimed_by,
                  r.started_at, r.finished_at, r.duration_ms, r.summary_json);
  }
  Status FinishJobRun(const JobRun& r) override {
    Statement st = conn_.Prepare(kFinishJobRun);
    st.BindAll(r.status, r.finished_at, r.duration_ms, r.summary_json, r.job, r.slot);
    RETURN_IF_ERROR(st.Run());
    if (st.RowsAffected() == 0) return NotFound("job_runs: no run of " + r.job + " at " + r.slot);
    return Status::Ok();
  }
  Result<int64_t> AppendLedgerEntry(const LedgerEntry& entry) override {
    if (!ledger_locked_) {
      RETURN_IF_ERROR(Run(kLockLedger, kLedgerLockKey));
      ledger_locked_ = true;
    }
    Statement st = conn_.Prepare(kInsertLedger);
    st.BindAll(entry.kind, entry.record_id);
    st.BindBlob(3, entry.payload).Bind(4, entry.entry_sha256).Bind(5, entry.recorded_at);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Internal("ledger_entries: the insert returned no log_index");
    return st.Int(0);
  }
  Status PutIdempotentResponse(const IdempotentResponse& r) override {
    Statement st = conn_.Prepare(kPutIdempotent);
    st.BindAll(r.key, r.request_sha256, int64_t{r.status});
    st.BindBlob(4, r.body).Bind(5, r.recorded_at);
    return st.Run();  // first writer wins: a taken key inserts nothing
  }

 private:
  // Runs an INSERT … ON CONFLICT DO NOTHING: AlreadyExists when it inserted nothing (a unique
  // key of `table` is taken), with the transaction still usable.
  Status Inserted(const char* table, Statement& st) {
    RETURN_IF_ERROR(st.Run());
    if (st.RowsAffected() == 0) {
      return AlreadyExists(std::string(table) + ": a row with this key exists");
    }
    return Status::Ok();
  }
  template <typename... Args>
  Status Insert(const char* table, const char* sql, const Args&... args) {
    Statement st = conn_.Prepare(sql);
    st.BindAll(args...);
    return Inserted(table, st);
  }

  // COPYs the rows i with first[i] == i into odds_snapshots and odds_snapshot_ids. False
  // (with nothing written) when one of them is stored already.
  Result<bool> CopyNew(std::span<const OddsSnapshot> snapshots, const std::vector<size_t>& first) {
    CopyRows rows;
    CopyRows ids;
    for (size_t i = 0; i < snapshots.size(); ++i) {
      if (first[i] != i) continue;
      const OddsSnapshot& s = snapshots[i];
      rows.BeginRow(12).Add(s.snapshot_id).Add(s.event_id).Add(s.book).Add(s.market);
      rows.Add(s.captured_at).Add(s.recorded_at).Add(s.raw).Add(s.quotes_json);
      rows.Add(s.devig_method).Add(s.content_sha256).Add(s.player).Add(s.stat);
      ids.BeginRow(2).Add(s.snapshot_id).Add(s.captured_at);
    }
    RETURN_IF_ERROR(conn_.Exec("SAVEPOINT copy_new"));
    Status copied = conn_.CopyIn(kCopyOdds, rows.Finish());
    if (copied.ok()) copied = conn_.CopyIn(kCopyOddsIds, ids.Finish());
    if (copied.ok()) {
      RETURN_IF_ERROR(conn_.Exec("RELEASE copy_new"));
      return true;
    }
    if (conn_.failure_sqlstate() != "23505") return copied;  // not a taken key
    conn_.ClearFailure();
    RETURN_IF_ERROR(conn_.Exec("ROLLBACK TO copy_new"));
    return false;
  }

  OddsPartitions& partitions_;
  bool ledger_locked_ = false;  // this transaction holds kLockLedger
  bool staged_ = false;         // this transaction has created tb_odds_staging
};

}  // namespace

// A pooled connection, given back to the pool (or dropped, when lost or mid-transaction)
// when the lease ends.
class PostgresStore::Lease {
 public:
  Lease(PostgresStore& store, std::unique_ptr<Connection> conn)
      : store_(&store), conn_(std::move(conn)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (conn_) store_->Release(std::move(conn_));
  }
  Connection& operator*() { return *conn_; }
  Connection* operator->() { return conn_.get(); }

 private:
  PostgresStore* store_;
  std::unique_ptr<Connection> conn_;
};

bool PostgresStore::IsConninfo(std::string_view db) {
  return db.starts_with("postgresql://") || db.starts_with("postgres://") ||
         db.find("host=") != std::string_view::npos;
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const std::string& conninfo, const Clock& clock, PostgresOptions options,
    const std::function<void(const std::string&)>& on_table) {
  RETURN_IF_ERROR(ParseConninfo(conninfo).status());
  if (options.max_connections < 1 || options.writer_threads < 1 || options.max_write_attempts < 1 ||
      options.max_batch < 1) {
    return InvalidArgument(
        "postgres options: connections, writers, attempts and batch must be >= 1");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, Connection::Open(conninfo));
  Status migrated = Migrate(
      *first, clock.Now(), on_table ? on_table : [](const std::string&) {});
  if (!migrated.ok()) {
    return Unavailable("migrate " + RedactConninfo(conninfo) + ": " + migrated.message());
  }
  auto store =
      std::unique_ptr<PostgresStore>(new PostgresStore(conninfo, options, std::move(first)));
  if (options.read_only) return store;
  Status partitioned = store->partitions_.EnsureAhead(clock.Now(), kPartitionsAhead);
  if (!partitioned.ok()) {
    return Unavailable("partition odds_snapshots in " + RedactConninfo(conninfo) + ": " +
                       partitioned.message());
  }
  return store;
}

PostgresStore::PostgresStore(std::string conninfo, PostgresOptions options,
                             std::unique_ptr<Connection> first)
    : conninfo_(std::move(conninfo)),
      location_(RedactConninfo(conninfo_)),
      options_(options),
      partitions_(conninfo_) {
  idle_.push_back(std::move(first));
  open_ = 1;
  for (int i = 0; i < options_.writer_threads; ++i) {
    writers_.emplace_back([this] { WriterLoop(); });
  }
}

PostgresStore::~PostgresStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : writers_) t.join();  // each runs what is queued before it stops
}

Result<std::unique_ptr<Connection>> PostgresStore::Acquire() {
  {
    std::unique_lock lock(mu_);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  Result<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_);
  if (!conn.ok()) {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    pool_cv_.notify_one();
  }
  return conn;
}

void PostgresStore::Release(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mu_);
    if (!conn->Broken() && conn->Idle()) {
      conn->ClearFailure();
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  conn.reset();  // a dropped connection closes outside the lock
  pool_cv_.notify_one();
}

auto PostgresStore::Begin(const char* begin) -> Result<Lease> {
  // Every idle connection may have been lost in a server restart; one more try opens anew.
  for (int tries = 0;; ++tries) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Acquire());
    Lease lease(*this, std::move(conn));
    lease->ClearFailure();
    Status begun = lease->Exec(begin);
    if (begun.ok()) return lease;
    if (!lease->Broken() || tries >= options_.max_connections) return begun;
  }
}

void PostgresStore::WriteAsync(WriteFn fn, DoneFn done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(fn), std::move(done), Status::Ok()});
      work_cv_.notify_one();
      return;
    }
  }
  done(Unavailable("store is closing"));
}

void PostgresStore::WriterLoop() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.size() == 1) {
      batch.front().status = RunWrite(batch.front().fn);
    } else {
      CommitBatch(batch);
    }
    for (Job& job : batch) job.done(std::move(job.status));
  }
}

namespace {

// Runs `fn` in `txn`. A statement that failed aborted the transaction even if `fn` went on
// and returned OK (COMMIT would then roll back), so the first failure is the answer.
Status RunFn(const Store::WriteFn& fn, PgWriteTxn& txn, Connection& conn) {
  Status s;
  try {
    s = fn(txn);
  } catch (const std::exception& e) {
    s = Internal(std::string("write failed: ") + e.what());
  }
  if (s.ok() && !conn.failure().ok()) s = conn.failure();
  return s;
}

// Before running a write again: a short random pause, longer after each failed attempt, so
// that the transaction that won does not meet the loser again at once.
void BackOff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> jitter_us(0, 5000 * attempt);
  std::this_thread::sleep_for(std::chrono::microseconds(jitter_us(random)));
}

}  // namespace

Status PostgresStore::RunWrite(const WriteFn& fn) {
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) BackOff(attempt - 1);
    ASSIGN_OR_RETURN(Lease conn, Begin(kBeginWrite));
    PgWriteTxn txn(*conn, partitions_);
    Status s = RunFn(fn, txn, *conn);
    const bool retryable = IsRetryableSqlstate(conn->failure_sqlstate());
    if (s.ok()) {
      Status committed = conn->Exec("COMMIT");
      if (committed.ok()) return committed;
      if (conn->Broken()) {
        return Unavailable(
            "commit: the connection was lost; the write may or may not have "
            "been committed: " +
            committed.message());
      }
      if (!IsRetryableSqlstate(conn->failure_sqlstate()) ||
          attempt >= options_.max_write_attempts) {
        return committed;
      }
      continue;
    }
    if (!conn->Broken()) (void)conn->Exec("ROLLBACK");
    if (!retryable || attempt >= options_.max_write_attempts) return s;
  }
}

void PostgresStore::CommitBatch(std::vector<Job>& batch) {
  Result<Lease> begun = Begin(kBeginWrite);
  if (!begun.ok()) {
    for (Job& job : batch) job.status = begun.status();
    return;
  }
  Lease& conn = *begun;
  std::vector<Job*> again;  // met a deadlock: run again on their own after the commit
  for (Job& job : batch) {
    job.status = conn->Exec("SAVEPOINT job");
    if (!job.status.ok()) continue;  // the connection is lost
    // A WriteTxn per write: what one remembers (the ledger's lock taken, the staging table
    // made) may be undone by a rollback to its savepoint.
    PgWriteTxn txn(*conn, partitions_);
    job.status = RunFn(job.fn, txn, *conn);
    if (IsRetryableSqlstate(conn->failure_sqlstate())) again.push_back(&job);
    if (job.status.ok()) {
      job.status = conn->Exec("RELEASE job");
    } else if (!conn->Broken()) {
      conn->ClearFailure();
      (void)conn->Exec("ROLLBACK TO job");
    }
  }
  // A failure not rolled back to its savepoint aborted the transaction, and COMMIT would then
  // roll back without an error.
  Status committed = conn->failure().ok() ? conn->Exec("COMMIT") : conn->failure();
  if (!conn->Idle() && !conn->Broken()) (void)conn->Exec("ROLLBACK");
  if (!committed.ok() && conn->Broken()) {
    committed = Unavailable(
        "commit: the connection was lost; the write may or may not have "
        "been committed: " +
        committed.message());
  } else if (!committed.ok() && IsRetryableSqlstate(conn->failure_sqlstate())) {
    for (Job& job : batch) {
      if (job.status.ok()) again.push_back(&job);
    }
  }
  for (Job& job : batch) {
    if (job.status.ok()) job.status = committed;
  }
  for (Job* job : again) job->status = RunWrite(job->fn);
}

Status PostgresStore::Read(const ReadFn& fn) {
  ASSIGN_OR_RETURN(Lease conn, Begin(kBeginRead));
  PgReader reader(*conn);
  Status s;
  try {
    s = fn(reader);
  } catch (const std::exception& e) {
    s = Internal(std::string("read failed: ") + e.what());
  }
  if (s.ok() && !conn->failure().ok()) s = conn->failure();
  Status ended = conn->Exec(s.ok() ? "COMMIT" : "ROLLBACK");
  if (s.ok()) s = ended;
  return s;
}

}  // namespace truthbook::store::postgres
