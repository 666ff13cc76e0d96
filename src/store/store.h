// The storage interface: one reader half, one writer half, implemented by each backend
// (SQLite now, PostgreSQL later) and proven by one contract suite (store_contract_test.h).
// Only ledger record types and Status cross it; no backend type leaks out.
// Thread-safety: a Store is safe to call from many threads. A Reader or WriteTxn handed to a
// callback is valid only inside that callback, on that thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ledger/records.h"

namespace truthbook::store {

// A keyset position in a time-ordered listing: (time, id) of the last item already seen.
struct Cursor {
  TimePoint time;
  std::string id;
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

struct SnapshotQuery {
  std::string event_id;
  std::optional<std::string> book;
  std::optional<std::string> market;
  std::optional<TimePoint> captured_from;   // inclusive
  std::optional<TimePoint> captured_until;  // inclusive
  std::optional<Cursor> after;              // ordered by (captured_at, snapshot_id)
  int limit = 100;
};

struct PublishedQuery {
  std::optional<std::string> sport;
  std::optional<std::string> channel;
  std::optional<TimePoint> published_from;   // inclusive
  std::optional<TimePoint> published_until;  // inclusive
  std::optional<Cursor> after;               // ordered by (published_at, publish_id)
  int limit = 100;
};

// The closing-line lookup: odds snapshots of one event, book and market (and player and
// stat, for props) captured at or before `at_or_before`, newest first.
struct ClosingQuery {
  std::string event_id;
  std::string book;
  std::string market;
  std::optional<std::string> player;
  std::optional<std::string> stat;
  TimePoint at_or_before;
  int limit = 20;
};

// Everything grading one publish reads.
struct GradingInput {
  ledger::Publish publish;
  ledger::Prediction prediction;
  ledger::Event event;                            // its current revision
  std::optional<ledger::EventResult> result;      // the latest revision, if any
  std::optional<std::string> current_grading_id;  // the grading nothing supersedes yet
  std::optional<std::string> current_result_id;   // the result revision it settled on
};

// Filters of the grading summary; unset means any. Times bound published_at, inclusive.
struct GradingQuery {
  std::optional<std::string> sport;
  std::optional<std::string> league;
  std::optional<std::string> market;
  std::optional<std::string> tier;
  std::optional<std::string> channel;
  std::optional<std::string> book;
  std::optional<TimePoint> published_from;
  std::optional<TimePoint> published_until;
};

// Sums over the current gradings of one outcome (nulls skipped, with their own counts).
struct GradingTotals {
  std::string outcome;
  int64_t n = 0;
  double stake = 0;
  double profit_units = 0;
  double clv_price_sum = 0;
  int64_t clv_price_n = 0;
  double clv_fair_sum = 0;  // clv_prob_pts has the same non-null rows as clv_fair
  double clv_prob_pts_sum = 0;
  int64_t clv_n = 0;
  int64_t beat_close_n = 0;  // clv_fair > 0
  double brier_sum = 0;
  double log_loss_sum = 0;
  int64_t scored_n = 0;  // rows with a Brier score
  friend bool operator==(const GradingTotals&, const GradingTotals&) = default;
};

// One graded publish as calibration trains on it: its segment, the engine's raw probability
// and the outcome of its current grading.
struct TrainingRow {
  TimePoint published_at;
  std::string publish_id;
  std::string sport;
  std::string tier;
  std::string market;
  double raw_prob = 0;
  std::string outcome;
  friend bool operator==(const TrainingRow&, const TrainingRow&) = default;
};

// One current grading as the performance rollups read it: the dimensions of its publish and
// what the grading settled.
struct RollupFact {
  std::string sport;
  std::string league;
  std::string season;
  std::string tier;
  std::string market;
  std::string channel;
  std::string book;
  std::string outcome;
  double stake = 0;
  double profit_units = 0;
  std::optional<double> clv_price;
  std::optional<double> clv_fair;
  std::optional<double> clv_prob_pts;
  double prob = 0;
  std::optional<double> brier;
  std::optional<double> log_loss;
};

// Additive sums of a set of gradings: every rollup metric is a function of these, so a
// window's value is the sum of its days' rows (docs/PERFORMANCE.md).
struct RollupSums {
  static constexpr int kBins = 10;            // equal-width reliability bins for the ECE
  std::array<int64_t, 6> count_by_outcome{};  // grading::kOutcomes order
  double stake = 0;                           // over non-VOID gradings
  double profit_units = 0;
  double clv_price_sum = 0;
  int64_t clv_price_n = 0;
  double clv_fair_sum = 0;
  double clv_prob_pts_sum = 0;
  int64_t clv_n = 0;
  int64_t beat_close_n = 0;  // clv_fair > 0
  double brier_sum = 0;
  double log_loss_sum = 0;
  int64_t scored_n = 0;  // gradings with a Brier score (not PUSH or VOID)
  // Per reliability bin of the graded probability: scored gradings, sum of p, sum of hits.
  std::array<int64_t, kBins> bin_n{};
  std::array<double, kBins> bin_p_sum{};
  std::array<double, kBins> bin_hit_sum{};
  friend bool operator==(const RollupSums&, const RollupSums&) = default;
};

// One materialized row of performance_rollups: the sums of one rollup key's gradings
// published on one UTC day (and, for keys with a sport, of one season).
struct RollupDay {
  std::string rollup_key;  // canonical, without the window: "sport=NBA|market=spread"
  std::string dims;        // the key's dimensions: "sport,market"; "" for all gradings
  int64_t day = 0;         // days since 1970-01-01 of published_at
  std::string season;      // the event's season when dims has sport, else ""
  RollupSums sums;
  TimePoint computed_at;
  friend bool operator==(const RollupDay&, const RollupDay&) = default;
};

// Which materialized rows to read: one dims combination, optionally one key, days in
// [day_from, day_to] (both inclusive), optionally one season.
struct RollupQuery {
  std::string dims;
  std::optional<std::string> rollup_key;
  std::optional<std::string> season;
  int64_t day_from = 0;
  int64_t day_to = 0;
};

// One claim of a scheduler slot (DESIGN §3 "Scheduler"): the unique (job, slot) row is what
// makes a slot run once per store.
struct JobRun {
  std::string job;
  std::string slot;     // the scheduled fire time (RFC 3339), or "manual:<run id>"
  std::string trigger;  // scheduled | catch_up | manual
  std::string status;   // running | succeeded | failed | missed
  std::string claimed_by;
  TimePoint started_at;
  std::optional<TimePoint> finished_at;
  std::optional<int64_t> duration_ms;
  std::string summary_json;  // the job's result, or {"error": "..."}
  friend bool operator==(const JobRun&, const JobRun&) = default;
};

// Where a snapshot id points, for lineage checks.
struct SnapshotRef {
  std::string kind;  // odds_snapshot | injury_snapshot
  std::string content_sha256;
};

// Reads. Every method returns NotFound-free optionals/lists for absent rows; errors are
// Unavailable (store unreachable/busy) or Internal.
class Reader {
 public:
  virtual ~Reader() = default;

