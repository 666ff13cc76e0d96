// The store contract every store::Store backend must meet, checked only through the
// Reader/WriteTxn/Store interface. This header holds the parameter and fixture; the tests live
// once in store_contract_test.cc (GoogleTest's abstract-test layout, so several backends can
// share a binary). A backend joins with one line in its own test file:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Values(StoreBackend{...}));
// Test-only; a fixture is used from the test's thread except where a test starts threads.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/status_test_util.h"
#include "ledger/records.h"
#include "store/store.h"

namespace truthbook::store {

// One backend under test.
struct StoreBackend {
  std::string name;
  // Opens an empty store for one test. The store owns whatever was created for it (a scratch
  // file, a database schema) and releases it when destroyed. May call GTEST_SKIP() when the
  // backend's server is absent; the test is then skipped.
  std::function<Result<std::unique_ptr<Store>>(const Clock& clock)> open;
};

// Builders for the listing queries, so a test reads as its filter:
//   ListSnapshots(SnapshotsOf("evt-1").Book("pinnacle").From(At(2)))
// (designated initializers of SnapshotQuery would leave members without initializers, which
// -Wextra reports).
struct SnapshotsOf {
  explicit SnapshotsOf(std::string event_id) { query.event_id = std::move(event_id); }
  SnapshotsOf& Book(std::string book) {
    query.book = std::move(book);
    return *this;
  }
  SnapshotsOf& Market(std::string market) {
    query.market = std::move(market);
    return *this;
  }
  SnapshotsOf& From(TimePoint t) {
    query.captured_from = t;
    return *this;
  }
  SnapshotsOf& Until(TimePoint t) {
    query.captured_until = t;
    return *this;
  }
  SnapshotsOf& Limit(int limit) {
    query.limit = limit;
    return *this;
  }
  operator const SnapshotQuery&() const { return query; }  // NOLINT(google-explicit-constructor)
  SnapshotQuery query;
};

struct PublishedWhere {
  PublishedWhere& Sport(std::string sport) {
    query.sport = std::move(sport);
    return *this;
  }
  PublishedWhere& Channel(std::string channel) {
    query.channel = std::move(channel);
    return *this;
  }
  PublishedWhere& From(TimePoint t) {
    query.published_from = t;
    return *this;
  }
  PublishedWhere& Until(TimePoint t) {
    query.published_until = t;
    return *this;
  }
  PublishedWhere& Limit(int limit) {
    query.limit = limit;
    return *this;
  }
  operator const PublishedQuery&() const { return query; }  // NOLINT(google-explicit-constructor)
  PublishedQuery query;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

// The tables DESIGN §2 calls the ledger; CountRows() must report each of them.
inline const std::vector<std::string>& LedgerTables() {
  static const auto* tables = new std::vector<std::string>{"events",
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
                                                           "rejected_attempts",
                                                           "ledger_entries",
                                                           "snapshot_cleanups"};
  return *tables;
}

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // Every time in the suite is At(minutes after 2025-03-01T00:00:00Z).
  static TimePoint At(int minutes) {
    using namespace std::chrono;
    return TimePoint(sys_days(year(2025) / March / 1)) + std::chrono::minutes(minutes);
  }

  void SetUp() override {
    Result<std::unique_ptr<Store>> opened = GetParam().open(clock_);
    if (IsSkipped()) return;
    ASSERT_OK(opened);
    store_ = std::move(opened).value();
  }

  Store& store() { return *store_; }

  // ---- records with every field set to a distinctive value ----

  static ledger::Event MakeEvent(const std::string& event_id, int64_t revision = 1,
                                 const std::string& sport = "basketball") {
    return ledger::Event{
        .event_id = event_id,
        .revision = revision,
        .sport = sport,
        .league = "NBA",
        .season = "2024-25",
        .home_team = "BOS",
        .away_team = "NYK",
        .start_time = At(600),
        .status = revision == 1 ? "scheduled" : "postponed",
        .body_sha256 = "body-" + event_id + "-" + std::to_string(revision),
        .recorded_at = At(static_cast<int>(revision)),
    };
  }

