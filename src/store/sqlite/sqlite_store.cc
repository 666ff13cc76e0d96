#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "store/sqlite/schema.h"

namespace truthbook::store::sqlite {
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

// ---- SQL, beside the code that runs it ----

constexpr char kCurrentEvent[] =
    "SELECT event_id, revision, sport, league, season, home_team, away_team, start_time, "
    "status, body_sha256, recorded_at FROM events WHERE event_id = ? "
    "ORDER BY revision DESC LIMIT 1";
constexpr char kEventOfPrediction[] =
    "SELECT e.event_id, e.revision, e.sport, e.league, e.season, e.home_team, e.away_team, "
    "e.start_time, e.status, e.body_sha256, e.recorded_at FROM predictions p "
    "JOIN events e ON e.event_id = p.event_id WHERE p.prediction_id = ? "
    "ORDER BY e.revision DESC LIMIT 1";
constexpr char kInsertEvent[] =
    "INSERT INTO events (event_id, revision, sport, league, season, home_team, away_team, "
    "start_time, status, body_sha256, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)";

#define TB_ODDS_COLS                                                                           \
  "snapshot_id, event_id, book, market, captured_at, recorded_at, raw, quotes, devig_method, " \
  "content_sha256, player, stat"
constexpr char kGetOdds[] = "SELECT " TB_ODDS_COLS " FROM odds_snapshots WHERE snapshot_id = ?";
constexpr char kFindOddsByContent[] =
    "SELECT " TB_ODDS_COLS
    " FROM odds_snapshots "
    "WHERE event_id = ? AND captured_at = ? AND content_sha256 = ?";
constexpr char kListOdds[] =
    "SELECT " TB_ODDS_COLS
    " FROM odds_snapshots WHERE event_id = ?1 "
    "AND (?2 IS NULL OR book = ?2) AND (?3 IS NULL OR market = ?3) "
    "AND (?4 IS NULL OR captured_at >= ?4) AND (?5 IS NULL OR captured_at <= ?5) "
    "AND (?6 IS NULL OR captured_at > ?6 OR (captured_at = ?6 AND snapshot_id > ?7)) "
    "ORDER BY captured_at, snapshot_id LIMIT ?8";
constexpr char kInsertOdds[] =
    "INSERT INTO odds_snapshots (" TB_ODDS_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr char kListClosing[] =
    "SELECT snapshot_id, event_id, book, market, captured_at, recorded_at, '', quotes, "
    "devig_method, content_sha256, player, stat FROM odds_snapshots WHERE event_id = ? AND book = "
    "? AND market = ? AND player IS ? "
    "AND stat IS ? AND captured_at <= ? ORDER BY captured_at DESC, snapshot_id DESC LIMIT ?";
#undef TB_ODDS_COLS

#define TB_INJURY_COLS \
  "snapshot_id, event_id, team, source, captured_at, recorded_at, players, raw, content_sha256"
constexpr char kGetInjury[] =
    "SELECT " TB_INJURY_COLS " FROM injury_snapshots WHERE snapshot_id = ?";
constexpr char kFindInjuryByHash[] =
    "SELECT " TB_INJURY_COLS " FROM injury_snapshots WHERE content_sha256 = ?";
constexpr char kInsertInjury[] =
    "INSERT INTO injury_snapshots (" TB_INJURY_COLS ") VALUES (?,?,?,?,?,?,?,?,?)";
#undef TB_INJURY_COLS

constexpr char kFindSnapshotRef[] =
    "SELECT 'odds_snapshot', content_sha256 FROM odds_snapshots WHERE snapshot_id = ?1 "
    "UNION ALL "
    "SELECT 'injury_snapshot', content_sha256 FROM injury_snapshots WHERE snapshot_id = ?1";

#define TB_RUN_COLS                                                                    \
  "sim_run_id, trigger, model_version, feature_set_version, decision_policy_version, " \
  "git_sha, code_dirty, n_sims, rng_seed, params, started_at, finished_at, recorded_at"
constexpr char kGetSimRun[] = "SELECT " TB_RUN_COLS " FROM sim_runs WHERE sim_run_id = ?";
constexpr char kInsertSimRun[] =
    "INSERT INTO sim_runs (" TB_RUN_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
#undef TB_RUN_COLS

constexpr char kListInputs[] =
    "SELECT sim_run_id, input_kind, snapshot_id, content_sha256 FROM sim_run_inputs "
    "WHERE sim_run_id = ? ORDER BY rowid";
constexpr char kInsertInput[] =
    "INSERT INTO sim_run_inputs (sim_run_id, input_kind, snapshot_id, content_sha256) "
    "VALUES (?,?,?,?)";

#define TB_PRED_COLS                                                                         \
  "prediction_id, sim_run_id, event_id, market, selection, line, player, stat, book, "       \
  "price_decimal, price_american, raw_prob, calibrated_prob, calibration_version_id, edge, " \
  "tier, stake_units, recorded_at"
constexpr char kGetPrediction[] =
    "SELECT " TB_PRED_COLS " FROM predictions WHERE prediction_id = ?";
constexpr char kListPredictions[] =
    "SELECT " TB_PRED_COLS " FROM predictions WHERE sim_run_id = ? ORDER BY rowid";
constexpr char kInsertPrediction[] =
    "INSERT INTO predictions (" TB_PRED_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
#undef TB_PRED_COLS

#define TB_PUB_COLS                                                              \
  "pp.publish_id, pp.prediction_id, pp.channel, pp.visibility, pp.is_official, " \
  "pp.published_at, pp.request_sha256, pp.log_index"
constexpr char kPublishForPrediction[] =
    "SELECT " TB_PUB_COLS " FROM published_predictions pp WHERE pp.prediction_id = ?";
constexpr char kListPublished[] =
    "SELECT " TB_PUB_COLS
    " FROM published_predictions pp "
    "WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM predictions p JOIN events e "
    "  ON e.event_id = p.event_id WHERE p.prediction_id = pp.prediction_id AND e.sport = ?1)) "
    "AND (?2 IS NULL OR pp.channel = ?2) "
    "AND (?3 IS NULL OR pp.published_at >= ?3) AND (?4 IS NULL OR pp.published_at <= ?4) "
    "AND (?5 IS NULL OR pp.published_at > ?5 OR (pp.published_at = ?5 AND pp.publish_id > ?6)) "
    "ORDER BY pp.published_at, pp.publish_id LIMIT ?7";
#undef TB_PUB_COLS
constexpr char kInsertPublish[] =
    "INSERT INTO published_predictions (publish_id, prediction_id, channel, visibility, "
    "is_official, published_at, request_sha256, log_index) VALUES (?,?,?,?,?,?,?,?)";

constexpr char kLatestResult[] =
    "SELECT result_id, event_id, revision, status, home_score, away_score, player_stats, "
    "supersedes, recorded_at, log_index FROM event_results WHERE event_id = ? "
    "ORDER BY revision DESC LIMIT 1";
constexpr char kInsertResult[] =
    "INSERT INTO event_results (result_id, event_id, revision, status, home_score, away_score, "
    "player_stats, supersedes, recorded_at, log_index) VALUES (?,?,?,?,?,?,?,?,?,?)";

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
constexpr char kGradingInput[] = TB_GRADING_INPUT "WHERE pp.publish_id = ?";
constexpr char kPendingGradings[] = TB_GRADING_INPUT
    "WHERE pp.log_index > ? AND r.result_id IS NOT NULL "
    "AND (g.result_id IS NULL OR g.result_id <> r.result_id) ORDER BY pp.log_index LIMIT ?";
#undef TB_GRADING_INPUT

#define TB_GRADING_COLS                                                                    \
  "grading_id, publish_id, result_id, outcome, stake_convention, stake, profit_units, "    \
  "price_decimal, closing_snapshot_id, closing_price, clv_price, clv_fair, clv_prob_pts, " \
  "clv_note, devig_method, prob_used, prob, brier, log_loss, supersedes, graded_at, log_index"
constexpr char kListGradings[] =
    "SELECT " TB_GRADING_COLS " FROM grading WHERE publish_id = ? ORDER BY log_index";
constexpr char kInsertGrading[] = "INSERT INTO grading (" TB_GRADING_COLS
                                  ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
#undef TB_GRADING_COLS

constexpr char kSumGradings[] =
    "SELECT g.outcome, COUNT(*), TOTAL(g.stake), TOTAL(g.profit_units), TOTAL(g.clv_price), "
    "COUNT(g.clv_price), TOTAL(g.clv_fair), TOTAL(g.clv_prob_pts), COUNT(g.clv_fair), "
    "TOTAL(g.clv_fair > 0), TOTAL(g.brier), TOTAL(g.log_loss), COUNT(g.brier) "
    "FROM grading g JOIN published_predictions pp ON pp.publish_id = g.publish_id "
    "JOIN predictions p ON p.prediction_id = pp.prediction_id "
    "JOIN events e ON e.event_id = p.event_id "
    "  AND e.revision = (SELECT MAX(revision) FROM events WHERE event_id = p.event_id) "
    "WHERE NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id) "
    "AND (?1 IS NULL OR e.sport = ?1) AND (?2 IS NULL OR e.league = ?2) "
    "AND (?3 IS NULL OR p.market = ?3) AND (?4 IS NULL OR p.tier = ?4) "
    "AND (?5 IS NULL OR pp.channel = ?5) AND (?6 IS NULL OR p.book = ?6) "
    "AND (?7 IS NULL OR pp.published_at >= ?7) AND (?8 IS NULL OR pp.published_at <= ?8) "
    "GROUP BY g.outcome ORDER BY g.outcome";

constexpr char kTrainingRows[] =
    "SELECT pp.published_at, pp.publish_id, e.sport, p.tier, p.market, p.raw_prob, g.outcome "
    "FROM published_predictions pp JOIN predictions p ON p.prediction_id = pp.prediction_id "
    "JOIN events e ON e.event_id = p.event_id "
    "  AND e.revision = (SELECT MAX(revision) FROM events WHERE event_id = p.event_id) "
    "JOIN grading g ON g.publish_id = pp.publish_id "
    "  AND NOT EXISTS (SELECT 1 FROM grading s WHERE s.supersedes = g.grading_id) "
    "WHERE pp.published_at >= ? AND pp.published_at <= ? AND g.outcome NOT IN ('PUSH', 'VOID') "
    "ORDER BY pp.published_at, pp.publish_id";

#define TB_CALIB_VERSION_COLS                                                                 \
  "calibration_version_id, method, training_from, training_to, n, settings, metrics_before, " \
  "metrics_after, gates, gates_passed, code_version, created_at"
constexpr char kListCalibrationVersions[] = "SELECT " TB_CALIB_VERSION_COLS
                                            " FROM calibration_versions "
                                            "ORDER BY created_at DESC, calibration_version_id "
                                            "DESC LIMIT ?";
constexpr char kGetCalibrationVersion[] =
    "SELECT " TB_CALIB_VERSION_COLS " FROM calibration_versions WHERE calibration_version_id = ?";
constexpr char kInsertCalibrationVersion[] =
    "INSERT INTO calibration_versions (" TB_CALIB_VERSION_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
#undef TB_CALIB_VERSION_COLS
constexpr char kListCalibrationSegments[] =
    "SELECT calibration_version_id, segment_key, fitted_on, fallback, n, params, metrics, bins "
    "FROM calibration_segments WHERE calibration_version_id = ? ORDER BY segment_key";
constexpr char kInsertCalibrationSegment[] =
    "INSERT INTO calibration_segments (calibration_version_id, segment_key, fitted_on, fallback, "
    "n, params, metrics, bins) VALUES (?,?,?,?,?,?,?,?)";
constexpr char kLatestActivation[] =
    "SELECT activation_id, calibration_version_id, actor, reason, forced, activated_at, "
    "log_index FROM calibration_activations ORDER BY log_index DESC LIMIT 1";
constexpr char kInsertActivation[] =
    "INSERT INTO calibration_activations (activation_id, calibration_version_id, actor, reason, "
    "forced, activated_at, log_index) VALUES (?,?,?,?,?,?,?)";

constexpr char kInsertRejected[] =
    "INSERT INTO rejected_attempts (attempt_id, kind, target_id, request_sha256, reason, body, "
    "recorded_at) VALUES (?,?,?,?,?,?,?)";
constexpr char kInsertCleanup[] =
    "INSERT INTO snapshot_cleanups (cleanup_id, cutoff, requested_at, deleted_count, "
    "deleted_ids) VALUES (?,?,?,?,?)";
constexpr char kDeleteOdds[] = "DELETE FROM odds_snapshots WHERE snapshot_id = ?";
constexpr char kListUnreferenced[] =
    "SELECT s.snapshot_id FROM odds_snapshots s WHERE s.captured_at < ? AND NOT EXISTS "
    "(SELECT 1 FROM sim_run_inputs i WHERE i.snapshot_id = s.snapshot_id) AND NOT EXISTS "
    "(SELECT 1 FROM grading g WHERE g.closing_snapshot_id = s.snapshot_id) "
    "ORDER BY s.captured_at, s.snapshot_id LIMIT ?";

constexpr char kRollupDaysGradedAfter[] =
    "SELECT DISTINCT pp.published_at / 86400000 FROM grading g "
    "JOIN published_predictions pp ON pp.publish_id = g.publish_id WHERE g.log_index > ? "
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
    "WHERE pp.published_at >= ? AND pp.published_at < ?";
#define TB_ROLLUP_COLS                                                                 \
  "rollup_key, dims, day, season, win, loss, push, void, half_win, half_loss, stake, " \
  "profit_units, clv_price_sum, clv_price_n, clv_fair_sum, clv_prob_pts_sum, clv_n, "  \
  "beat_close_n, brier_sum, log_loss_sum, scored_n, bins, computed_at"
// Two statements rather than "(?2 IS NULL OR rollup_key = ?2)", which the planner cannot
// use to narrow the key range.
constexpr char kRollupDaysOfDims[] = "SELECT " TB_ROLLUP_COLS
                                     " FROM performance_rollups WHERE dims = ?1 "
                                     "AND (?2 IS NULL OR season = ?2) AND day BETWEEN ?3 AND ?4 "
                                     "ORDER BY dims, rollup_key, day, season";
constexpr char kRollupDaysOfKey[] = "SELECT " TB_ROLLUP_COLS
                                    " FROM performance_rollups WHERE dims = ?1 AND rollup_key = ?2 "
                                    "AND (?3 IS NULL OR season = ?3) AND day BETWEEN ?4 AND ?5 "
                                    "ORDER BY dims, rollup_key, day, season";
constexpr char kInsertRollupDay[] = "INSERT INTO performance_rollups (" TB_ROLLUP_COLS
                                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr char kDeleteRollupDay[] = "DELETE FROM performance_rollups WHERE day = ?";
constexpr char kLatestRollupDay[] =
    "SELECT " TB_ROLLUP_COLS
    " FROM performance_rollups WHERE dims = ? AND rollup_key = ? "
    "AND day <= ? ORDER BY dims DESC, rollup_key DESC, day DESC, season DESC LIMIT 1";
#undef TB_ROLLUP_COLS
constexpr char kRollupWatermark[] = "SELECT watermark FROM rollup_state WHERE id = 1";
constexpr char kSetRollupWatermark[] =
    "INSERT INTO rollup_state (id, watermark) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET watermark = MAX(watermark, excluded.watermark)";

#define TB_JOB_RUN_COLS \
  "job, slot, trigger, status, claimed_by, started_at, finished_at, duration_ms, summary"
constexpr char kGetJobRun[] = "SELECT " TB_JOB_RUN_COLS " FROM job_runs WHERE job = ? AND slot = ?";
constexpr char kListJobRuns[] = "SELECT " TB_JOB_RUN_COLS
                                " FROM job_runs WHERE job = ? "
                                "ORDER BY started_at DESC, slot DESC LIMIT ?";
constexpr char kLatestJobSlot[] =
    "SELECT MAX(slot) FROM job_runs WHERE job = ? AND trigger <> 'manual'";
constexpr char kInsertJobRun[] =
    "INSERT INTO job_runs (" TB_JOB_RUN_COLS ") VALUES (?,?,?,?,?,?,?,?,?)";
#undef TB_JOB_RUN_COLS
constexpr char kFinishJobRun[] =
    "UPDATE job_runs SET status = ?, finished_at = ?, duration_ms = ?, summary = ? "
    "WHERE job = ? AND slot = ?";

constexpr char kListLedger[] =
    "SELECT log_index, kind, record_id, payload, entry_sha256, recorded_at FROM ledger_entries "
    "WHERE log_index >= ? ORDER BY log_index LIMIT ?";
constexpr char kLedgerSize[] = "SELECT COALESCE(MAX(log_index) + 1, 0) FROM ledger_entries";
constexpr char kInsertLedger[] =
    "INSERT INTO ledger_entries (log_index, kind, record_id, payload, entry_sha256, "
    "recorded_at) VALUES (?,?,?,?,?,?)";

constexpr char kGetIdempotent[] =
    "SELECT key, request_sha256, status, body, recorded_at FROM idempotency_keys WHERE key = ?";
constexpr char kPutIdempotent[] =
    "INSERT OR IGNORE INTO idempotency_keys (key, request_sha256, status, body, recorded_at) "
    "VALUES (?,?,?,?,?)";

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

// Runs a bound statement and maps its first row, if any.
// The reliability bins of RollupSums as one BLOB: kBins int64 counts, then kBins float64
// sums of p, then kBins float64 sums of hits, in the machine's (little-endian) byte order.
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
class SqliteReads : public Base {
 public:
  explicit SqliteReads(Connection& conn) : conn_(conn) {}