  // Row count of every table, keyed by table name.
  virtual Result<std::map<std::string, int64_t>> CountRows() = 0;

  virtual Result<std::optional<ledger::Event>> CurrentEvent(const std::string& event_id) = 0;
  // The ids among `event_ids` that no event has, in their first order, each once (one query
  // for a whole ingest batch).
  virtual Result<std::vector<std::string>> ListUnknownEvents(
      std::span<const std::string> event_ids) = 0;
  virtual Result<std::optional<ledger::OddsSnapshot>> GetOddsSnapshot(const std::string& id) = 0;
  // The odds snapshot with this content. Identical content means an identical event and
  // capture time, which is what lets the store index it with locality.
  virtual Result<std::optional<ledger::OddsSnapshot>> FindOddsSnapshotByContent(
      const std::string& event_id, TimePoint captured_at, const std::string& content_sha256) = 0;
  virtual Result<std::vector<ledger::OddsSnapshot>> ListOddsSnapshots(const SnapshotQuery& q) = 0;
  virtual Result<std::optional<ledger::InjurySnapshot>> GetInjurySnapshot(
      const std::string& id) = 0;
  virtual Result<std::optional<ledger::InjurySnapshot>> FindInjurySnapshotByHash(
      const std::string& content_sha256) = 0;
  // The kind and content hash of an odds or injury snapshot id, if it exists.
  virtual Result<std::optional<SnapshotRef>> FindSnapshotRef(const std::string& snapshot_id) = 0;

  virtual Result<std::optional<ledger::SimRun>> GetSimRun(const std::string& id) = 0;
  virtual Result<std::vector<ledger::SimRunInput>> ListSimRunInputs(const std::string& id) = 0;
  virtual Result<std::vector<ledger::Prediction>> ListPredictions(const std::string& run_id) = 0;
  virtual Result<std::optional<ledger::Prediction>> GetPrediction(const std::string& id) = 0;
  // The current revision of the event a prediction is for; nullopt for an unknown prediction.
  virtual Result<std::optional<ledger::Event>> EventOfPrediction(
      const std::string& prediction_id) = 0;