  // The raw body holds a NUL, CR LF and bytes that are not UTF-8: it must come back exactly.
  static std::string RawBody(const std::string& id) {
    return "{\"id\":\"" + id + "\"}" + std::string("\r\n\0\xff\xfe", 5);
  }

  static ledger::OddsSnapshot MakeOdds(const std::string& snapshot_id,
                                       const std::string& event_id = "evt-1",
                                       TimePoint captured_at = At(10),
                                       const std::string& book = "pinnacle",
                                       const std::string& market = "moneyline") {
    return ledger::OddsSnapshot{
        .snapshot_id = snapshot_id,
        .event_id = event_id,
        .book = book,
        .market = market,
        .captured_at = captured_at,
        .recorded_at = captured_at + std::chrono::milliseconds(1234),
        .raw = RawBody(snapshot_id),
        .quotes_json = R"([{"american":-110,"fair_prob":0.5,"selection":"home"}])",
        .devig_method = "multiplicative",
        .content_sha256 = "sha-odds-" + snapshot_id,
        .player = std::nullopt,
        .stat = std::nullopt,
    };
  }

  static ledger::InjurySnapshot MakeInjury(const std::string& snapshot_id,
                                           const std::string& event_id = "evt-1") {
    return ledger::InjurySnapshot{
        .snapshot_id = snapshot_id,
        .event_id = event_id,
        .team = "BOS",
        .source = "league-report",
        .captured_at = At(20),
        .recorded_at = At(21),
        .players_json = R"([{"player":"J. Doe","status":"out"}])",
        .raw = RawBody(snapshot_id),
        .content_sha256 = "sha-injury-" + snapshot_id,
    };
  }

  static ledger::SimRun MakeSimRun(const std::string& sim_run_id) {
    return ledger::SimRun{
        .sim_run_id = sim_run_id,
        .trigger = "manual",
        .model_version = "model-3",
        .feature_set_version = "features-2",
        .decision_policy_version = "policy-1",
        .git_sha = "0123456789abcdef0123456789abcdef01234567",
        .code_dirty = true,
        .n_sims = 100000,
        .rng_seed = std::numeric_limits<int64_t>::max(),
        .params_json = R"({"pace":1.02})",
        .started_at = At(30),
        .finished_at = At(31),
        .recorded_at = At(32),
    };
  }

  static ledger::SimRunInput MakeInput(const std::string& sim_run_id,
                                       const ledger::OddsSnapshot& s) {
    return ledger::SimRunInput{sim_run_id, "odds_snapshot", s.snapshot_id, s.content_sha256};
  }
  static ledger::SimRunInput MakeInput(const std::string& sim_run_id,
                                       const ledger::InjurySnapshot& s) {
    return ledger::SimRunInput{sim_run_id, "injury_snapshot", s.snapshot_id, s.content_sha256};
  }

  // A prediction whose optional fields are all null.
  static ledger::Prediction MakePrediction(const std::string& prediction_id,
                                           const std::string& sim_run_id,
                                           const std::string& event_id = "evt-1") {
    return ledger::Prediction{
        .prediction_id = prediction_id,
        .sim_run_id = sim_run_id,
        .event_id = event_id,
        .market = "moneyline",
        .selection = "home",
        .line = std::nullopt,
        .player = std::nullopt,
        .stat = std::nullopt,
        .book = "pinnacle",
        .price_decimal = 1.0 + 10.0 / 11.0,  // not exact in binary: must survive bit for bit
        .price_american = -110,
        .raw_prob = 0.1 + 0.2,
        .calibrated_prob = std::nullopt,
        .calibration_version_id = std::nullopt,
        .edge = std::nullopt,
        .tier = "B",
        .stake_units = 1.5,
        .recorded_at = At(33),
    };
  }