  Result<std::map<std::string, int64_t>> CountRows() override {
    std::map<std::string, int64_t> counts;
    for (const std::string& table : TableNames()) {
      ASSIGN_OR_RETURN(counts[table], conn_.QueryInt("SELECT COUNT(*) FROM " + table));
    }
    return counts;
  }

  Result<std::optional<Event>> CurrentEvent(const std::string& event_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kCurrentEvent));
    s.BindAll(event_id);
    return One(s, ReadEvent);
  }
  // In-process lookups are cheap: one per distinct id.
  Result<std::vector<std::string>> ListUnknownEvents(
      std::span<const std::string> event_ids) override {
    std::vector<std::string> unknown;
    std::set<std::string_view> seen;
    for (const std::string& id : event_ids) {
      if (!seen.insert(id).second) continue;
      ASSIGN_OR_RETURN(std::optional<Event> event, CurrentEvent(id));
      if (!event) unknown.push_back(id);
    }
    return unknown;
  }
  Result<std::optional<OddsSnapshot>> GetOddsSnapshot(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetOdds));
    s.BindAll(id);
    return One(s, ReadOdds);
  }
  Result<std::optional<OddsSnapshot>> FindOddsSnapshotByContent(const std::string& event_id,
                                                                TimePoint captured_at,
                                                                const std::string& hash) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kFindOddsByContent));
    s.BindAll(event_id, captured_at, hash);
    return One(s, ReadOdds);
  }
  Result<std::vector<OddsSnapshot>> ListOddsSnapshots(const SnapshotQuery& q) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListOdds));
    s.BindAll(q.event_id, q.book, q.market, q.captured_from, q.captured_until);
    if (q.after) s.Bind(6, q.after->time).Bind(7, q.after->id);
    s.Bind(8, int64_t{q.limit});
    return All(s, ReadOdds);
  }
  Result<std::optional<InjurySnapshot>> GetInjurySnapshot(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetInjury));
    s.BindAll(id);
    return One(s, ReadInjury);
  }
  Result<std::optional<InjurySnapshot>> FindInjurySnapshotByHash(const std::string& hash) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kFindInjuryByHash));
    s.BindAll(hash);
    return One(s, ReadInjury);
  }
  Result<std::optional<SnapshotRef>> FindSnapshotRef(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kFindSnapshotRef));
    s.BindAll(id);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<SnapshotRef>();
    return std::optional<SnapshotRef>(SnapshotRef{s.Text(0), s.Text(1)});
  }
  Result<std::optional<SimRun>> GetSimRun(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetSimRun));
    s.BindAll(id);
    return One(s, ReadSimRun);
  }
  Result<std::vector<SimRunInput>> ListSimRunInputs(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListInputs));
    s.BindAll(id);
    return All(s, ReadInput);
  }
  Result<std::vector<Prediction>> ListPredictions(const std::string& run_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListPredictions));
    s.BindAll(run_id);
    return All(s, ReadPrediction);
  }
  Result<std::optional<Prediction>> GetPrediction(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetPrediction));
    s.BindAll(id);
    return One(s, ReadPrediction);
  }
  Result<std::optional<Event>> EventOfPrediction(const std::string& prediction_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kEventOfPrediction));
    s.BindAll(prediction_id);
    return One(s, ReadEvent);
  }
  Result<std::optional<Publish>> PublishForPrediction(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kPublishForPrediction));
    s.BindAll(id);
    return One(s, ReadPublish);
  }
  Result<std::vector<Publish>> ListPublished(const PublishedQuery& q) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListPublished));
    s.BindAll(q.sport, q.channel, q.published_from, q.published_until);
    if (q.after) s.Bind(5, q.after->time).Bind(6, q.after->id);
    s.Bind(7, int64_t{q.limit});
    return All(s, ReadPublish);
  }
  Result<std::optional<EventResult>> LatestResult(const std::string& event_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kLatestResult));
    s.BindAll(event_id);
    return One(s, ReadResult);
  }
  Result<std::vector<OddsSnapshot>> ListClosingCandidates(const ClosingQuery& q) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListClosing));
    s.BindAll(q.event_id, q.book, q.market, q.player, q.stat, q.at_or_before, int64_t{q.limit});
    return All(s, ReadOdds);
  }
  Result<std::optional<GradingInput>> GetGradingInput(const std::string& publish_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGradingInput));
    s.BindAll(publish_id);
    return One(s, ReadGradingInput);
  }
  Result<std::vector<GradingInput>> ListPendingGradings(int64_t after_log_index,
                                                        int limit) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kPendingGradings));
    s.BindAll(after_log_index, int64_t{limit});
    return All(s, ReadGradingInput);
  }
  Result<std::vector<ledger::Grading>> ListGradings(const std::string& publish_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListGradings));
    s.BindAll(publish_id);
    return All(s, ReadGrading);
  }
  Result<std::vector<GradingTotals>> SumGradings(const GradingQuery& q) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kSumGradings));
    s.BindAll(q.sport, q.league, q.market, q.tier, q.channel, q.book, q.published_from,
              q.published_until);
    return All(s, ReadTotals);
  }
  Result<std::vector<TrainingRow>> ListTrainingRows(TimePoint from, TimePoint to) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kTrainingRows));
    s.BindAll(from, to);
    return All(s, ReadTrainingRow);
  }
  Result<std::vector<ledger::CalibrationVersion>> ListCalibrationVersions(int limit) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListCalibrationVersions));
    s.BindAll(int64_t{limit});
    return All(s, ReadCalibrationVersion);
  }
  Result<std::optional<ledger::CalibrationVersion>> GetCalibrationVersion(
      const std::string& id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetCalibrationVersion));
    s.BindAll(id);
    return One(s, ReadCalibrationVersion);
  }
  Result<std::vector<ledger::CalibrationSegment>> ListCalibrationSegments(
      const std::string& version_id) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListCalibrationSegments));
    s.BindAll(version_id);
    return All(s, ReadCalibrationSegment);
  }
  Result<std::optional<ledger::CalibrationActivation>> LatestActivation() override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kLatestActivation));
    return One(s, ReadActivation);
  }
  Result<std::vector<int64_t>> ListRollupDaysGradedAfter(int64_t after_log_index) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kRollupDaysGradedAfter));
    s.BindAll(after_log_index);
    return All<int64_t>(s, [](const Statement& st) { return st.Int(0); });
  }
  Status ForEachRollupFact(TimePoint from, TimePoint to,
                           const std::function<void(const RollupFact&)>& fn) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kRollupFacts));
    s.BindAll(from, to);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      fn(ReadRollupFact(s));
    }
  }
  Result<int64_t> RollupWatermark() override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kRollupWatermark));
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{-1};
  }
  Result<std::vector<RollupDay>> ListRollupDays(const RollupQuery& q) override {
    if (q.rollup_key) {
      ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kRollupDaysOfKey));
      s.BindAll(q.dims, *q.rollup_key, q.season, q.day_from, q.day_to);
      return All(s, ReadRollupDay);
    }
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kRollupDaysOfDims));
    s.BindAll(q.dims, q.season, q.day_from, q.day_to);
    return All(s, ReadRollupDay);
  }
  Result<std::optional<RollupDay>> LatestRollupDay(const std::string& dims,
                                                   const std::string& rollup_key,
                                                   int64_t day_to) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kLatestRollupDay));
    s.BindAll(dims, rollup_key, day_to);
    return One(s, ReadRollupDay);
  }
  Result<std::optional<JobRun>> GetJobRun(const std::string& job,
                                          const std::string& slot) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetJobRun));
    s.BindAll(job, slot);
    return One(s, ReadJobRun);
  }
  Result<std::optional<std::string>> LatestJobSlot(const std::string& job) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kLatestJobSlot));
    s.BindAll(job);
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.OptText(0) : std::nullopt;
  }
  Result<std::vector<JobRun>> ListJobRuns(const std::string& job, int limit) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListJobRuns));
    s.BindAll(job, int64_t{limit});
    return All(s, ReadJobRun);
  }
  Result<std::vector<LedgerEntry>> ListLedgerEntries(int64_t first, int limit) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListLedger));
    s.BindAll(first, int64_t{limit});
    return All(s, ReadLedger);
  }
  Result<int64_t> LedgerSize() override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kLedgerSize));
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{0};
  }
  Result<std::vector<std::string>> ListUnreferencedOddsSnapshots(TimePoint cutoff,
                                                                 int limit) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kListUnreferenced));
    s.BindAll(cutoff, int64_t{limit});
    return All<std::string>(s, [](const Statement& st) { return st.Text(0); });
  }
  Result<std::optional<IdempotentResponse>> GetIdempotentResponse(const std::string& key) override {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(kGetIdempotent));
    s.BindAll(key);
    return One(s, ReadIdempotent);
  }

 protected:
  // Runs `sql` with `args` bound, for statements without rows.
  template <typename... Args>
  Status Run(const char* sql, const Args&... args) {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare(sql));
    s.BindAll(args...);
    return s.Run();
  }

  Connection& conn_;
};