  virtual Result<std::optional<ledger::Publish>> PublishForPrediction(
      const std::string& prediction_id) = 0;
  virtual Result<std::vector<ledger::Publish>> ListPublished(const PublishedQuery& q) = 0;

  virtual Result<std::optional<ledger::EventResult>> LatestResult(const std::string& event_id) = 0;
  // The closing-line candidates (see ClosingQuery), newest first, with `raw` left empty (the
  // lookup reads the quotes only, and raw payloads can be large).
  virtual Result<std::vector<ledger::OddsSnapshot>> ListClosingCandidates(
      const ClosingQuery& q) = 0;
  // What grading `publish_id` reads; nullopt for an unknown publish.
  virtual Result<std::optional<GradingInput>> GetGradingInput(const std::string& publish_id) = 0;
  // Publishes whose event has a result and whose current grading (if any) settled on an older
  // result revision, with log_index > after_log_index, in log order.
  virtual Result<std::vector<GradingInput>> ListPendingGradings(int64_t after_log_index,
                                                                int limit) = 0;
  // Every grading of a publish, oldest first (the last is the current one).
  virtual Result<std::vector<ledger::Grading>> ListGradings(const std::string& publish_id) = 0;
  // Sums over current gradings matching `q`, one row per outcome present.
  virtual Result<std::vector<GradingTotals>> SumGradings(const GradingQuery& q) = 0;
  // Publishes from `from` to `to` (inclusive, on published_at) whose current grading decided
  // something (not PUSH or VOID), ordered by (published_at, publish_id): time order.
  virtual Result<std::vector<TrainingRow>> ListTrainingRows(TimePoint from, TimePoint to) = 0;
  // Newest first.
  virtual Result<std::vector<ledger::CalibrationVersion>> ListCalibrationVersions(int limit) = 0;
  virtual Result<std::optional<ledger::CalibrationVersion>> GetCalibrationVersion(
      const std::string& id) = 0;
  // By segment_key.
  virtual Result<std::vector<ledger::CalibrationSegment>> ListCalibrationSegments(
      const std::string& version_id) = 0;
  // The last activation (the live version), if any.
  virtual Result<std::optional<ledger::CalibrationActivation>> LatestActivation() = 0;

  // Performance rollups (docs/PERFORMANCE.md). The days (since the epoch, of published_at)
  // of publishes that have a grading with log_index > after_log_index, ascending.
  virtual Result<std::vector<int64_t>> ListRollupDaysGradedAfter(int64_t after_log_index) = 0;
  // Calls `fn` with each current grading of a publish published in [from, to), one at a time
  // (a day may hold millions).
  virtual Status ForEachRollupFact(TimePoint from, TimePoint to,
                                   const std::function<void(const RollupFact&)>& fn) = 0;
  // The log_index up to which gradings are in the rollups; -1 before the first refresh.
  virtual Result<int64_t> RollupWatermark() = 0;
  // Materialized rows matching q, ordered by (rollup_key, day, season).
  virtual Result<std::vector<RollupDay>> ListRollupDays(const RollupQuery& q) = 0;
  // The row of `rollup_key` (whose dimensions are `dims`) with the latest day <= day_to, and
  // the greatest season that day.
  virtual Result<std::optional<RollupDay>> LatestRollupDay(const std::string& dims,
                                                           const std::string& rollup_key,
                                                           int64_t day_to) = 0;

  // Scheduler runs. The run of (job, slot), if claimed.
  virtual Result<std::optional<JobRun>> GetJobRun(const std::string& job,
                                                  const std::string& slot) = 0;
  // The greatest slot among the scheduled (not manual) runs of `job`, missed ones included.
  virtual Result<std::optional<std::string>> LatestJobSlot(const std::string& job) = 0;
  // The latest runs of `job` by started_at, newest first.
  virtual Result<std::vector<JobRun>> ListJobRuns(const std::string& job, int limit) = 0;

  // Entries with first <= log_index < first + limit, in order.
  virtual Result<std::vector<ledger::LedgerEntry>> ListLedgerEntries(int64_t first, int limit) = 0;
  // The number of ledger entries (= the next log_index).
  virtual Result<int64_t> LedgerSize() = 0;

  // Odds snapshots captured before `cutoff` that no sim run references, oldest first.
  virtual Result<std::vector<std::string>> ListUnreferencedOddsSnapshots(TimePoint cutoff,
                                                                         int limit) = 0;