  static ledger::Publish MakePublish(const std::string& publish_id,
                                     const std::string& prediction_id,
                                     TimePoint published_at = At(40),
                                     const std::string& channel = "web") {
    return ledger::Publish{
        .publish_id = publish_id,
        .prediction_id = prediction_id,
        .channel = channel,
        .visibility = "public",
        .is_official = true,
        .published_at = published_at,
        .request_sha256 = "req-" + publish_id,
        .log_index = -1,
    };
  }

  // A first revision: no scores yet, supersedes nothing.
  // A grading of `publish_id` on `result_id` whose optional fields are all null (a VOID: no
  // closing line, no score).
  static ledger::Grading MakeGrading(const std::string& grading_id, const std::string& publish_id,
                                     const std::string& result_id, TimePoint graded_at = At(800)) {
    return ledger::Grading{
        .grading_id = grading_id,
        .publish_id = publish_id,
        .result_id = result_id,
        .outcome = "VOID",
        .stake_convention = "risk",
        .stake = 1.5,
        .profit_units = 0,
        .price_decimal = 1.0 + 10.0 / 11.0,  // not exact in binary: must survive bit for bit
        .closing_snapshot_id = std::nullopt,
        .closing_price = std::nullopt,
        .clv_price = std::nullopt,
        .clv_fair = std::nullopt,
        .clv_prob_pts = std::nullopt,
        .clv_note = std::nullopt,
        .devig_method = "multiplicative",
        .prob_used = "raw",
        .prob = 0.1 + 0.2,
        .brier = std::nullopt,
        .log_loss = std::nullopt,
        .supersedes = std::nullopt,
        .graded_at = graded_at,
        .log_index = -1,
    };
  }

  static ledger::EventResult MakeResult(const std::string& result_id,
                                        const std::string& event_id = "evt-1",
                                        int64_t revision = 1) {
    return ledger::EventResult{
        .result_id = result_id,
        .event_id = event_id,
        .revision = revision,
        .status = "postponed",
        .home_score = std::nullopt,
        .away_score = std::nullopt,
        .player_stats_json = "[]",
        .supersedes = std::nullopt,
        .recorded_at = At(700 + static_cast<int>(revision)),
        .log_index = -1,
    };
  }

  // A version trained on the 30 days before At(0), whose gates passed. Its JSON texts hold
  // doubles that are not exact in binary and non-ASCII text: they must come back byte for byte.
  static ledger::CalibrationVersion MakeCalibrationVersion(const std::string& version_id,
                                                           TimePoint created_at = At(90)) {
    return ledger::CalibrationVersion{
        .calibration_version_id = version_id,
        .method = "isotonic",
        .training_from = At(-30 * 1440),
        .training_to = At(0),
        .n = int64_t{1} << 40,
        .settings_json = R"({"folds":5,"gates":{"min_n":200},"segment_by":["sport","tier"],)"
                         R"("training_days":30})",
        .metrics_before_json = R"({"brier":0.30000000000000004,"ece":0.1,"log_loss":0.6931})",
        .metrics_after_json = R"({"brier":0.2499999999999999,"ece":1e-17,"log_loss":0.69})",
        .gates_json = R"([{"name":"brier_gain","passed":true,"threshold":0,"value":0.05}])",
        .gates_passed = true,
        .code_version = "0123456789abcdef+dirty (été)",
        .created_at = created_at + std::chrono::milliseconds(789),
    };
  }

  static ledger::CalibrationSegment MakeCalibrationSegment(const std::string& version_id,
                                                           const std::string& segment_key) {
    return ledger::CalibrationSegment{
        .calibration_version_id = version_id,
        .segment_key = segment_key,
        .fitted_on = "sport=basketball",
        .fallback = "sport",
        .n = 37,
        .params_json = R"({"method":"isotonic","x":[0.1,0.30000000000000004],"y":[0.2,1]})",
        .metrics_json = R"({"after":{"brier":0.2},"before":{"brier":0.3333333333333333}})",
        .bins_json = R"([{"lo":0,"hi":0.5,"mean_p":0.25,"n":3,"rate":0.3333333333333333}])",
    };
  }