class SqliteReader final : public SqliteReads<Reader> {
 public:
  using SqliteReads::SqliteReads;
};

class SqliteWriteTxn final : public SqliteReads<WriteTxn> {
 public:
  using SqliteReads::SqliteReads;

  Status InsertEvent(const Event& e) override {
    return Run(kInsertEvent, e.event_id, e.revision, e.sport, e.league, e.season, e.home_team,
               e.away_team, e.start_time, e.status, e.body_sha256, e.recorded_at);
  }
  Status InsertOddsSnapshot(const OddsSnapshot& s) override {
    ASSIGN_OR_RETURN(Statement st, conn_.Prepare(kInsertOdds));
    st.BindAll(s.snapshot_id, s.event_id, s.book, s.market, s.captured_at, s.recorded_at);
    st.BindBlob(7, s.raw).Bind(8, s.quotes_json).Bind(9, s.devig_method);
    st.Bind(10, s.content_sha256).Bind(11, s.player).Bind(12, s.stat);
    return st.Run();
  }
  // One prepared insert per row: SQLite rolls back a failed statement alone, so a taken
  // content hash is looked up and the batch goes on.
  Result<std::vector<std::optional<OddsSnapshot>>> InsertOddsSnapshots(
      std::span<const OddsSnapshot> snapshots) override {
    std::vector<std::optional<OddsSnapshot>> out;
    out.reserve(snapshots.size());
    for (const OddsSnapshot& s : snapshots) {
      Status inserted = InsertOddsSnapshot(s);
      if (inserted.code() == StatusCode::kAlreadyExists) {
        ASSIGN_OR_RETURN(std::optional<OddsSnapshot> existing,
                         FindOddsSnapshotByContent(s.event_id, s.captured_at, s.content_sha256));
        if (existing) {
          out.push_back(std::move(existing));
          continue;
        }
      }
      RETURN_IF_ERROR(inserted);
      out.push_back(std::nullopt);
    }
    return out;
  }
  Status InsertInjurySnapshot(const InjurySnapshot& s) override {
    ASSIGN_OR_RETURN(Statement st, conn_.Prepare(kInsertInjury));
    st.BindAll(s.snapshot_id, s.event_id, s.team, s.source, s.captured_at, s.recorded_at,
               s.players_json);
    st.BindBlob(8, s.raw).Bind(9, s.content_sha256);
    return st.Run();
  }
  Status InsertSimRun(const SimRun& r) override {
    return Run(kInsertSimRun, r.sim_run_id, r.trigger, r.model_version, r.feature_set_version,
               r.decision_policy_version, r.git_sha, r.code_dirty, r.n_sims, r.rng_seed,
               r.params_json, r.started_at, r.finished_at, r.recorded_at);
  }
  Status InsertSimRunInput(const SimRunInput& i) override {
    return Run(kInsertInput, i.sim_run_id, i.input_kind, i.snapshot_id, i.content_sha256);
  }
  Status InsertPrediction(const Prediction& p) override {
    return Run(kInsertPrediction, p.prediction_id, p.sim_run_id, p.event_id, p.market, p.selection,
               p.line, p.player, p.stat, p.book, p.price_decimal, p.price_american, p.raw_prob,
               p.calibrated_prob, p.calibration_version_id, p.edge, p.tier, p.stake_units,
               p.recorded_at);
  }
  Status InsertPublish(const Publish& p) override {
    return Run(kInsertPublish, p.publish_id, p.prediction_id, p.channel, p.visibility,
               p.is_official, p.published_at, p.request_sha256, p.log_index);
  }
  Status InsertEventResult(const EventResult& r) override {
    return Run(kInsertResult, r.result_id, r.event_id, r.revision, r.status, r.home_score,
               r.away_score, r.player_stats_json, r.supersedes, r.recorded_at, r.log_index);
  }
  Status InsertGrading(const ledger::Grading& g) override {
    return Run(kInsertGrading, g.grading_id, g.publish_id, g.result_id, g.outcome,
               g.stake_convention, g.stake, g.profit_units, g.price_decimal, g.closing_snapshot_id,
               g.closing_price, g.clv_price, g.clv_fair, g.clv_prob_pts, g.clv_note, g.devig_method,
               g.prob_used, g.prob, g.brier, g.log_loss, g.supersedes, g.graded_at, g.log_index);
  }
  Status InsertCalibrationVersion(const ledger::CalibrationVersion& v) override {
    return Run(kInsertCalibrationVersion, v.calibration_version_id, v.method, v.training_from,
               v.training_to, v.n, v.settings_json, v.metrics_before_json, v.metrics_after_json,
               v.gates_json, v.gates_passed, v.code_version, v.created_at);
  }
  Status InsertCalibrationSegment(const ledger::CalibrationSegment& s) override {
    return Run(kInsertCalibrationSegment, s.calibration_version_id, s.segment_key, s.fitted_on,
               s.fallback, s.n, s.params_json, s.metrics_json, s.bins_json);
  }
  Status InsertCalibrationActivation(const ledger::CalibrationActivation& a) override {
    return Run(kInsertActivation, a.activation_id, a.calibration_version_id, a.actor, a.reason,
               a.forced, a.activated_at, a.log_index);
  }
  Status InsertRejectedAttempt(const ledger::RejectedAttempt& a) override {
    ASSIGN_OR_RETURN(Statement st, conn_.Prepare(kInsertRejected));
    st.BindAll(a.attempt_id, a.kind, a.target_id, a.request_sha256, a.reason);
    st.BindBlob(6, a.body).Bind(7, a.recorded_at);
    return st.Run();
  }
  Status InsertSnapshotCleanup(const ledger::SnapshotCleanup& c) override {
    return Run(kInsertCleanup, c.cleanup_id, c.cutoff, c.requested_at, c.deleted_count,
               c.deleted_ids_json);
  }
  Status DeleteOddsSnapshot(const std::string& snapshot_id) override {
    Status s = Run(kDeleteOdds, snapshot_id);
    if (s.code() == StatusCode::kAlreadyExists) return FailedPrecondition(s.message());
    return s;
  }
  Status ReplaceRollupDay(int64_t day, const std::vector<RollupDay>& rows) override {
    RETURN_IF_ERROR(Run(kDeleteRollupDay, day));
    for (const RollupDay& d : rows) {
      const RollupSums& r = d.sums;
      ASSIGN_OR_RETURN(Statement st, conn_.Prepare(kInsertRollupDay));
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
    return Run(kInsertJobRun, r.job, r.slot, r.trigger, r.status, r.claimed_by, r.started_at,
               r.finished_at, r.duration_ms, r.summary_json);
  }
  Status FinishJobRun(const JobRun& r) override {
    RETURN_IF_ERROR(
        Run(kFinishJobRun, r.status, r.finished_at, r.duration_ms, r.summary_json, r.job, r.slot));
    if (sqlite3_changes(conn_.raw()) == 0) {
      return NotFound("job_runs: no run of " + r.job + " at " + r.slot);
    }
    return Status::Ok();
  }
  Result<int64_t> AppendLedgerEntry(const LedgerEntry& entry) override {
    ASSIGN_OR_RETURN(int64_t index, LedgerSize());
    ASSIGN_OR_RETURN(Statement st, conn_.Prepare(kInsertLedger));
    st.BindAll(index, entry.kind, entry.record_id);
    st.BindBlob(4, entry.payload).Bind(5, entry.entry_sha256).Bind(6, entry.recorded_at);
    RETURN_IF_ERROR(st.Run());
    return index;
  }
  Status PutIdempotentResponse(const IdempotentResponse& r) override {
    ASSIGN_OR_RETURN(Statement st, conn_.Prepare(kPutIdempotent));
    st.BindAll(r.key, r.request_sha256, int64_t{r.status});
    st.BindBlob(4, r.body).Bind(5, r.recorded_at);
    return st.Run();
  }
};

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, const Clock& clock, SqliteOptions options,
    const std::function<void(const std::string&)>& on_table) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(path, false));
  Status migrated = Migrate(
      *writer, clock.Now(), on_table ? on_table : [](const std::string&) {});
  if (!migrated.ok()) return Unavailable("migrate " + path + ": " + migrated.message());
  return std::unique_ptr<SqliteStore>(new SqliteStore(path, std::move(writer), options));
}

