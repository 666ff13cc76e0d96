// The record types of the ledger: plain value types, one per table row (DESIGN §2).
// Nested lists that are stored and returned whole (quotes, players, stats, params) are kept as
// canonical JSON text so that every backend stores exactly the bytes that were hashed.
// Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"

namespace truthbook::ledger {

struct Event {
  std::string event_id;  // the client's stable id
  int64_t revision = 0;  // 1, 2, ... per event_id
  std::string sport;
  std::string league;
  std::string season;
  std::string home_team;
  std::string away_team;
  TimePoint start_time;
  std::string status;       // scheduled | live | final | postponed | cancelled | abandoned
  std::string body_sha256;  // hash of the canonical revision body; equal hash = same revision
  TimePoint recorded_at;
  friend bool operator==(const Event&, const Event&) = default;
};

struct OddsSnapshot {
  std::string snapshot_id;
  std::string event_id;
  std::string book;
  std::string market;
  TimePoint captured_at;    // when the provider's odds were observed (client time)
  TimePoint recorded_at;    // server time
  std::string raw;          // the request body exactly as received
  std::string quotes_json;  // canonical JSON: normalized quotes with fair probabilities
  std::string devig_method;
  std::string content_sha256;         // SHA-256 of the canonical capture; equal hash = same capture
  std::optional<std::string> player;  // player props only
  std::optional<std::string> stat;    // player props only
  friend bool operator==(const OddsSnapshot&, const OddsSnapshot&) = default;
};

struct InjurySnapshot {
  std::string snapshot_id;
  std::string event_id;
  std::string team;
  std::string source;
  TimePoint captured_at;
  TimePoint recorded_at;
  std::string players_json;  // canonical JSON: [{"player", "status"}...]
  std::string raw;
  std::string content_sha256;
  friend bool operator==(const InjurySnapshot&, const InjurySnapshot&) = default;
};

struct SimRun {
  std::string sim_run_id;
  std::string trigger;
  std::string model_version;
  std::string feature_set_version;
  std::string decision_policy_version;
  std::string git_sha;
  bool code_dirty = false;
  int64_t n_sims = 0;
  int64_t rng_seed = 0;
  std::string params_json;  // canonical JSON object, "{}" when none
  TimePoint started_at;
  TimePoint finished_at;
  TimePoint recorded_at;
  friend bool operator==(const SimRun&, const SimRun&) = default;
};

// Lineage: one snapshot a sim run read, pinned by id and content hash.
struct SimRunInput {
  std::string sim_run_id;
  std::string input_kind;  // odds_snapshot | injury_snapshot
  std::string snapshot_id;
  std::string content_sha256;
  friend bool operator==(const SimRunInput&, const SimRunInput&) = default;
};

struct Prediction {
  std::string prediction_id;
  std::string sim_run_id;
  std::string event_id;
  std::string market;
  std::string selection;
  std::optional<double> line;
  std::optional<std::string> player;  // player props only
  std::optional<std::string> stat;    // player props only
  std::string book;
  double price_decimal = 0;
  double price_american = 0;
  double raw_prob = 0;
  std::optional<double> calibrated_prob;
  std::optional<std::string> calibration_version_id;
  std::optional<double> edge;
  std::string tier;
  double stake_units = 1.0;
  TimePoint recorded_at;
  friend bool operator==(const Prediction&, const Prediction&) = default;
};

// THE official record: at most one per prediction.
struct Publish {
  std::string publish_id;
  std::string prediction_id;
  std::string channel;
  std::string visibility;
  bool is_official = true;
  TimePoint published_at;      // server time
  std::string request_sha256;  // hash of the canonical request; a replay must match it
  int64_t log_index = -1;      // position in ledger_entries
  friend bool operator==(const Publish&, const Publish&) = default;
};

struct EventResult {
  std::string result_id;
  std::string event_id;
  int64_t revision = 0;
  std::string status;  // final | postponed | cancelled | abandoned
  std::optional<int64_t> home_score;
  std::optional<int64_t> away_score;
  std::string player_stats_json;          // canonical JSON array, "[]" when none
  std::optional<std::string> supersedes;  // result_id of the previous revision
  TimePoint recorded_at;
  int64_t log_index = -1;
  friend bool operator==(const EventResult&, const EventResult&) = default;
};

// The settlement and scores of one publish against one result revision (DESIGN §3
// "Grading"). A corrected result adds a grading that supersedes the previous one.
struct Grading {
  std::string grading_id;
  std::string publish_id;
  std::string result_id;         // the result revision it settled on
  std::string outcome;           // WIN | LOSS | PUSH | VOID | HALF_WIN | HALF_LOSS
  std::string stake_convention;  // risk | to_win
  double stake = 0;              // units at risk
  double profit_units = 0;
  double price_decimal = 0;  // the price taken
  std::optional<std::string> closing_snapshot_id;
  std::optional<double> closing_price;  // decimal
  std::optional<double> clv_price;
  std::optional<double> clv_fair;
  std::optional<double> clv_prob_pts;
  std::optional<std::string> clv_note;  // why CLV (or clv_price alone) is null
  std::string devig_method;             // of the closing market
  std::string prob_used;                // calibrated | raw
  double prob = 0;                      // the graded probability of the picked side
  std::optional<double> brier;          // null for PUSH and VOID
  std::optional<double> log_loss;
  std::optional<std::string> supersedes;  // grading_id of the previous grading
  TimePoint graded_at;
  int64_t log_index = -1;
  friend bool operator==(const Grading&, const Grading&) = default;
};

// One fitted calibration (DESIGN §3 "Calibration"): the job's settings, its held-out metrics
// before and after and its gate verdicts. Never overwritten; activation is a separate record.
struct CalibrationVersion {
  std::string calibration_version_id;
  std::string method;  // isotonic | platt | temperature | beta
  TimePoint training_from;
  TimePoint training_to;
  int64_t n = 0;                    // graded samples trained on
  std::string settings_json;        // canonical JSON: training_days, segment_by, gates, folds
  std::string metrics_before_json;  // held-out metrics of the raw probabilities
  std::string metrics_after_json;   // held-out metrics of the cross-fitted calibration
  std::string gates_json;           // [{"name", "value", "threshold", "passed"}]
  bool gates_passed = false;
  std::string code_version;  // the server build that fitted it
  TimePoint created_at;
  friend bool operator==(const CalibrationVersion&, const CalibrationVersion&) = default;
};

// The fit of one cohort within a version.
struct CalibrationSegment {
  std::string calibration_version_id;
  std::string segment_key;   // "sport=NBA|tier=A|market=spread"
  std::string fitted_on;     // the key of the pool actually fitted, after any fallback
  std::string fallback;      // none | sport_market | sport | global
  int64_t n = 0;             // samples in the segment itself
  std::string params_json;   // the calibrator, as calibration::ToJson writes it
  std::string metrics_json;  // held-out metrics before and after on the fitted pool
  std::string bins_json;     // reliability bins after calibration (held out)
  friend bool operator==(const CalibrationSegment&, const CalibrationSegment&) = default;
};

// Who made a version live, when and why. The active version at time t is the one of the
// last activation at or before t.
struct CalibrationActivation {
  std::string activation_id;
  std::string calibration_version_id;
  std::string actor;    // "scheduler", "api", or the caller's name
  std::string reason;   // why; required when forced
  bool forced = false;  // activated although its gates failed
  TimePoint activated_at;
  int64_t log_index = -1;
  friend bool operator==(const CalibrationActivation&, const CalibrationActivation&) = default;
};

// A conflicting replay, kept as evidence (DESIGN §3 "Publishing").
struct RejectedAttempt {
  std::string attempt_id;
  std::string kind;       // publish
  std::string target_id;  // e.g. the prediction_id
  std::string request_sha256;
  std::string reason;
  std::string body;
  TimePoint recorded_at;
  friend bool operator==(const RejectedAttempt&, const RejectedAttempt&) = default;
};

// One entry of the append-only log. `payload` is the canonical encoding (docs/LEDGER.md).
struct LedgerEntry {
  int64_t log_index = -1;
  std::string kind;  // publish | event_result | grading | calibration_activation
  std::string record_id;
  std::string payload;
  std::string entry_sha256;  // SHA-256(payload), lowercase hex
  TimePoint recorded_at;
  friend bool operator==(const LedgerEntry&, const LedgerEntry&) = default;
};

// Audit row of one retention cleanup.
struct SnapshotCleanup {
  std::string cleanup_id;
  TimePoint cutoff;        // snapshots captured before this were eligible
  TimePoint requested_at;  // server time
  int64_t deleted_count = 0;
  std::string deleted_ids_json;  // JSON array of snapshot ids
  friend bool operator==(const SnapshotCleanup&, const SnapshotCleanup&) = default;
};

// A stored answer to a POST carrying an Idempotency-Key.
struct IdempotentResponse {
  std::string key;  // scoped: "<path> <Idempotency-Key>"
  std::string request_sha256;
  int status = 0;
  std::string body;
  TimePoint recorded_at;
  friend bool operator==(const IdempotentResponse&, const IdempotentResponse&) = default;
};

}  // namespace truthbook::ledger