  // An activation forced past failed gates, so that every field differs from its default.
  static ledger::CalibrationActivation MakeActivation(const std::string& activation_id,
                                                      const std::string& version_id,
                                                      TimePoint activated_at = At(95)) {
    return ledger::CalibrationActivation{
        .activation_id = activation_id,
        .calibration_version_id = version_id,
        .actor = "ops: J. Doe",
        .reason = "rollback after a feed outage\nsee ticket 42",
        .forced = true,
        .activated_at = activated_at,
        .log_index = -1,
    };
  }

  static ledger::LedgerEntry MakeEntry(const std::string& record_id,
                                       const std::string& kind = "publish") {
    return ledger::LedgerEntry{
        .log_index = -1,
        .kind = kind,
        .record_id = record_id,
        .payload = "{\"record_id\":\"" + record_id + "\"}" + std::string("\0\n", 2),
        .entry_sha256 = "sha-entry-" + record_id,
        .recorded_at = At(50),
    };
  }

  static ledger::RejectedAttempt MakeRejected(const std::string& attempt_id) {
    return ledger::RejectedAttempt{
        .attempt_id = attempt_id,
        .kind = "publish",
        .target_id = "pred-1",
        .request_sha256 = "req-other",
        .reason = "a publish with a different body exists",
        .body = RawBody(attempt_id),
        .recorded_at = At(60),
    };
  }

  static ledger::SnapshotCleanup MakeCleanup(const std::string& cleanup_id) {
    return ledger::SnapshotCleanup{
        .cleanup_id = cleanup_id,
        .cutoff = At(-1440),
        .requested_at = At(70),
        .deleted_count = 2,
        .deleted_ids_json = R"(["odds-a","odds-b"])",
    };
  }

  static ledger::IdempotentResponse MakeIdempotent(const std::string& key,
                                                   const std::string& body) {
    return ledger::IdempotentResponse{
        .key = key,
        .request_sha256 = "req-" + body,
        .status = 201,
        .body = body,
        .recorded_at = At(80),
    };
  }

  // ---- writes, each in its own transaction ----

  Status Write(const Store::WriteFn& fn) { return store_->Write(fn); }

  Status Insert(const ledger::Event& e) {
    return Write([&](WriteTxn& t) { return t.InsertEvent(e); });
  }
  Status Insert(const ledger::OddsSnapshot& s) {
    return Write([&](WriteTxn& t) { return t.InsertOddsSnapshot(s); });
  }
  // InsertOddsSnapshots in a write of its own; the write fails when the call does.
  Result<std::vector<std::optional<ledger::OddsSnapshot>>> InsertBatch(
      const std::vector<ledger::OddsSnapshot>& snapshots) {
    std::vector<std::optional<ledger::OddsSnapshot>> stored;
    RETURN_IF_ERROR(Write([&](WriteTxn& t) -> Status {
      ASSIGN_OR_RETURN(stored, t.InsertOddsSnapshots(snapshots));
      return Status::Ok();
    }));
    return stored;
  }
  Status Insert(const ledger::InjurySnapshot& s) {
    return Write([&](WriteTxn& t) { return t.InsertInjurySnapshot(s); });
  }
  Status Insert(const ledger::SimRun& r) {
    return Write([&](WriteTxn& t) { return t.InsertSimRun(r); });
  }
  Status Insert(const ledger::SimRunInput& i) {
    return Write([&](WriteTxn& t) { return t.InsertSimRunInput(i); });
  }
  Status Insert(const ledger::Prediction& p) {
    return Write([&](WriteTxn& t) { return t.InsertPrediction(p); });
  }
  Status Insert(const ledger::CalibrationVersion& v) {
    return Write([&](WriteTxn& t) { return t.InsertCalibrationVersion(v); });
  }
  Status Insert(const ledger::CalibrationSegment& s) {
    return Write([&](WriteTxn& t) { return t.InsertCalibrationSegment(s); });
  }
  Status Insert(const ledger::RejectedAttempt& a) {
    return Write([&](WriteTxn& t) { return t.InsertRejectedAttempt(a); });
  }
  Status Insert(const ledger::SnapshotCleanup& c) {
    return Write([&](WriteTxn& t) { return t.InsertSnapshotCleanup(c); });
  }
  Status Insert(const ledger::IdempotentResponse& r) {
    return Write([&](WriteTxn& t) { return t.PutIdempotentResponse(r); });
  }