SqliteStore::SqliteStore(std::string path, std::unique_ptr<Connection> writer,
                         SqliteOptions options)
    : path_(std::move(path)), options_(options), writer_(std::move(writer)) {
  sqlite3_wal_hook(writer_->raw(), &SqliteStore::OnCommit, this);
  writer_thread_ = std::thread([this] { WriterLoop(); });
  completer_thread_ = std::thread([this] { CompleterLoop(); });
}

// SQLite's own policy checkpoints once the WAL holds 1000 pages. Small commits (publishes)
// keep that; big ones (a 1000-snapshot ingest batch dirties ~2000 pages, most of them the
// same index pages again) wait until the WAL holds several commits, so each hot page is
// copied back once per several commits instead of once per commit.
int SqliteStore::OnCommit(void* self, sqlite3* db, const char* name, int wal_pages) {
  constexpr int kMinPages = 1000;
  constexpr int kCommitsPerCheckpoint = 8;
  auto* store = static_cast<SqliteStore*>(self);
  int written = wal_pages >= store->last_wal_pages_ ? wal_pages - store->last_wal_pages_
                                                    : wal_pages;  // the WAL started over
  store->last_wal_pages_ = wal_pages;
  if (wal_pages >= std::max(kMinPages, kCommitsPerCheckpoint * written)) {
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  writer_thread_.join();  // commits what is queued, then sets writer_done_
  completer_thread_.join();
}

void SqliteStore::WriteAsync(WriteFn fn, DoneFn done) {
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

void SqliteStore::WriterLoop() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {  // stopping, and everything queued has been committed
        writer_done_ = true;
        finished_cv_.notify_all();
        return;
      }
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    {
      std::lock_guard lock(mu_);
      finished_.push_back(std::move(batch));
    }
    finished_cv_.notify_one();
  }
}