  virtual Result<std::optional<ledger::IdempotentResponse>> GetIdempotentResponse(
      const std::string& key) = 0;
};

// Writes, inside one transaction. Reads through the same object see the writes made so far.
class WriteTxn : public Reader {
 public:
  virtual Status InsertEvent(const ledger::Event& e) = 0;
  virtual Status InsertOddsSnapshot(const ledger::OddsSnapshot& s) = 0;
  // Inserts many odds snapshots (bulk ingest), deduplicated by content: a snapshot whose
  // (event_id, captured_at, content_sha256) is already stored, or appears earlier in
  // `snapshots`, is not inserted. Returns one entry per snapshot, in order: nullopt when it
  // was inserted as given, else the stored snapshot with that content.
  // AlreadyExists when a snapshot_id is taken by other content, InvalidArgument for a value
  // the backend cannot store (PostgreSQL: text that is not UTF-8 or holds a NUL, a capture
  // time outside years 0000-9999); after a failure the write must fail too.
  virtual Result<std::vector<std::optional<ledger::OddsSnapshot>>> InsertOddsSnapshots(
      std::span<const ledger::OddsSnapshot> snapshots) = 0;
  virtual Status InsertInjurySnapshot(const ledger::InjurySnapshot& s) = 0;
  virtual Status InsertSimRun(const ledger::SimRun& r) = 0;
  virtual Status InsertSimRunInput(const ledger::SimRunInput& i) = 0;
  virtual Status InsertPrediction(const ledger::Prediction& p) = 0;
  // REQUIRES: p.log_index was just returned by AppendLedgerEntry in this transaction.
  virtual Status InsertPublish(const ledger::Publish& p) = 0;
  virtual Status InsertEventResult(const ledger::EventResult& r) = 0;
  // REQUIRES: g.log_index was just returned by AppendLedgerEntry in this transaction.
  // AlreadyExists when the publish already has a grading for g.result_id, or when
  // g.supersedes is already superseded.
  virtual Status InsertGrading(const ledger::Grading& g) = 0;
  // AlreadyExists for an existing id (a version, or a version's segment key);
  // FailedPrecondition for a segment of an unknown version.
  virtual Status InsertCalibrationVersion(const ledger::CalibrationVersion& v) = 0;
  virtual Status InsertCalibrationSegment(const ledger::CalibrationSegment& s) = 0;
  // REQUIRES: a.log_index was just returned by AppendLedgerEntry in this transaction.
  // FailedPrecondition for an unknown version.
  virtual Status InsertCalibrationActivation(const ledger::CalibrationActivation& a) = 0;
  virtual Status InsertRejectedAttempt(const ledger::RejectedAttempt& a) = 0;
  virtual Status InsertSnapshotCleanup(const ledger::SnapshotCleanup& c) = 0;
  // Fails with FailedPrecondition when a sim run references the snapshot (the database
  // itself refuses it).
  virtual Status DeleteOddsSnapshot(const std::string& snapshot_id) = 0;
  // Replaces every materialized row of `day` by `rows` (each of that day).
  virtual Status ReplaceRollupDay(int64_t day, const std::vector<RollupDay>& rows) = 0;
  virtual Status SetRollupWatermark(int64_t log_index) = 0;
  // Claims (run.job, run.slot): AlreadyExists when another run holds it.
  virtual Status InsertJobRun(const JobRun& run) = 0;
  // Records how a claimed run ended: status, finished_at, duration_ms and summary_json.
  // NotFound when (run.job, run.slot) was never claimed.
  virtual Status FinishJobRun(const JobRun& run) = 0;
  // Appends at the next gap-free log_index and returns it. entry.log_index is ignored.
  virtual Result<int64_t> AppendLedgerEntry(const ledger::LedgerEntry& entry) = 0;
  // First writer wins; an existing key is left as it is.
  virtual Status PutIdempotentResponse(const ledger::IdempotentResponse& r) = 0;
};

class Store {
 public:
  using ReadFn = std::function<Status(Reader&)>;
  using WriteFn = std::function<Status(WriteTxn&)>;
  using DoneFn = std::function<void(Status)>;

  virtual ~Store() = default;

  // Queues `fn` to run in a transaction and returns at once. `done` gets what Write would
  // return, on a store thread, after the commit; it must be quick and must not call Write.
  virtual void WriteAsync(WriteFn fn, DoneFn done) = 0;

  // Runs `fn` in one transaction. OK means everything `fn` wrote is durable (on disk, fsynced).
  // If `fn` fails, nothing it wrote persists and its Status is returned. A storage failure
  // returns Unavailable or Internal and nothing persists.
  Status Write(const WriteFn& fn);

  // Runs `fn` against a consistent snapshot of committed data.
  virtual Status Read(const ReadFn& fn) = 0;

  // Where the data lives, for `health` (a file path or a connection string without password).
  virtual std::string Location() const = 0;

  // Which backend this is, for `health`: "sqlite" or "postgresql".
  virtual std::string Backend() const = 0;
};

}  // namespace truthbook::store