  // Appends the publish's ledger entry and inserts it in one transaction, as publishing does;
  // returns the publish with its log_index.
  Result<ledger::Publish> InsertPublished(ledger::Publish p) {
    RETURN_IF_ERROR(Write([&](WriteTxn& t) -> Status {
      ASSIGN_OR_RETURN(p.log_index, t.AppendLedgerEntry(MakeEntry(p.publish_id, "publish")));
      return t.InsertPublish(p);
    }));
    return p;
  }

  // The same for an event result revision.
  Result<ledger::EventResult> InsertRecorded(ledger::EventResult r) {
    RETURN_IF_ERROR(Write([&](WriteTxn& t) -> Status {
      ASSIGN_OR_RETURN(r.log_index, t.AppendLedgerEntry(MakeEntry(r.result_id, "event_result")));
      return t.InsertEventResult(r);
    }));
    return r;
  }

  // The same for a calibration activation.
  Result<ledger::CalibrationActivation> InsertActivated(ledger::CalibrationActivation a) {
    RETURN_IF_ERROR(Write([&](WriteTxn& t) -> Status {
      ASSIGN_OR_RETURN(a.log_index,
                       t.AppendLedgerEntry(MakeEntry(a.activation_id, "calibration_activation")));
      return t.InsertCalibrationActivation(a);
    }));
    return a;
  }

  // Stores event `event_id` of `sport` (unless it exists), a sim run "run-<prediction_id>" and
  // one prediction on the event.
  Status SeedPrediction(const std::string& prediction_id, const std::string& event_id,
                        const std::string& sport = "basketball") {
    return Write([&](WriteTxn& t) -> Status {
      ASSIGN_OR_RETURN(std::optional<ledger::Event> current, t.CurrentEvent(event_id));
      if (!current) RETURN_IF_ERROR(t.InsertEvent(MakeEvent(event_id, 1, sport)));
      RETURN_IF_ERROR(t.InsertSimRun(MakeSimRun("run-" + prediction_id)));
      return t.InsertPrediction(MakePrediction(prediction_id, "run-" + prediction_id, event_id));
    });
  }

  // A published prediction "pred-<publish_id>" on event "evt-<sport>".
  Result<ledger::Publish> SeedPublished(const std::string& publish_id, const std::string& sport,
                                        const std::string& channel, TimePoint published_at) {
    RETURN_IF_ERROR(SeedPrediction("pred-" + publish_id, "evt-" + sport, sport));
    return InsertPublished(MakePublish(publish_id, "pred-" + publish_id, published_at, channel));
  }

  // Five publishes for the listing tests, two sharing a publish time:
  //   pub-1 basketball web At(1), pub-2 hockey web At(2), pub-3 basketball email At(3),
  //   pub-4 basketball web At(3), pub-5 hockey email At(4).
  Status SeedPublishedListing() {
    RETURN_IF_ERROR(SeedPublished("pub-1", "basketball", "web", At(1)));
    RETURN_IF_ERROR(SeedPublished("pub-2", "hockey", "web", At(2)));
    RETURN_IF_ERROR(SeedPublished("pub-4", "basketball", "web", At(3)));
    RETURN_IF_ERROR(SeedPublished("pub-3", "basketball", "email", At(3)));
    return SeedPublished("pub-5", "hockey", "email", At(4)).status();
  }