void SqliteStore::CompleterLoop() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::unique_lock lock(mu_);
      finished_cv_.wait(lock, [&] { return writer_done_ || !finished_.empty(); });
      if (finished_.empty()) return;  // the writer has stopped and every callback has run
      batch = std::move(finished_.front());
      finished_.pop_front();
    }
    for (Job& job : batch) job.done(std::move(job.status));
  }
}

namespace {
constexpr char kBegin[] = "BEGIN IMMEDIATE";
constexpr char kBeginRead[] = "BEGIN";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSavepoint[] = "SAVEPOINT job";
constexpr char kRollbackToSavepoint[] = "ROLLBACK TO job";
constexpr char kRelease[] = "RELEASE job";

// Runs a cached, parameterless statement (transaction control on the hot path).
Status RunCached(Connection& conn, const char* sql) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
  return s.Run();
}
}  // namespace

void SqliteStore::CommitBatch(std::vector<Job>& batch) {
  Connection& conn = *writer_;
  Status begun = RunCached(conn, kBegin);
  if (!begun.ok()) {
    for (Job& job : batch) job.status = begun;
    return;
  }
  SqliteWriteTxn txn(conn);
  // A lone call needs no savepoint: if it fails, the whole transaction rolls back. (A big
  // write inside a savepoint also pays for SQLite's in-memory sub-journal.)
  const bool shared = batch.size() > 1;
  for (Job& job : batch) {
    Status s = shared ? RunCached(conn, kSavepoint) : Status::Ok();
    if (s.ok()) {
      try {
        s = job.fn(txn);
      } catch (const std::exception& e) {
        s = Internal(std::string("write failed: ") + e.what());
      }
      if (shared) {
        if (!s.ok()) (void)RunCached(conn, kRollbackToSavepoint);
        Status released = RunCached(conn, kRelease);
        if (s.ok()) s = released;
      }
    }
    job.status = s;
  }
  if (!shared && !batch.front().status.ok()) {
    (void)RunCached(conn, kRollback);
    return;
  }
  Status committed = RunCached(conn, kCommit);
  if (committed.ok()) return;
  (void)RunCached(conn, kRollback);
  for (Job& job : batch) {
    if (job.status.ok()) job.status = committed;
  }
}

Status SqliteStore::Read(const ReadFn& fn) {
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(mu_);
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!conn) {
    ASSIGN_OR_RETURN(conn, Connection::Open(path_, false));
  }
  Status s = RunCached(*conn, kBeginRead);
  if (s.ok()) {
    SqliteReader reader(*conn);
    try {
      s = fn(reader);
    } catch (const std::exception& e) {
      s = Internal(std::string("read failed: ") + e.what());
    }
    Status ended = RunCached(*conn, kCommit);
    if (s.ok()) s = ended;
  }
  std::lock_guard lock(mu_);
  idle_readers_.push_back(std::move(conn));
  return s;
}

}  // namespace truthbook::store::sqlite