  // Graded publishes for the training-row tests. Each is a prediction on "evt-nba" (basketball)
  // or "evt-soccer" (recorded as football, then corrected to soccer by a second revision after
  // everything else), graded on the event's result revisions in turn, each grading superseding
  // the one before:
  //   publish          minute  gradings    event       tier  market     raw_prob
  //   pub-early          9     WIN         evt-nba     B     moneyline  0.1 + 0.2
  //   pub-from          10     WIN         evt-nba     A     moneyline  0.1 + 0.2
  //   pub-tie-b         20     LOSS        evt-soccer  B     spread     1 / 3
  //   pub-tie-a         20     HALF_WIN    evt-nba     C     total      2 / 3
  //   pub-push          21     PUSH
  //   pub-void          22     VOID
  //   pub-ungraded      23     (none)
  //   pub-regraded      24     WIN, LOSS
  //   pub-half-loss     25     HALF_LOSS
  //   pub-to-push       26     WIN, PUSH
  //   pub-from-void     27     VOID, WIN
  //   pub-to            30     LOSS
  //   pub-late          31     WIN
  // Blank columns are as pub-early's. The log follows this table, so pub-tie-b precedes
  // pub-tie-a: only the id explains their order in a listing.
  Status SeedTrainingHistory() {
    struct Graded {
      std::string publish_id;
      int published_minute = 0;
      std::vector<std::string> outcomes = {};
      std::string event_id = "evt-nba";
      std::string tier = "B";
      std::string market = "moneyline";
      double raw_prob = 0.1 + 0.2;
    };
    const std::vector<Graded> graded = {
        {.publish_id = "pub-early", .published_minute = 9, .outcomes = {"WIN"}},
        {.publish_id = "pub-from", .published_minute = 10, .outcomes = {"WIN"}, .tier = "A"},
        {.publish_id = "pub-tie-b",
         .published_minute = 20,
         .outcomes = {"LOSS"},
         .event_id = "evt-soccer",
         .market = "spread",
         .raw_prob = 1.0 / 3.0},
        {.publish_id = "pub-tie-a",
         .published_minute = 20,
         .outcomes = {"HALF_WIN"},
         .tier = "C",
         .market = "total",
         .raw_prob = 2.0 / 3.0},
        {.publish_id = "pub-push", .published_minute = 21, .outcomes = {"PUSH"}},
        {.publish_id = "pub-void", .published_minute = 22, .outcomes = {"VOID"}},
        {.publish_id = "pub-ungraded", .published_minute = 23},
        {.publish_id = "pub-regraded", .published_minute = 24, .outcomes = {"WIN", "LOSS"}},
        {.publish_id = "pub-half-loss", .published_minute = 25, .outcomes = {"HALF_LOSS"}},
        {.publish_id = "pub-to-push", .published_minute = 26, .outcomes = {"WIN", "PUSH"}},
        {.publish_id = "pub-from-void", .published_minute = 27, .outcomes = {"VOID", "WIN"}},
        {.publish_id = "pub-to", .published_minute = 30, .outcomes = {"LOSS"}},
        {.publish_id = "pub-late", .published_minute = 31, .outcomes = {"WIN"}},
    };
    RETURN_IF_ERROR(Write([&](WriteTxn& t) -> Status {
      RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-nba")));
      RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-soccer", 1, "football")));
      return t.InsertSimRun(MakeSimRun("run-1"));
    }));
    // Two result revisions of each event: "res-<event>-1" and its correction "res-<event>-2".
    for (const std::string event_id : {"evt-nba", "evt-soccer"}) {
      ledger::EventResult correction = MakeResult("res-" + event_id + "-2", event_id, 2);
      correction.supersedes = "res-" + event_id + "-1";
      RETURN_IF_ERROR(InsertRecorded(MakeResult("res-" + event_id + "-1", event_id)).status());
      RETURN_IF_ERROR(InsertRecorded(correction).status());
    }
    for (const Graded& row : graded) {
      ledger::Prediction prediction =
          MakePrediction("pred-" + row.publish_id, "run-1", row.event_id);
      prediction.tier = row.tier;
      prediction.market = row.market;
      prediction.raw_prob = row.raw_prob;
      RETURN_IF_ERROR(Insert(prediction));
      RETURN_IF_ERROR(InsertPublished(MakePublish(row.publish_id, prediction.prediction_id,
                                                  At(row.published_minute)))
                          .status());
      std::optional<std::string> previous;
      for (size_t k = 0; k < row.outcomes.size(); ++k) {
        const std::string revision = std::to_string(k + 1);
        ledger::Grading g = MakeGrading("grd-" + row.publish_id + "-" + revision, row.publish_id,
                                        "res-" + row.event_id + "-" + revision);
        g.outcome = row.outcomes[k];
        g.supersedes = previous;
        RETURN_IF_ERROR(Write([&](WriteTxn& t) -> Status {
          ASSIGN_OR_RETURN(g.log_index, t.AppendLedgerEntry(MakeEntry(g.grading_id, "grading")));
          return t.InsertGrading(g);
        }));
        previous = g.grading_id;
      }
    }
    return Insert(MakeEvent("evt-soccer", 2, "soccer"));
  }

  // What SeedEveryTable() stored: one row in every ledger table.
  struct Seeded {
    ledger::Event event = MakeEvent("evt-1");
    ledger::OddsSnapshot odds = MakeOdds("odds-1");
    ledger::InjurySnapshot injury = MakeInjury("injury-1");
    ledger::SimRun run = MakeSimRun("run-1");
    ledger::SimRunInput input = MakeInput("run-1", odds);
    ledger::Prediction prediction = MakePrediction("pred-1", "run-1");
    ledger::Publish publish = MakePublish("pub-1", "pred-1");
    ledger::EventResult result = MakeResult("res-1");
    ledger::Grading grading = MakeGrading("grd-1", "pub-1", "res-1");
    ledger::CalibrationVersion calibration = MakeCalibrationVersion("cal-1");
    ledger::CalibrationSegment segment =
        MakeCalibrationSegment("cal-1", "sport=basketball|tier=B|market=moneyline");
    ledger::CalibrationActivation activation = MakeActivation("act-1", "cal-1");
    ledger::RejectedAttempt rejected = MakeRejected("rej-1");
    ledger::SnapshotCleanup cleanup = MakeCleanup("cleanup-1");
  };
  // The ledger entries SeedEveryTable() appends: publish, result, grading, activation.
  static constexpr int64_t kSeededLedgerSize = 4;

  // Writes `seeded` in one transaction (filling in the log indexes) and returns the status.
  static Status WriteAll(WriteTxn& t, Seeded& seeded) {
    RETURN_IF_ERROR(t.InsertEvent(seeded.event));
    RETURN_IF_ERROR(t.InsertOddsSnapshot(seeded.odds));
    RETURN_IF_ERROR(t.InsertInjurySnapshot(seeded.injury));
    RETURN_IF_ERROR(t.InsertSimRun(seeded.run));
    RETURN_IF_ERROR(t.InsertSimRunInput(seeded.input));
    RETURN_IF_ERROR(t.InsertPrediction(seeded.prediction));
    ASSIGN_OR_RETURN(seeded.publish.log_index, t.AppendLedgerEntry(MakeEntry("pub-1")));
    RETURN_IF_ERROR(t.InsertPublish(seeded.publish));
    ASSIGN_OR_RETURN(seeded.result.log_index,
                     t.AppendLedgerEntry(MakeEntry("res-1", "event_result")));
    RETURN_IF_ERROR(t.InsertEventResult(seeded.result));
    ASSIGN_OR_RETURN(seeded.grading.log_index, t.AppendLedgerEntry(MakeEntry("grd-1", "grading")));
    RETURN_IF_ERROR(t.InsertGrading(seeded.grading));
    RETURN_IF_ERROR(t.InsertCalibrationVersion(seeded.calibration));
    RETURN_IF_ERROR(t.InsertCalibrationSegment(seeded.segment));
    ASSIGN_OR_RETURN(seeded.activation.log_index,
                     t.AppendLedgerEntry(MakeEntry("act-1", "calibration_activation")));
    RETURN_IF_ERROR(t.InsertCalibrationActivation(seeded.activation));
    RETURN_IF_ERROR(t.InsertRejectedAttempt(seeded.rejected));
    return t.InsertSnapshotCleanup(seeded.cleanup);
  }

  Result<Seeded> SeedEveryTable() {
    Seeded seeded;
    RETURN_IF_ERROR(Write([&](WriteTxn& t) { return WriteAll(t, seeded); }));
    return seeded;
  }

  // ---- reads ----

  // Runs `query` (Reader& -> Result<T>) inside store().Read and returns its value. A failure
  // is a test failure and yields T{}.
  template <typename Query>
  auto Read(Query&& query) {
    using T = std::remove_cvref_t<decltype(*query(std::declval<Reader&>()))>;
    T value{};
    Status s = store_->Read([&](Reader& r) -> Status {
      auto result = query(r);
      if (!result.ok()) return result.status();
      value = std::move(result).value();
      return Status::Ok();
    });
    EXPECT_OK(s);
    return value;
  }

  int64_t LedgerSize() {
    return Read([](Reader& r) { return r.LedgerSize(); });
  }
  std::map<std::string, int64_t> CountRows() {
    return Read([](Reader& r) { return r.CountRows(); });
  }
  // The sum of every ledger table's count.
  // Rows in every table but the bookkeeping ones (schema_migrations, idempotency_keys).
  int64_t TotalLedgerRows() {
    int64_t total = 0;
    for (const auto& [table, n] : CountRows()) {
      if (table != "schema_migrations" && table != "idempotency_keys") total += n;
    }
    return total;
  }
  std::vector<ledger::OddsSnapshot> ListSnapshots(const SnapshotQuery& q) {
    return Read([&](Reader& r) { return r.ListOddsSnapshots(q); });
  }
  std::vector<ledger::Publish> ListPublished(const PublishedQuery& q) {
    return Read([&](Reader& r) { return r.ListPublished(q); });
  }
  std::vector<ledger::LedgerEntry> ListLedger(int64_t first, int limit) {
    return Read([&](Reader& r) { return r.ListLedgerEntries(first, limit); });
  }
  std::vector<TrainingRow> ListTrainingRows(TimePoint from, TimePoint to) {
    return Read([&](Reader& r) { return r.ListTrainingRows(from, to); });
  }
  std::vector<ledger::CalibrationVersion> ListCalibrationVersions(int limit) {
    return Read([&](Reader& r) { return r.ListCalibrationVersions(limit); });
  }
  std::vector<ledger::CalibrationSegment> ListCalibrationSegments(const std::string& version_id) {
    return Read([&](Reader& r) { return r.ListCalibrationSegments(version_id); });
  }
  std::optional<ledger::CalibrationActivation> LatestActivation() {
    return Read([](Reader& r) { return r.LatestActivation(); });
  }

  static std::vector<std::string> Ids(const std::vector<ledger::OddsSnapshot>& snapshots) {
    std::vector<std::string> ids;
    for (const auto& s : snapshots) ids.push_back(s.snapshot_id);
    return ids;
  }
  static std::vector<std::string> Ids(const std::vector<ledger::Publish>& publishes) {
    std::vector<std::string> ids;
    for (const auto& p : publishes) ids.push_back(p.publish_id);
    return ids;
  }

  ManualClock clock_{At(0)};
  std::unique_ptr<Store> store_;
};

}  // namespace truthbook::store
