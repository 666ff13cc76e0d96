// The store contract suite (fixture and parameter in store_contract_test.h). Each backend
// instantiates it in its own test file; this file is the one copy of the tests.

#include "store/store_contract_test.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <latch>
#include <thread>
#include <tuple>

#include "base/time.h"

namespace truthbook::store {

// Failure messages print a GradingTotals field by field. gtest finds PrintTo only in the
// type's own namespace, not in this file's unnamed one; `static` keeps it local all the same.
static void PrintTo(const GradingTotals& t, std::ostream* os) {
  const std::streamsize precision = os->precision(17);
  *os << "{outcome: " << t.outcome << ", n: " << t.n << ", stake: " << t.stake
      << ", profit_units: " << t.profit_units << ", clv_price_sum: " << t.clv_price_sum
      << ", clv_price_n: " << t.clv_price_n << ", clv_fair_sum: " << t.clv_fair_sum
      << ", clv_prob_pts_sum: " << t.clv_prob_pts_sum << ", clv_n: " << t.clv_n
      << ", beat_close_n: " << t.beat_close_n << ", brier_sum: " << t.brier_sum
      << ", log_loss_sum: " << t.log_loss_sum << ", scored_n: " << t.scored_n << "}";
  os->precision(precision);
}

static void PrintTo(const TrainingRow& row, std::ostream* os) {
  const std::streamsize precision = os->precision(17);
  *os << "{published_at: " << row.published_at.time_since_epoch().count()
      << " ms, publish_id: " << row.publish_id << ", sport: " << row.sport << ", tier: " << row.tier
      << ", market: " << row.market << ", raw_prob: " << row.raw_prob
      << ", outcome: " << row.outcome << "}";
  os->precision(precision);
}

namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Matcher;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// ---- grading helpers ----
// Free functions kept beside the grading cases; MakeGrading is the fixture's.

// `g` with the supersedes link set.
ledger::Grading Superseding(ledger::Grading g, const std::string& superseded_id) {
  g.supersedes = superseded_id;
  return g;
}

ledger::LedgerEntry GradingEntry(const ledger::Grading& g) {
  return ledger::LedgerEntry{
      .log_index = -1,
      .kind = "grading",
      .record_id = g.grading_id,
      .payload = "{\"grading_id\":\"" + g.grading_id + "\"}",
      .entry_sha256 = "sha-entry-" + g.grading_id,
      .recorded_at = g.graded_at,
  };
}

// Appends the grading's ledger entry and inserts it in one transaction, as grading does;
// returns the grading with its log_index.
Result<ledger::Grading> InsertGraded(Store& store, ledger::Grading g) {
  RETURN_IF_ERROR(store.Write([&](WriteTxn& t) -> Status {
    ASSIGN_OR_RETURN(g.log_index, t.AppendLedgerEntry(GradingEntry(g)));
    return t.InsertGrading(g);
  }));
  return g;
}

// Builders for the grading queries, so a test reads as its filter (see PublishedWhere).
struct GradingsWhere {
  GradingsWhere& Sport(std::string sport) {
    query.sport = std::move(sport);
    return *this;
  }
  GradingsWhere& League(std::string league) {
    query.league = std::move(league);
    return *this;
  }
  GradingsWhere& Market(std::string market) {
    query.market = std::move(market);
    return *this;
  }
  GradingsWhere& Tier(std::string tier) {
    query.tier = std::move(tier);
    return *this;
  }
  GradingsWhere& Channel(std::string channel) {
    query.channel = std::move(channel);
    return *this;
  }
  GradingsWhere& Book(std::string book) {
    query.book = std::move(book);
    return *this;
  }
  GradingsWhere& From(TimePoint t) {
    query.published_from = t;
    return *this;
  }
  GradingsWhere& Until(TimePoint t) {
    query.published_until = t;
    return *this;
  }
  operator const GradingQuery&() const { return query; }  // NOLINT(google-explicit-constructor)
  GradingQuery query;
};

struct ClosingLinesOf {
  ClosingLinesOf(std::string event_id, std::string book, std::string market,
                 TimePoint at_or_before) {
    query.event_id = std::move(event_id);
    query.book = std::move(book);
    query.market = std::move(market);
    query.at_or_before = at_or_before;
  }
  ClosingLinesOf& Prop(std::string player, std::string stat) {
    query.player = std::move(player);
    query.stat = std::move(stat);
    return *this;
  }
  ClosingLinesOf& Limit(int limit) {
    query.limit = limit;
    return *this;
  }
  operator const ClosingQuery&() const { return query; }  // NOLINT(google-explicit-constructor)
  ClosingQuery query;
};

// Matches a GradingInput member by member (it has no operator==).
Matcher<const GradingInput&> IsGradingInput(
    const ledger::Publish& publish, const ledger::Prediction& prediction,
    const ledger::Event& event, const std::optional<ledger::EventResult>& result,
    const std::optional<std::string>& current_grading_id = std::nullopt,
    const std::optional<std::string>& current_result_id = std::nullopt) {
  return AllOf(Field("publish", &GradingInput::publish, publish),
               Field("prediction", &GradingInput::prediction, prediction),
               Field("event", &GradingInput::event, event),
               Field("result", &GradingInput::result, result),
               Field("current_grading_id", &GradingInput::current_grading_id, current_grading_id),
               Field("current_result_id", &GradingInput::current_result_id, current_result_id));
}

// `s` as the closing-line lookup returns it: without the raw payload.
ledger::OddsSnapshot WithoutRaw(ledger::OddsSnapshot s) {
  s.raw.clear();
  return s;
}

std::vector<std::string> PublishIds(const std::vector<GradingInput>& inputs) {
  std::vector<std::string> ids;
  for (const GradingInput& in : inputs) ids.push_back(in.publish.publish_id);
  return ids;
}
std::vector<std::string> GradingIds(const std::vector<ledger::Grading>& gradings) {
  std::vector<std::string> ids;
  for (const ledger::Grading& g : gradings) ids.push_back(g.grading_id);
  return ids;
}
std::vector<std::string> PublishIds(const std::vector<TrainingRow>& rows) {
  std::vector<std::string> ids;
  for (const TrainingRow& row : rows) ids.push_back(row.publish_id);
  return ids;
}
std::vector<std::string> VersionIds(const std::vector<ledger::CalibrationVersion>& versions) {
  std::vector<std::string> ids;
  for (const ledger::CalibrationVersion& v : versions) ids.push_back(v.calibration_version_id);
  return ids;
}
std::vector<std::string> SegmentKeys(const std::vector<ledger::CalibrationSegment>& segments) {
  std::vector<std::string> keys;
  for (const ledger::CalibrationSegment& s : segments) keys.push_back(s.segment_key);
  return keys;
}

// ---- every insert comes back exactly ----

TEST_P(StoreContractTest, EventRoundTripsExactly) {
  const ledger::Event event = MakeEvent("evt-1");
  ASSERT_OK(Insert(event));
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-1"); }), event);
}

TEST_P(StoreContractTest, OddsSnapshotRoundTripsExactlyIncludingRawBytes) {
  const ledger::OddsSnapshot snapshot = MakeOdds("odds-1");
  ASSERT_OK(Insert(snapshot));
  std::optional<ledger::OddsSnapshot> read =
      Read([](Reader& r) { return r.GetOddsSnapshot("odds-1"); });
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->raw.size(), snapshot.raw.size());
  EXPECT_EQ(*read, snapshot);
}

TEST_P(StoreContractTest, InjurySnapshotRoundTripsExactly) {
  const ledger::InjurySnapshot snapshot = MakeInjury("injury-1");
  ASSERT_OK(Insert(snapshot));
  EXPECT_EQ(Read([](Reader& r) { return r.GetInjurySnapshot("injury-1"); }), snapshot);
}

TEST_P(StoreContractTest, SimRunRoundTripsExactlyIncludingExtremeIntegers) {
  ledger::SimRun high = MakeSimRun("run-high");
  ledger::SimRun low = MakeSimRun("run-low");
  low.rng_seed = std::numeric_limits<int64_t>::min();
  low.code_dirty = false;
  low.params_json = "{}";
  ASSERT_OK(Insert(high));
  ASSERT_OK(Insert(low));
  EXPECT_EQ(Read([](Reader& r) { return r.GetSimRun("run-high"); }), high);
  EXPECT_EQ(Read([](Reader& r) { return r.GetSimRun("run-low"); }), low);
}

TEST_P(StoreContractTest, SimRunInputsOfBothKindsRoundTripPerRun) {
  const ledger::OddsSnapshot odds = MakeOdds("odds-1");
  const ledger::InjurySnapshot injury = MakeInjury("injury-1");
  ASSERT_OK(Insert(odds));
  ASSERT_OK(Insert(injury));
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  ASSERT_OK(Insert(MakeSimRun("run-2")));
  ASSERT_OK(Insert(MakeInput("run-1", odds)));
  ASSERT_OK(Insert(MakeInput("run-1", injury)));
  ASSERT_OK(Insert(MakeInput("run-2", odds)));

  EXPECT_THAT(Read([](Reader& r) { return r.ListSimRunInputs("run-1"); }),
              UnorderedElementsAre(MakeInput("run-1", odds), MakeInput("run-1", injury)));
  EXPECT_THAT(Read([](Reader& r) { return r.ListSimRunInputs("run-2"); }),
              ElementsAre(MakeInput("run-2", odds)));
}

TEST_P(StoreContractTest, PredictionWithEveryOptionalNullRoundTrips) {
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  const ledger::Prediction prediction = MakePrediction("pred-1", "run-1");
  ASSERT_OK(Insert(prediction));
  EXPECT_EQ(Read([](Reader& r) { return r.GetPrediction("pred-1"); }), prediction);
}

TEST_P(StoreContractTest, PredictionWithEveryOptionalSetRoundTrips) {
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  ledger::Prediction prediction = MakePrediction("pred-1", "run-1");
  prediction.market = "player_points";
  prediction.selection = "over";
  prediction.line = -3.5;
  prediction.player = "J. Doe";
  prediction.stat = "points";
  prediction.calibrated_prob = 0.5123456789012345;
  prediction.calibration_version_id = "cal-1";
  prediction.edge = -0.0123;
  ASSERT_OK(Insert(prediction));
  EXPECT_EQ(Read([](Reader& r) { return r.GetPrediction("pred-1"); }), prediction);
}

TEST_P(StoreContractTest, OptionalsSetToZeroOrEmptyStayDistinctFromNull) {
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  ledger::Prediction prediction = MakePrediction("pred-1", "run-1");
  prediction.line = 0.0;
  prediction.player = "";
  prediction.stat = "";
  prediction.calibrated_prob = 0.0;
  prediction.calibration_version_id = "";
  prediction.edge = 0.0;
  ASSERT_OK(Insert(prediction));
  EXPECT_EQ(Read([](Reader& r) { return r.GetPrediction("pred-1"); }), prediction);
}

TEST_P(StoreContractTest, ListPredictionsReturnsEveryPredictionOfTheRunOnly) {
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  ASSERT_OK(Insert(MakeSimRun("run-2")));
  ledger::Prediction home = MakePrediction("pred-home", "run-1");
  ledger::Prediction away = MakePrediction("pred-away", "run-1");
  away.selection = "away";
  away.line = 2.5;
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    RETURN_IF_ERROR(t.InsertPrediction(home));
    RETURN_IF_ERROR(t.InsertPrediction(away));
    return t.InsertPrediction(MakePrediction("pred-other", "run-2"));
  }));
  EXPECT_THAT(Read([](Reader& r) { return r.ListPredictions("run-1"); }),
              UnorderedElementsAre(home, away));
}

TEST_P(StoreContractTest, PublishRoundTripsThroughPublishForPrediction) {
  ASSERT_OK(SeedPrediction("pred-1", "evt-1"));
  ledger::Publish unofficial = MakePublish("pub-1", "pred-1");
  unofficial.is_official = false;
  unofficial.visibility = "private";
  Result<ledger::Publish> published = InsertPublished(unofficial);
  ASSERT_OK(published);
  EXPECT_EQ(published->log_index, 0);
  EXPECT_EQ(Read([](Reader& r) { return r.PublishForPrediction("pred-1"); }), *published);
}

TEST_P(StoreContractTest, EventResultRevisionsRoundTripAndLatestIsTheHighest) {
  Result<ledger::EventResult> first = InsertRecorded(MakeResult("res-1", "evt-1", 1));
  ASSERT_OK(first);
  EXPECT_EQ(Read([](Reader& r) { return r.LatestResult("evt-1"); }), *first);

  ledger::EventResult correction = MakeResult("res-2", "evt-1", 2);
  correction.status = "final";
  correction.home_score = 0;  // set to zero is not null
  correction.away_score = 103;
  correction.player_stats_json = R"([{"player":"J. Doe","points":31}])";
  correction.supersedes = "res-1";
  Result<ledger::EventResult> second = InsertRecorded(correction);
  ASSERT_OK(second);
  EXPECT_EQ(second->log_index, first->log_index + 1);
  EXPECT_EQ(Read([](Reader& r) { return r.LatestResult("evt-1"); }), *second);
}

TEST_P(StoreContractTest, LedgerEntryRoundTripsExactly) {
  const ledger::LedgerEntry entry = MakeEntry("pub-1");
  ASSERT_OK(Write([&](WriteTxn& t) { return t.AppendLedgerEntry(entry).status(); }));
  ledger::LedgerEntry expected = entry;
  expected.log_index = 0;
  EXPECT_THAT(ListLedger(0, 10), ElementsAre(expected));
}

TEST_P(StoreContractTest, IdempotentResponseRoundTripsExactly) {
  const ledger::IdempotentResponse response = MakeIdempotent("/api/publish key-1", "{\"a\":1}");
  ASSERT_OK(Insert(response));
  EXPECT_EQ(Read([](Reader& r) { return r.GetIdempotentResponse("/api/publish key-1"); }),
            response);
}

TEST_P(StoreContractTest, RejectedAttemptsAndSnapshotCleanupsAreCounted) {
  ASSERT_OK(Insert(MakeRejected("rej-1")));
  ASSERT_OK(Insert(MakeRejected("rej-2")));
  ASSERT_OK(Insert(MakeCleanup("cleanup-1")));
  std::map<std::string, int64_t> counts = CountRows();
  EXPECT_EQ(counts["rejected_attempts"], 2);
  EXPECT_EQ(counts["snapshot_cleanups"], 1);
}

TEST_P(StoreContractTest, AbsentRowsReadAsEmptyNotAsErrors) {
  ASSERT_OK(SeedEveryTable());
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("nope"); }), std::nullopt);
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("nope"); }), std::nullopt);
  EXPECT_EQ(
      Read([](Reader& r) { return r.FindOddsSnapshotByContent("evt-1", TimePoint(), "nope"); }),
      std::nullopt);
  EXPECT_EQ(Read([](Reader& r) { return r.GetInjurySnapshot("nope"); }), std::nullopt);
  EXPECT_EQ(Read([](Reader& r) { return r.FindInjurySnapshotByHash("nope"); }), std::nullopt);
  EXPECT_FALSE(Read([](Reader& r) { return r.FindSnapshotRef("nope"); }).has_value());
  EXPECT_EQ(Read([](Reader& r) { return r.GetSimRun("nope"); }), std::nullopt);
  EXPECT_THAT(Read([](Reader& r) { return r.ListSimRunInputs("nope"); }), IsEmpty());
  EXPECT_THAT(Read([](Reader& r) { return r.ListPredictions("nope"); }), IsEmpty());
  EXPECT_EQ(Read([](Reader& r) { return r.GetPrediction("nope"); }), std::nullopt);
  EXPECT_EQ(Read([](Reader& r) { return r.PublishForPrediction("nope"); }), std::nullopt);
  EXPECT_EQ(Read([](Reader& r) { return r.LatestResult("nope"); }), std::nullopt);
  EXPECT_EQ(Read([](Reader& r) { return r.GetIdempotentResponse("nope"); }), std::nullopt);
  EXPECT_THAT(ListSnapshots(SnapshotsOf("nope")), IsEmpty());
  EXPECT_THAT(ListPublished(PublishedWhere().Sport("nope")), IsEmpty());
  EXPECT_THAT(ListLedger(100, 10), IsEmpty());
  EXPECT_FALSE(Read([](Reader& r) { return r.GetGradingInput("nope"); }).has_value());
  EXPECT_THAT(Read([](Reader& r) { return r.ListGradings("nope"); }), IsEmpty());
  EXPECT_THAT(
      Read([](Reader& r) {
        return r.ListClosingCandidates(ClosingLinesOf("nope", "pinnacle", "moneyline", At(60)));
      }),
      IsEmpty());
  EXPECT_THAT(Read([](Reader& r) { return r.SumGradings(GradingsWhere().Sport("nope")); }),
              IsEmpty());
  EXPECT_EQ(Read([](Reader& r) { return r.GetCalibrationVersion("nope"); }), std::nullopt);
  EXPECT_THAT(ListCalibrationSegments("nope"), IsEmpty());
  EXPECT_THAT(ListTrainingRows(At(-100), At(-1)), IsEmpty());
}

// ---- lookups ----

TEST_P(StoreContractTest, CurrentEventIsTheHighestRevision) {
  ASSERT_OK(Insert(MakeEvent("evt-1", 1)));
  ASSERT_OK(Insert(MakeEvent("evt-1", 3)));
  ASSERT_OK(Insert(MakeEvent("evt-1", 2)));
  ASSERT_OK(Insert(MakeEvent("evt-2", 7)));
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-1"); }), MakeEvent("evt-1", 3));
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-2"); }), MakeEvent("evt-2", 7));
}

TEST_P(StoreContractTest, EventOfPredictionIsTheEventsCurrentRevision) {
  ASSERT_OK(SeedPrediction("pred-1", "evt-1"));
  ASSERT_OK(Insert(MakeEvent("evt-1", 2)));
  EXPECT_EQ(Read([](Reader& r) { return r.EventOfPrediction("pred-1"); }), MakeEvent("evt-1", 2));
  EXPECT_EQ(Read([](Reader& r) { return r.EventOfPrediction("pred-unknown"); }), std::nullopt);
}

TEST_P(StoreContractTest, FindOddsSnapshotByContentFindsTheCapture) {
  const ledger::OddsSnapshot wanted = MakeOdds("odds-1");
  ASSERT_OK(Insert(wanted));
  ASSERT_OK(Insert(MakeOdds("odds-2")));
  EXPECT_EQ(Read([&](Reader& r) {
              return r.FindOddsSnapshotByContent(wanted.event_id, wanted.captured_at,
                                                 wanted.content_sha256);
            }),
            wanted);
}

// ---- bulk odds ingest ----

TEST_P(StoreContractTest, ListUnknownEventsNamesEachUnknownIdOnceInFirstOrder) {
  ASSERT_OK(Insert(MakeEvent("evt-1")));
  ASSERT_OK(Insert(MakeEvent("evt-1", 2)));
  ASSERT_OK(Insert(MakeEvent("evt-2")));
  const std::vector<std::string> ids = {"evt-z", "evt-1", "evt-a", "evt-z", "evt-2", ""};
  EXPECT_EQ(Read([&](Reader& r) { return r.ListUnknownEvents(ids); }),
            (std::vector<std::string>{"evt-z", "evt-a", ""}));
  EXPECT_EQ(Read([](Reader& r) { return r.ListUnknownEvents({}); }), std::vector<std::string>{});
}

TEST_P(StoreContractTest, InsertOddsSnapshotsOfAnEmptyBatchInsertsNothing) {
  const int64_t before = TotalLedgerRows();
  Result<std::vector<std::optional<ledger::OddsSnapshot>>> stored = InsertBatch({});
  ASSERT_OK(stored);
  EXPECT_TRUE(stored->empty());
  EXPECT_EQ(TotalLedgerRows(), before);
}

TEST_P(StoreContractTest, InsertOddsSnapshotsReturnsTheStoredSnapshotForContentAlreadyStored) {
  const ledger::OddsSnapshot earlier = MakeOdds("odds-1");
  ASSERT_OK(Insert(earlier));
  ledger::OddsSnapshot resent = earlier;
  resent.snapshot_id = "odds-resent";
  resent.recorded_at += std::chrono::minutes(5);
  ledger::OddsSnapshot prop = MakeOdds("odds-prop", "evt-1", At(11));
  prop.player = "J. Doe";
  prop.stat = "points";
  const std::vector<ledger::OddsSnapshot> batch = {MakeOdds("odds-a", "evt-1", At(9)), resent,
                                                   prop};

  Result<std::vector<std::optional<ledger::OddsSnapshot>>> stored = InsertBatch(batch);
  ASSERT_OK(stored);
  EXPECT_THAT(*stored, ::testing::ElementsAre(std::nullopt, earlier, std::nullopt));
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-a"); }), batch[0]);
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-prop"); }), prop);
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-resent"); }), std::nullopt);
  EXPECT_EQ(Ids(ListSnapshots(SnapshotsOf("evt-1"))),
            (std::vector<std::string>{"odds-a", "odds-1", "odds-prop"}));
}

TEST_P(StoreContractTest, InsertOddsSnapshotsKeepsTheFirstOfTwoRowsWithOneContent) {
  const ledger::OddsSnapshot first = MakeOdds("odds-1");
  ledger::OddsSnapshot second = first;
  second.snapshot_id = "odds-2";
  Result<std::vector<std::optional<ledger::OddsSnapshot>>> stored =
      InsertBatch({first, second, MakeOdds("odds-3")});
  ASSERT_OK(stored);
  EXPECT_THAT(*stored, ::testing::ElementsAre(std::nullopt, first, std::nullopt));
  EXPECT_EQ(Ids(ListSnapshots(SnapshotsOf("evt-1"))),
            (std::vector<std::string>{"odds-1", "odds-3"}));
}

TEST_P(StoreContractTest, InsertOddsSnapshotsStoresRowsOfManyMonthsAndYears) {
  using namespace std::chrono;
  std::vector<ledger::OddsSnapshot> batch;
  for (sys_days day : {sys_days(year(2019) / March / 31), sys_days(year(1970) / January / 1),
                       sys_days(year(2031) / December / 31), sys_days(year(2019) / April / 1)}) {
    // The last millisecond of the day: the edge of a month for three of them.
    const TimePoint at = TimePoint(day) + days(1) - milliseconds(1);
    batch.push_back(MakeOdds("odds-" + FormatRfc3339(TimePoint(day)).substr(0, 10), "evt-1", at));
  }
  Result<std::vector<std::optional<ledger::OddsSnapshot>>> stored = InsertBatch(batch);
  ASSERT_OK(stored);
  EXPECT_THAT(*stored, ::testing::Each(std::nullopt));
  for (const ledger::OddsSnapshot& s : batch) {
    EXPECT_EQ(Read([&](Reader& r) { return r.GetOddsSnapshot(s.snapshot_id); }), s);
  }
  EXPECT_EQ(Ids(ListSnapshots(SnapshotsOf("evt-1"))),
            (std::vector<std::string>{"odds-1970-01-01", "odds-2019-03-31", "odds-2019-04-01",
                                      "odds-2031-12-31"}));
  // A resend of the whole batch inserts nothing and finds each row in its month.
  std::vector<ledger::OddsSnapshot> resent = batch;
  for (ledger::OddsSnapshot& s : resent) s.snapshot_id += "-again";
  stored = InsertBatch(resent);
  ASSERT_OK(stored);
  EXPECT_THAT(*stored, ::testing::ElementsAreArray(batch));
}

TEST_P(StoreContractTest, InsertOddsSnapshotsWithATakenSnapshotIdFailsAndTheWriteLeavesNothing) {
  ASSERT_OK(Insert(MakeOdds("odds-1")));
  const int64_t before = TotalLedgerRows();
  for (TimePoint at : {At(10), At(60 * 24 * 40)}) {  // the same month, and a later one
    SCOPED_TRACE(at.time_since_epoch().count());
    ledger::OddsSnapshot other = MakeOdds("odds-1", "evt-1", at);
    other.content_sha256 = "sha-other";
    Result<std::vector<std::optional<ledger::OddsSnapshot>>> stored =
        InsertBatch({MakeOdds("odds-new", "evt-1", At(12)), other});
    EXPECT_EQ(stored.status().code(), StatusCode::kAlreadyExists) << stored.status().ToString();
    EXPECT_EQ(TotalLedgerRows(), before);
  }
}

TEST_P(StoreContractTest, FindInjurySnapshotByHashFindsTheCapture) {
  const ledger::InjurySnapshot wanted = MakeInjury("injury-1");
  ASSERT_OK(Insert(wanted));
  ASSERT_OK(Insert(MakeInjury("injury-2")));
  EXPECT_EQ(Read([&](Reader& r) { return r.FindInjurySnapshotByHash(wanted.content_sha256); }),
            wanted);
  // The two kinds do not share a hash space.
  EXPECT_EQ(Read([&](Reader& r) {
              return r.FindOddsSnapshotByContent(wanted.event_id, wanted.captured_at,
                                                 wanted.content_sha256);
            }),
            std::nullopt);
}

TEST_P(StoreContractTest, FindSnapshotRefNamesTheKindAndContentHash) {
  const ledger::OddsSnapshot odds = MakeOdds("odds-1");
  const ledger::InjurySnapshot injury = MakeInjury("injury-1");
  ASSERT_OK(Insert(odds));
  ASSERT_OK(Insert(injury));

  std::optional<SnapshotRef> odds_ref = Read([](Reader& r) { return r.FindSnapshotRef("odds-1"); });
  ASSERT_TRUE(odds_ref.has_value());
  EXPECT_EQ(odds_ref->kind, "odds_snapshot");
  EXPECT_EQ(odds_ref->content_sha256, odds.content_sha256);

  std::optional<SnapshotRef> injury_ref =
      Read([](Reader& r) { return r.FindSnapshotRef("injury-1"); });
  ASSERT_TRUE(injury_ref.has_value());
  EXPECT_EQ(injury_ref->kind, "injury_snapshot");
  EXPECT_EQ(injury_ref->content_sha256, injury.content_sha256);

  EXPECT_FALSE(Read([](Reader& r) { return r.FindSnapshotRef("absent"); }).has_value());
}

// ---- odds snapshot listing ----

TEST_P(StoreContractTest, ListOddsSnapshotsReturnsTheEventsSnapshotsByCaptureTimeThenId) {
  ASSERT_OK(Insert(MakeOdds("odds-c", "evt-1", At(5))));
  ASSERT_OK(Insert(MakeOdds("odds-b", "evt-1", At(1))));
  ASSERT_OK(Insert(MakeOdds("odds-a", "evt-1", At(5))));
  ASSERT_OK(Insert(MakeOdds("odds-x", "evt-2", At(2))));
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1"))), ElementsAre("odds-b", "odds-a", "odds-c"));
}

TEST_P(StoreContractTest, ListOddsSnapshotsFiltersByBookAndMarket) {
  ASSERT_OK(Insert(MakeOdds("odds-1", "evt-1", At(1), "pinnacle", "moneyline")));
  ASSERT_OK(Insert(MakeOdds("odds-2", "evt-1", At(2), "pinnacle", "spread")));
  ASSERT_OK(Insert(MakeOdds("odds-3", "evt-1", At(3), "draftkings", "moneyline")));
  ASSERT_OK(Insert(MakeOdds("odds-4", "evt-1", At(4), "draftkings", "spread")));

  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").Book("pinnacle"))),
              ElementsAre("odds-1", "odds-2"));
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").Market("moneyline"))),
              ElementsAre("odds-1", "odds-3"));
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").Book("draftkings").Market("spread"))),
              ElementsAre("odds-4"));
  EXPECT_THAT(ListSnapshots(SnapshotsOf("evt-1").Book("unknown-book")), IsEmpty());
}

TEST_P(StoreContractTest, ListOddsSnapshotsTimeRangeIsInclusiveAtBothEnds) {
  for (int minute = 1; minute <= 5; ++minute) {
    ASSERT_OK(Insert(MakeOdds("odds-" + std::to_string(minute), "evt-1", At(minute))));
  }
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").From(At(2)).Until(At(4)))),
              ElementsAre("odds-2", "odds-3", "odds-4"));
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").From(At(4)))),
              ElementsAre("odds-4", "odds-5"));
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").Until(At(1)))), ElementsAre("odds-1"));
  EXPECT_THAT(Ids(ListSnapshots(SnapshotsOf("evt-1").From(At(3)).Until(At(3)))),
              ElementsAre("odds-3"));
}

TEST_P(StoreContractTest, ListOddsSnapshotsCursorPagesVisitEachSnapshotOnceInOrder) {
  // Ties in captured_at straddle the page boundaries: the id breaks them.
  const std::vector<std::pair<std::string, int>> stored = {
      {"odds-e", 1}, {"odds-d", 2}, {"odds-b", 2}, {"odds-c", 2},
      {"odds-a", 3}, {"odds-g", 4}, {"odds-f", 4}};
  for (const auto& [id, minute] : stored) ASSERT_OK(Insert(MakeOdds(id, "evt-1", At(minute))));
  ASSERT_OK(Insert(MakeOdds("odds-other-book", "evt-1", At(2), "draftkings")));

  std::vector<std::vector<std::string>> pages;
  SnapshotQuery q = SnapshotsOf("evt-1").Book("pinnacle").Limit(3);
  for (int guard = 0; guard < 10; ++guard) {
    std::vector<ledger::OddsSnapshot> page = ListSnapshots(q);
    pages.push_back(Ids(page));
    if (page.empty()) break;
    q.after = Cursor{page.back().captured_at, page.back().snapshot_id};
  }
  EXPECT_THAT(pages, ElementsAre(ElementsAre("odds-e", "odds-b", "odds-c"),
                                 ElementsAre("odds-d", "odds-a", "odds-f"), ElementsAre("odds-g"),
                                 IsEmpty()));
}

// ---- published listing ----

TEST_P(StoreContractTest, ListPublishedIsOrderedByPublishTimeThenId) {
  ASSERT_OK(SeedPublishedListing());
  EXPECT_THAT(Ids(ListPublished(PublishedWhere())),
              ElementsAre("pub-1", "pub-2", "pub-3", "pub-4", "pub-5"));
}

TEST_P(StoreContractTest, ListPublishedSportFilterGoesThroughThePredictionsEvent) {
  ASSERT_OK(SeedPublishedListing());
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().Sport("basketball"))),
              ElementsAre("pub-1", "pub-3", "pub-4"));
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().Sport("hockey"))), ElementsAre("pub-2", "pub-5"));
  EXPECT_THAT(ListPublished(PublishedWhere().Sport("cricket")), IsEmpty());
}

TEST_P(StoreContractTest, ListPublishedChannelFilterAndSportFilterCombine) {
  ASSERT_OK(SeedPublishedListing());
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().Channel("email"))), ElementsAre("pub-3", "pub-5"));
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().Sport("basketball").Channel("web"))),
              ElementsAre("pub-1", "pub-4"));
}

TEST_P(StoreContractTest, ListPublishedTimeRangeIsInclusiveAtBothEnds) {
  ASSERT_OK(SeedPublishedListing());
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().From(At(2)).Until(At(3)))),
              ElementsAre("pub-2", "pub-3", "pub-4"));
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().From(At(4)))), ElementsAre("pub-5"));
  EXPECT_THAT(Ids(ListPublished(PublishedWhere().Until(At(1)))), ElementsAre("pub-1"));
}

TEST_P(StoreContractTest, ListPublishedCursorPagesVisitEachPublishOnceInOrder) {
  ASSERT_OK(SeedPublishedListing());
  std::vector<std::vector<std::string>> pages;
  PublishedQuery q = PublishedWhere().Limit(2);
  for (int guard = 0; guard < 10; ++guard) {
    std::vector<ledger::Publish> page = ListPublished(q);
    pages.push_back(Ids(page));
    if (page.empty()) break;
    q.after = Cursor{page.back().published_at, page.back().publish_id};
  }
  EXPECT_THAT(pages, ElementsAre(ElementsAre("pub-1", "pub-2"), ElementsAre("pub-3", "pub-4"),
                                 ElementsAre("pub-5"), IsEmpty()));
}

TEST_P(StoreContractTest, ListPublishedCursorPagingRespectsFilters) {
  ASSERT_OK(SeedPublishedListing());
  PublishedQuery q = PublishedWhere().Sport("basketball").Limit(1);
  q.after = Cursor{At(3), "pub-3"};
  EXPECT_THAT(Ids(ListPublished(q)), ElementsAre("pub-4"));
}

// ---- the ledger log ----

TEST_P(StoreContractTest, EmptyLedgerHasSizeZero) { EXPECT_EQ(LedgerSize(), 0); }

TEST_P(StoreContractTest, AppendLedgerEntryReturnsGapFreeIndexesFromZero) {
  std::vector<int64_t> indexes;
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    ledger::LedgerEntry entry = MakeEntry("rec-0");
    entry.log_index = 42;  // ignored: the store assigns the index
    ASSIGN_OR_RETURN(int64_t first, t.AppendLedgerEntry(entry));
    ASSIGN_OR_RETURN(int64_t second, t.AppendLedgerEntry(MakeEntry("rec-1")));
    indexes = {first, second};
    return Status::Ok();
  }));
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    ASSIGN_OR_RETURN(int64_t third, t.AppendLedgerEntry(MakeEntry("rec-2")));
    indexes.push_back(third);
    return Status::Ok();
  }));
  EXPECT_THAT(indexes, ElementsAre(0, 1, 2));
  EXPECT_EQ(LedgerSize(), 3);

  std::vector<ledger::LedgerEntry> entries = ListLedger(0, 10);
  ASSERT_EQ(entries.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(entries[i].log_index, i);
    EXPECT_EQ(entries[i].record_id, "rec-" + std::to_string(i));
  }
}

TEST_P(StoreContractTest, ListLedgerEntriesReturnsTheRequestedWindow) {
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    for (int i = 0; i < 5; ++i) {
      RETURN_IF_ERROR(t.AppendLedgerEntry(MakeEntry("rec-" + std::to_string(i))));
    }
    return Status::Ok();
  }));
  auto indexes = [](const std::vector<ledger::LedgerEntry>& entries) {
    std::vector<int64_t> out;
    for (const auto& e : entries) out.push_back(e.log_index);
    return out;
  };
  EXPECT_THAT(indexes(ListLedger(1, 2)), ElementsAre(1, 2));
  EXPECT_THAT(indexes(ListLedger(3, 10)), ElementsAre(3, 4));
  EXPECT_THAT(ListLedger(5, 10), IsEmpty());
  EXPECT_EQ(LedgerSize(), 5);
}

// ---- transactions ----

TEST_P(StoreContractTest, FailedWriteLeavesNothingBehindAndReturnsTheCallbacksStatus) {
  for (const Status& failure :
       {FailedPrecondition("publish after start: evt-1"), InvalidArgument("line: not a number"),
        NotFound("unknown snapshot odds-9"), AlreadyExists("prediction pred-1 published")}) {
    SCOPED_TRACE(failure.ToString());
    Status s = Write([&](WriteTxn& t) -> Status {
      Seeded seeded;
      RETURN_IF_ERROR(WriteAll(t, seeded));
      RETURN_IF_ERROR(t.PutIdempotentResponse(MakeIdempotent("key-1", "{}")));
      return failure;
    });
    EXPECT_EQ(s.code(), failure.code());
    EXPECT_EQ(s.message(), failure.message());
    EXPECT_EQ(TotalLedgerRows(), 0);
    EXPECT_EQ(LedgerSize(), 0);
    EXPECT_EQ(Read([](Reader& r) { return r.GetIdempotentResponse("key-1"); }), std::nullopt);
  }
}

TEST_P(StoreContractTest, FailedWriteKeepsWhatEarlierWritesCommitted) {
  ASSERT_OK(Insert(MakeEvent("evt-kept")));
  Status s = Write([&](WriteTxn& t) -> Status {
    RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-lost")));
    return InvalidArgument("nope");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-kept"); }), MakeEvent("evt-kept"));
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-lost"); }), std::nullopt);
}

TEST_P(StoreContractTest, EveryDuplicateKeyFailsWithAlreadyExistsAndTheWriteLeavesNothing) {
  Result<Seeded> seeded = SeedEveryTable();
  ASSERT_OK(seeded);
  const Seeded& s = *seeded;

  // Each case inserts a row that repeats one unique key of a stored row.
  struct Case {
    std::string name;
    std::function<Status(WriteTxn&)> insert;
  };
  auto with_new_entry = [](auto insert) {  // for records that need a fresh log_index
    return [insert](WriteTxn& t) -> Status {
      ASSIGN_OR_RETURN(int64_t index, t.AppendLedgerEntry(MakeEntry("dup")));
      return insert(t, index);
    };
  };
  const std::vector<Case> cases = {
      {"event (event_id, revision)",
       [&](WriteTxn& t) {
         ledger::Event e = s.event;
         e.status = "cancelled";
         return t.InsertEvent(e);
       }},
      {"odds snapshot_id",
       [&](WriteTxn& t) {
         ledger::OddsSnapshot o = s.odds;
         o.content_sha256 = "sha-other";
         return t.InsertOddsSnapshot(o);
       }},
      {"odds content_sha256",
       [&](WriteTxn& t) {
         ledger::OddsSnapshot o = s.odds;
         o.snapshot_id = "odds-other";
         return t.InsertOddsSnapshot(o);
       }},
      {"injury snapshot_id",
       [&](WriteTxn& t) {
         ledger::InjurySnapshot i = s.injury;
         i.content_sha256 = "sha-other";
         return t.InsertInjurySnapshot(i);
       }},
      {"injury content_sha256",
       [&](WriteTxn& t) {
         ledger::InjurySnapshot i = s.injury;
         i.snapshot_id = "injury-other";
         return t.InsertInjurySnapshot(i);
       }},
      {"sim_run_id", [&](WriteTxn& t) { return t.InsertSimRun(s.run); }},
      {"sim run input (sim_run_id, snapshot_id)",
       [&](WriteTxn& t) { return t.InsertSimRunInput(s.input); }},
      {"prediction_id", [&](WriteTxn& t) { return t.InsertPrediction(s.prediction); }},
      {"publish_id", with_new_entry([&](WriteTxn& t, int64_t index) {
         ledger::Publish p = s.publish;
         p.log_index = index;
         return t.InsertPublish(p);
       })},
      {"second publish of one prediction", with_new_entry([&](WriteTxn& t, int64_t index) {
         ledger::Publish p = MakePublish("pub-other", s.prediction.prediction_id);
         p.log_index = index;
         return t.InsertPublish(p);
       })},
      {"result_id", with_new_entry([&](WriteTxn& t, int64_t index) {
         ledger::EventResult r = s.result;
         r.revision = 2;
         r.log_index = index;
         return t.InsertEventResult(r);
       })},
      {"result (event_id, revision)", with_new_entry([&](WriteTxn& t, int64_t index) {
         ledger::EventResult r = MakeResult("res-other", s.result.event_id, s.result.revision);
         r.log_index = index;
         return t.InsertEventResult(r);
       })},
      {"calibration_version_id",
       [&](WriteTxn& t) {
         ledger::CalibrationVersion v = s.calibration;
         v.method = "platt";
         return t.InsertCalibrationVersion(v);
       }},
      {"calibration segment (calibration_version_id, segment_key)",
       [&](WriteTxn& t) {
         ledger::CalibrationSegment seg = s.segment;
         seg.fallback = "none";
         return t.InsertCalibrationSegment(seg);
       }},
      {"activation_id", with_new_entry([&](WriteTxn& t, int64_t index) {
         ledger::CalibrationActivation a = s.activation;
         a.log_index = index;
         return t.InsertCalibrationActivation(a);
       })},
      {"activation log_index",
       [&](WriteTxn& t) {
         ledger::CalibrationActivation a = MakeActivation("act-other", "cal-1");
         a.log_index = s.activation.log_index;
         return t.InsertCalibrationActivation(a);
       }},
      {"attempt_id", [&](WriteTxn& t) { return t.InsertRejectedAttempt(s.rejected); }},
      {"cleanup_id", [&](WriteTxn& t) { return t.InsertSnapshotCleanup(s.cleanup); }},
  };

  const std::map<std::string, int64_t> counts_before = CountRows();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status status = Write([&](WriteTxn& t) -> Status {
      // Fresh rows first: they must vanish with the failed transaction.
      RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-fresh")));
      RETURN_IF_ERROR(t.AppendLedgerEntry(MakeEntry("fresh")));
      return c.insert(t);
    });
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
    EXPECT_EQ(CountRows(), counts_before);
    EXPECT_EQ(LedgerSize(), kSeededLedgerSize);
    EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-fresh"); }), std::nullopt);
  }
  // The stored rows are untouched.
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-1"); }), s.event);
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-1"); }), s.odds);
  EXPECT_EQ(Read([](Reader& r) { return r.PublishForPrediction("pred-1"); }), s.publish);
  EXPECT_EQ(Read([](Reader& r) { return r.LatestResult("evt-1"); }), s.result);
  EXPECT_EQ(Read([](Reader& r) { return r.GetCalibrationVersion("cal-1"); }), s.calibration);
  EXPECT_THAT(ListCalibrationSegments("cal-1"), ElementsAre(s.segment));
  EXPECT_EQ(LatestActivation(), s.activation);
}

TEST_P(StoreContractTest, ReadsInsideAWriteSeeItsOwnUncommittedWrites) {
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-1")));
    ASSIGN_OR_RETURN(std::optional<ledger::Event> event, t.CurrentEvent("evt-1"));
    EXPECT_EQ(event, MakeEvent("evt-1"));
    RETURN_IF_ERROR(t.AppendLedgerEntry(MakeEntry("rec-0")));
    ASSIGN_OR_RETURN(int64_t size, t.LedgerSize());
    EXPECT_EQ(size, 1);
    return Status::Ok();
  }));
}

TEST_P(StoreContractTest, AWritesEffectsAreVisibleToAReadAfterItReturns) {
  for (int i = 0; i < 20; ++i) {
    const std::string id = "evt-" + std::to_string(i);
    ASSERT_OK(Write([&](WriteTxn& t) -> Status {
      RETURN_IF_ERROR(t.InsertEvent(MakeEvent(id)));
      return t.AppendLedgerEntry(MakeEntry(id)).status();
    }));
    EXPECT_EQ(Read([&](Reader& r) { return r.CurrentEvent(id); }), MakeEvent(id));
    EXPECT_EQ(LedgerSize(), i + 1);
  }
}

TEST_P(StoreContractTest, ReadReturnsTheCallbacksStatus) {
  Status s = store().Read([](Reader&) { return NotFound("no such thing"); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no such thing");
}

// ---- retention ----

TEST_P(StoreContractTest, DeleteOddsSnapshotReferencedBySimRunFailsWithFailedPrecondition) {
  const ledger::OddsSnapshot used = MakeOdds("odds-used");
  ASSERT_OK(Insert(used));
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  ASSERT_OK(Insert(MakeInput("run-1", used)));

  Status s = Write([](WriteTxn& t) { return t.DeleteOddsSnapshot("odds-used"); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-used"); }), used);
}

TEST_P(StoreContractTest, DeleteOddsSnapshotThatNoSimRunReadSucceeds) {
  ASSERT_OK(Insert(MakeOdds("odds-free")));
  ASSERT_OK(Insert(MakeOdds("odds-kept")));
  ASSERT_OK(Write([](WriteTxn& t) { return t.DeleteOddsSnapshot("odds-free"); }));
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-free"); }), std::nullopt);
  EXPECT_FALSE(Read([](Reader& r) { return r.FindSnapshotRef("odds-free"); }).has_value());
  EXPECT_EQ(CountRows()["odds_snapshots"], 1);
}

TEST_P(StoreContractTest, ListUnreferencedOddsSnapshotsIsOldestFirstStrictlyBeforeCutoff) {
  const ledger::OddsSnapshot used = MakeOdds("odds-used", "evt-1", At(1));
  ASSERT_OK(Insert(used));
  ASSERT_OK(Insert(MakeOdds("odds-old-b", "evt-1", At(3))));
  ASSERT_OK(Insert(MakeOdds("odds-old-a", "evt-2", At(2))));
  ASSERT_OK(Insert(MakeOdds("odds-at-cutoff", "evt-1", At(5))));
  ASSERT_OK(Insert(MakeOdds("odds-new", "evt-1", At(9))));
  ASSERT_OK(Insert(MakeInjury("injury-old")));  // injury snapshots are never listed
  ASSERT_OK(Insert(MakeSimRun("run-1")));
  ASSERT_OK(Insert(MakeInput("run-1", used)));

  EXPECT_THAT(Read([](Reader& r) { return r.ListUnreferencedOddsSnapshots(At(5), 100); }),
              ElementsAre("odds-old-a", "odds-old-b"));
  EXPECT_THAT(Read([](Reader& r) { return r.ListUnreferencedOddsSnapshots(At(5), 1); }),
              ElementsAre("odds-old-a"));
  EXPECT_THAT(Read([](Reader& r) { return r.ListUnreferencedOddsSnapshots(At(0), 100); }),
              IsEmpty());
}

// ---- gradings ----

TEST_P(StoreContractTest, GradingWithEveryOptionalNullRoundTripsWithItsLogIndex) {
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  Result<ledger::Grading> graded =
      InsertGraded(store(), MakeGrading("grd-1", "pub-1", "res-1", At(800)));
  ASSERT_OK(graded);
  EXPECT_EQ(graded->log_index, 2);  // after the publish and the result
  EXPECT_EQ(LedgerSize(), 3);
  EXPECT_THAT(Read([](Reader& r) { return r.ListGradings("pub-1"); }), ElementsAre(*graded));
}

TEST_P(StoreContractTest, GradingWithEveryOptionalSetRoundTrips) {
  ASSERT_OK(Insert(MakeOdds("odds-close", "evt-basketball", At(500))));
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  ledger::Grading g = MakeGrading("grd-1", "pub-1", "res-1", At(800));
  g.outcome = "HALF_WIN";
  g.stake_convention = "to_win";
  g.profit_units = 0.5 * 10.0 / 11.0;
  g.closing_snapshot_id = "odds-close";
  g.closing_price = 1.0 + 20.0 / 21.0;
  g.clv_price = -0.0123;
  g.clv_fair = 0.1 + 0.7;
  g.clv_prob_pts = -1.25;
  g.clv_note = "closing market de-vigged from two of three quotes";
  g.devig_method = "shin";
  g.prob_used = "calibrated";
  g.brier = 0.49;
  g.log_loss = 0.6931471805599453;
  Result<ledger::Grading> graded = InsertGraded(store(), g);
  ASSERT_OK(graded);
  EXPECT_THAT(Read([](Reader& r) { return r.ListGradings("pub-1"); }), ElementsAre(*graded));
}

TEST_P(StoreContractTest, GradingOptionalsSetToZeroOrEmptyStayDistinctFromNull) {
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  ledger::Grading g = MakeGrading("grd-1", "pub-1", "res-1", At(800));
  // (closing_snapshot_id must name a stored snapshot, so it cannot be empty.)
  g.closing_price = 0.0;
  g.clv_price = 0.0;
  g.clv_fair = 0.0;
  g.clv_prob_pts = 0.0;
  g.clv_note = "";
  g.brier = 0.0;
  g.log_loss = 0.0;
  Result<ledger::Grading> graded = InsertGraded(store(), g);
  ASSERT_OK(graded);
  EXPECT_THAT(Read([](Reader& r) { return r.ListGradings("pub-1"); }), ElementsAre(*graded));
}

TEST_P(StoreContractTest, ListGradingsReturnsOnlyThatPublishsGradingsOldestFirst) {
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(SeedPublished("pub-2", "basketball", "web", At(41)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball", 1)));
  ASSERT_OK(InsertRecorded(MakeResult("res-2", "evt-basketball", 2)));
  ASSERT_OK(InsertRecorded(MakeResult("res-3", "evt-basketball", 3)));
  // Ids out of alphabetical order, so only the insertion order explains the listing.
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-c", "pub-1", "res-1", At(801))));
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-other", "pub-2", "res-1", At(802))));
  ASSERT_OK(
      InsertGraded(store(), Superseding(MakeGrading("grd-a", "pub-1", "res-2", At(803)), "grd-c")));
  ASSERT_OK(
      InsertGraded(store(), Superseding(MakeGrading("grd-b", "pub-1", "res-3", At(804)), "grd-a")));

  EXPECT_THAT(GradingIds(Read([](Reader& r) { return r.ListGradings("pub-1"); })),
              ElementsAre("grd-c", "grd-a", "grd-b"));
  EXPECT_THAT(GradingIds(Read([](Reader& r) { return r.ListGradings("pub-2"); })),
              ElementsAre("grd-other"));
}

TEST_P(StoreContractTest, EveryDuplicateGradingKeyFailsWithAlreadyExistsAndTheWriteLeavesNothing) {
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  for (int revision = 1; revision <= 3; ++revision) {
    ASSERT_OK(
        InsertRecorded(MakeResult("res-" + std::to_string(revision), "evt-basketball", revision)));
  }
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-1", "pub-1", "res-1", At(801))));
  ASSERT_OK(
      InsertGraded(store(), Superseding(MakeGrading("grd-2", "pub-1", "res-2", At(802)), "grd-1")));

  // Each case repeats one unique key of the stored gradings or breaks the publish's one
  // linear history (a new grading supersedes exactly the current one).
  struct Case {
    std::string name;
    ledger::Grading grading;
  };
  const std::vector<Case> cases = {
      {"grading_id", Superseding(MakeGrading("grd-1", "pub-1", "res-3", At(803)), "grd-2")},
      {"second grading of one publish on one result",
       Superseding(MakeGrading("grd-new", "pub-1", "res-2", At(803)), "grd-2")},
      {"superseding an already superseded grading",
       Superseding(MakeGrading("grd-new", "pub-1", "res-3", At(803)), "grd-1")},
      {"a second current grading (superseding nothing)",
       MakeGrading("grd-new", "pub-1", "res-3", At(803))},
      {"superseding a grading that does not exist",
       Superseding(MakeGrading("grd-new", "pub-1", "res-3", At(803)), "grd-missing")},
  };

  const std::map<std::string, int64_t> counts_before = CountRows();
  const int64_t ledger_before = LedgerSize();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status status = Write([&](WriteTxn& t) -> Status {
      ledger::Grading g = c.grading;
      ASSIGN_OR_RETURN(g.log_index, t.AppendLedgerEntry(GradingEntry(g)));
      return t.InsertGrading(g);
    });
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
    EXPECT_EQ(CountRows(), counts_before);
    EXPECT_EQ(LedgerSize(), ledger_before);
  }
  EXPECT_THAT(GradingIds(Read([](Reader& r) { return r.ListGradings("pub-1"); })),
              ElementsAre("grd-1", "grd-2"));
}

TEST_P(StoreContractTest, GetGradingInputWithoutAResultHasTheCurrentEventAndNoResult) {
  ASSERT_OK(SeedPrediction("pred-1", "evt-1"));
  ASSERT_OK(Insert(MakeEvent("evt-1", 2)));
  Result<ledger::Publish> publish = InsertPublished(MakePublish("pub-1", "pred-1"));
  ASSERT_OK(publish);
  ASSERT_OK(InsertRecorded(MakeResult("res-other", "evt-2")));  // another event's result

  std::optional<GradingInput> input = Read([](Reader& r) { return r.GetGradingInput("pub-1"); });
  ASSERT_TRUE(input.has_value());
  EXPECT_THAT(*input, IsGradingInput(*publish, MakePrediction("pred-1", "run-pred-1", "evt-1"),
                                     MakeEvent("evt-1", 2), std::nullopt));
}

TEST_P(StoreContractTest, GetGradingInputHasTheLatestResultAndTheCurrentGrading) {
  ASSERT_OK(SeedPrediction("pred-1", "evt-1"));
  Result<ledger::Publish> publish = InsertPublished(MakePublish("pub-1", "pred-1"));
  ASSERT_OK(publish);
  const ledger::Prediction prediction = MakePrediction("pred-1", "run-pred-1", "evt-1");
  Result<ledger::EventResult> first = InsertRecorded(MakeResult("res-1", "evt-1", 1));
  ASSERT_OK(first);
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-1", "pub-1", "res-1", At(801))));
  auto input = [&] { return Read([](Reader& r) { return r.GetGradingInput("pub-1"); }); };
  EXPECT_THAT(input(), Optional(IsGradingInput(*publish, prediction, MakeEvent("evt-1"), *first,
                                               "grd-1", "res-1")));

  ledger::EventResult correction = MakeResult("res-2", "evt-1", 2);
  correction.supersedes = "res-1";
  Result<ledger::EventResult> second = InsertRecorded(correction);
  ASSERT_OK(second);
  EXPECT_THAT(input(), Optional(IsGradingInput(*publish, prediction, MakeEvent("evt-1"), *second,
                                               "grd-1", "res-1")));

  ASSERT_OK(
      InsertGraded(store(), Superseding(MakeGrading("grd-2", "pub-1", "res-2", At(802)), "grd-1")));
  EXPECT_THAT(input(), Optional(IsGradingInput(*publish, prediction, MakeEvent("evt-1"), *second,
                                               "grd-2", "res-2")));
}

TEST_P(StoreContractTest, ListPendingGradingsHasAPublishWithAResultUntilItIsGradedOnIt) {
  Result<ledger::Publish> publish = SeedPublished("pub-1", "basketball", "web", At(40));
  ASSERT_OK(publish);
  ASSERT_OK(SeedPublished("pub-no-result", "hockey", "web", At(41)));
  Result<ledger::EventResult> result = InsertRecorded(MakeResult("res-1", "evt-basketball"));
  ASSERT_OK(result);
  auto pending = [&] { return Read([](Reader& r) { return r.ListPendingGradings(-1, 100); }); };

  EXPECT_THAT(pending(),
              ElementsAre(IsGradingInput(
                  *publish, MakePrediction("pred-pub-1", "run-pred-pub-1", "evt-basketball"),
                  MakeEvent("evt-basketball"), *result)));

  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-1", "pub-1", "res-1", At(800))));
  EXPECT_THAT(pending(), IsEmpty());
}

TEST_P(StoreContractTest, ListPendingGradingsHasAGradedPublishAgainWhenANewResultRevisionArrives) {
  Result<ledger::Publish> publish = SeedPublished("pub-1", "basketball", "web", At(40));
  ASSERT_OK(publish);
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball", 1)));
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-1", "pub-1", "res-1", At(800))));
  auto pending = [&] { return Read([](Reader& r) { return r.ListPendingGradings(-1, 100); }); };
  ASSERT_THAT(pending(), IsEmpty());

  ledger::EventResult correction = MakeResult("res-2", "evt-basketball", 2);
  correction.supersedes = "res-1";
  Result<ledger::EventResult> second = InsertRecorded(correction);
  ASSERT_OK(second);
  EXPECT_THAT(pending(),
              ElementsAre(IsGradingInput(
                  *publish, MakePrediction("pred-pub-1", "run-pred-pub-1", "evt-basketball"),
                  MakeEvent("evt-basketball"), *second, "grd-1", "res-1")));

  ASSERT_OK(
      InsertGraded(store(), Superseding(MakeGrading("grd-2", "pub-1", "res-2", At(801)), "grd-1")));
  EXPECT_THAT(pending(), IsEmpty());
}

TEST_P(StoreContractTest, ListPendingGradingsIsInLogOrderAfterTheGivenIndexUpToTheLimit) {
  // Log order differs from both id order and publish-time order.
  ASSERT_OK(SeedPublished("pub-z", "basketball", "web", At(3)));       // log 0
  ASSERT_OK(SeedPublished("pub-a", "basketball", "web", At(1)));       // log 1
  ASSERT_OK(SeedPublished("pub-hockey", "hockey", "web", At(0)));      // log 2: no result
  ASSERT_OK(SeedPublished("pub-m", "basketball", "web", At(2)));       // log 3
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));    // log 4
  ASSERT_OK(SeedPublished("pub-graded", "basketball", "web", At(4)));  // log 5
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-1", "pub-graded", "res-1", At(800))));
  auto pending = [&](int64_t after_log_index, int limit) {
    return PublishIds(
        Read([&](Reader& r) { return r.ListPendingGradings(after_log_index, limit); }));
  };

  EXPECT_THAT(pending(-1, 100), ElementsAre("pub-z", "pub-a", "pub-m"));
  EXPECT_THAT(pending(0, 100), ElementsAre("pub-a", "pub-m"));  // strictly after
  EXPECT_THAT(pending(1, 100), ElementsAre("pub-m"));
  EXPECT_THAT(pending(3, 100), IsEmpty());
  EXPECT_THAT(pending(-1, 2), ElementsAre("pub-z", "pub-a"));
  EXPECT_THAT(pending(1, 1), ElementsAre("pub-m"));  // the page after the first two
}

// ---- closing lines ----

TEST_P(StoreContractTest, ListClosingCandidatesIsNewestFirstAtOrBeforeTheGivenTime) {
  for (int minute : {3, 1, 6, 5}) {
    ASSERT_OK(Insert(MakeOdds("odds-" + std::to_string(minute), "evt-1", At(minute))));
  }
  auto closing = [&](const ClosingQuery& q) {
    return Read([&](Reader& r) { return r.ListClosingCandidates(q); });
  };
  std::vector<ledger::OddsSnapshot> candidates =
      closing(ClosingLinesOf("evt-1", "pinnacle", "moneyline", At(5)));
  EXPECT_THAT(Ids(candidates), ElementsAre("odds-5", "odds-3", "odds-1"));
  ASSERT_FALSE(candidates.empty());
  EXPECT_EQ(candidates.front(), WithoutRaw(MakeOdds("odds-5", "evt-1", At(5))));
  EXPECT_THAT(Ids(closing(ClosingLinesOf("evt-1", "pinnacle", "moneyline", At(5)).Limit(2))),
              ElementsAre("odds-5", "odds-3"));
  EXPECT_THAT(Ids(closing(ClosingLinesOf("evt-1", "pinnacle", "moneyline", At(4)))),
              ElementsAre("odds-3", "odds-1"));
  EXPECT_THAT(closing(ClosingLinesOf("evt-1", "pinnacle", "moneyline", At(0))), IsEmpty());
}

TEST_P(StoreContractTest, ListClosingCandidatesAreOfTheSameEventBookAndMarketOnly) {
  ASSERT_OK(Insert(MakeOdds("odds-wanted", "evt-1", At(1), "pinnacle", "moneyline")));
  ASSERT_OK(Insert(MakeOdds("odds-other-event", "evt-2", At(2), "pinnacle", "moneyline")));
  ASSERT_OK(Insert(MakeOdds("odds-other-book", "evt-1", At(3), "draftkings", "moneyline")));
  ASSERT_OK(Insert(MakeOdds("odds-other-market", "evt-1", At(4), "pinnacle", "spread")));
  EXPECT_THAT(
      Ids(Read([](Reader& r) {
        return r.ListClosingCandidates(ClosingLinesOf("evt-1", "pinnacle", "moneyline", At(10)));
      })),
      ElementsAre("odds-wanted"));
}

TEST_P(StoreContractTest, ListClosingCandidatesOfAPlayerPropMatchPlayerAndStat) {
  auto prop = [](const std::string& id, int minute, std::optional<std::string> player,
                 std::optional<std::string> stat) {
    ledger::OddsSnapshot s = MakeOdds(id, "evt-1", At(minute), "pinnacle", "player_props");
    s.player = std::move(player);
    s.stat = std::move(stat);
    return s;
  };
  const ledger::OddsSnapshot doe_points = prop("odds-doe-points", 1, "J. Doe", "points");
  ASSERT_OK(Insert(doe_points));
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-doe-points"); }), doe_points);
  ASSERT_OK(Insert(prop("odds-doe-rebounds", 2, "J. Doe", "rebounds")));
  ASSERT_OK(Insert(prop("odds-roe-points", 3, "A. Roe", "points")));
  ASSERT_OK(Insert(prop("odds-no-player", 4, std::nullopt, std::nullopt)));
  auto closing = [&](const ClosingQuery& q) {
    return Read([&](Reader& r) { return r.ListClosingCandidates(q); });
  };

  EXPECT_THAT(
      closing(ClosingLinesOf("evt-1", "pinnacle", "player_props", At(10)).Prop("J. Doe", "points")),
      ElementsAre(WithoutRaw(doe_points)));
  EXPECT_THAT(
      Ids(closing(
          ClosingLinesOf("evt-1", "pinnacle", "player_props", At(10)).Prop("A. Roe", "points"))),
      ElementsAre("odds-roe-points"));
  EXPECT_THAT(
      closing(
          ClosingLinesOf("evt-1", "pinnacle", "player_props", At(10)).Prop("A. Roe", "rebounds")),
      IsEmpty());
  // No player matches only snapshots without one.
  EXPECT_THAT(Ids(closing(ClosingLinesOf("evt-1", "pinnacle", "player_props", At(10)))),
              ElementsAre("odds-no-player"));
}

// ---- grading summary ----

TEST_P(StoreContractTest, SumGradingsGroupsByOutcomeAndCountsNullsSeparately) {
  struct Scored {
    std::string outcome;
    double stake;
    double profit_units;
    std::optional<double> clv_price, clv_fair, clv_prob_pts, brier, log_loss;
  };
  const std::vector<Scored> scored = {
      // outcome stake profit clv_price clv_fair clv_prob_pts brier log_loss
      {"WIN", 2, 1.5, 0.25, 0.125, 1.5, 0.25, 0.5},                           // beat the close
      {"WIN", 1, 0.75, 0.5, std::nullopt, std::nullopt, 0.0625, 0.25},        // closing price only
      {"WIN", 1, 1, std::nullopt, std::nullopt, std::nullopt, 0.125, 0.375},  // no closing line
      {"LOSS", 1, -1, -0.25, -0.125, -2.5, 0.5625, 1.25},
      {"PUSH", 1, 0, 0, 0, 0, std::nullopt, std::nullopt},  // zero CLV is not beating the close
  };
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  for (size_t i = 0; i < scored.size(); ++i) {
    const std::string n = std::to_string(i);
    ASSERT_OK(SeedPublished("pub-" + n, "basketball", "web", At(40)));
    ledger::Grading g = MakeGrading("grd-" + n, "pub-" + n, "res-1", At(800));
    g.outcome = scored[i].outcome;
    g.stake = scored[i].stake;
    g.profit_units = scored[i].profit_units;
    g.clv_price = scored[i].clv_price;
    g.clv_fair = scored[i].clv_fair;
    g.clv_prob_pts = scored[i].clv_prob_pts;
    g.brier = scored[i].brier;
    g.log_loss = scored[i].log_loss;
    ASSERT_OK(InsertGraded(store(), g));
  }

  // Every value is a short binary fraction, so the sums are exact in any order.
  EXPECT_THAT(Read([](Reader& r) { return r.SumGradings(GradingsWhere()); }),
              UnorderedElementsAre(GradingTotals{.outcome = "LOSS",
                                                 .n = 1,
                                                 .stake = 1,
                                                 .profit_units = -1,
                                                 .clv_price_sum = -0.25,
                                                 .clv_price_n = 1,
                                                 .clv_fair_sum = -0.125,
                                                 .clv_prob_pts_sum = -2.5,
                                                 .clv_n = 1,
                                                 .beat_close_n = 0,
                                                 .brier_sum = 0.5625,
                                                 .log_loss_sum = 1.25,
                                                 .scored_n = 1},
                                   GradingTotals{.outcome = "PUSH",
                                                 .n = 1,
                                                 .stake = 1,
                                                 .profit_units = 0,
                                                 .clv_price_sum = 0,
                                                 .clv_price_n = 1,
                                                 .clv_fair_sum = 0,
                                                 .clv_prob_pts_sum = 0,
                                                 .clv_n = 1,
                                                 .beat_close_n = 0,
                                                 .brier_sum = 0,
                                                 .log_loss_sum = 0,
                                                 .scored_n = 0},
                                   GradingTotals{.outcome = "WIN",
                                                 .n = 3,
                                                 .stake = 4,
                                                 .profit_units = 3.25,
                                                 .clv_price_sum = 0.75,
                                                 .clv_price_n = 2,
                                                 .clv_fair_sum = 0.125,
                                                 .clv_prob_pts_sum = 1.5,
                                                 .clv_n = 1,
                                                 .beat_close_n = 1,
                                                 .brier_sum = 0.4375,
                                                 .log_loss_sum = 1.125,
                                                 .scored_n = 3}));
}

TEST_P(StoreContractTest, SumGradingsCountsOnlyTheCurrentGradingOfEachPublish) {
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(SeedPublished("pub-2", "basketball", "web", At(41)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball", 1)));
  ledger::Grading win = MakeGrading("grd-1", "pub-1", "res-1", At(800));
  win.outcome = "WIN";
  ASSERT_OK(InsertGraded(store(), win));
  win.grading_id = "grd-2";
  win.publish_id = "pub-2";
  ASSERT_OK(InsertGraded(store(), win));  // not regraded yet: stays current

  ledger::EventResult correction = MakeResult("res-2", "evt-basketball", 2);
  correction.supersedes = "res-1";
  ASSERT_OK(InsertRecorded(correction));
  ledger::Grading loss = Superseding(MakeGrading("grd-3", "pub-1", "res-2", At(801)), "grd-1");
  loss.outcome = "LOSS";
  ASSERT_OK(InsertGraded(store(), loss));

  std::map<std::string, int64_t> n_by_outcome;
  for (const GradingTotals& t : Read([](Reader& r) { return r.SumGradings(GradingsWhere()); })) {
    n_by_outcome[t.outcome] += t.n;
  }
  EXPECT_THAT(n_by_outcome, ElementsAre(Pair("LOSS", 1), Pair("WIN", 1)));
}

TEST_P(StoreContractTest, SumGradingsHonoursEveryFilter) {
  // Each publish differs from pub-base in the one attribute its id names, and stakes a
  // distinct power of two, so the summed stake of a summary names exactly what it counted.
  struct Graded {
    std::string publish_id;
    std::string event_id = "evt-nba";
    std::string market = "moneyline";
    std::string tier = "B";
    std::string book = "pinnacle";
    std::string channel = "web";
    int published_minute = 40;
  };
  const std::vector<Graded> graded = {
      {.publish_id = "pub-base"},
      {.publish_id = "pub-hockey", .event_id = "evt-hockey"},
      {.publish_id = "pub-wnba", .event_id = "evt-wnba"},
      {.publish_id = "pub-spread", .market = "spread"},
      {.publish_id = "pub-tier-a", .tier = "A"},
      {.publish_id = "pub-draftkings", .book = "draftkings"},
      {.publish_id = "pub-email", .channel = "email"},
      {.publish_id = "pub-early", .published_minute = 30},
      {.publish_id = "pub-late", .published_minute = 50},
  };
  ledger::Event wnba = MakeEvent("evt-wnba");
  wnba.league = "WNBA";
  ASSERT_OK(Write([&](WriteTxn& t) -> Status {
    RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-nba")));
    RETURN_IF_ERROR(t.InsertEvent(MakeEvent("evt-hockey", 1, "hockey")));
    RETURN_IF_ERROR(t.InsertEvent(wnba));
    return t.InsertSimRun(MakeSimRun("run-1"));
  }));
  for (const std::string event_id : {"evt-nba", "evt-hockey", "evt-wnba"}) {
    ASSERT_OK(InsertRecorded(MakeResult("res-" + event_id, event_id)));
  }
  for (size_t i = 0; i < graded.size(); ++i) {
    const Graded& row = graded[i];
    ledger::Prediction prediction = MakePrediction("pred-" + row.publish_id, "run-1", row.event_id);
    prediction.market = row.market;
    prediction.tier = row.tier;
    prediction.book = row.book;
    ASSERT_OK(Insert(prediction));
    ASSERT_OK(InsertPublished(MakePublish(row.publish_id, prediction.prediction_id,
                                          At(row.published_minute), row.channel)));
    ledger::Grading g =
        MakeGrading("grd-" + row.publish_id, row.publish_id, "res-" + row.event_id, At(800));
    g.outcome = i % 2 == 0 ? "WIN" : "LOSS";
    g.stake = static_cast<double>(int64_t{1} << i);
    ASSERT_OK(InsertGraded(store(), g));
  }

  auto counted = [&](const GradingQuery& q) {
    int64_t stake_bits = 0;
    int64_t n = 0;
    for (const GradingTotals& t : Read([&](Reader& r) { return r.SumGradings(q); })) {
      stake_bits += static_cast<int64_t>(t.stake);
      n += t.n;
    }
    std::vector<std::string> ids;
    for (size_t i = 0; i < graded.size(); ++i) {
      if ((stake_bits >> i) & 1) ids.push_back(graded[i].publish_id);
    }
    EXPECT_EQ(n, static_cast<int64_t>(ids.size()));
    return ids;
  };
  auto all_but = [&](const std::string& excluded) {
    std::vector<std::string> ids;
    for (const Graded& row : graded) {
      if (row.publish_id != excluded) ids.push_back(row.publish_id);
    }
    return ids;
  };

  EXPECT_THAT(counted(GradingsWhere()), ElementsAreArray(all_but("")));
  EXPECT_THAT(counted(GradingsWhere().Sport("hockey")), ElementsAre("pub-hockey"));
  EXPECT_THAT(counted(GradingsWhere().Sport("basketball")),
              ElementsAreArray(all_but("pub-hockey")));
  EXPECT_THAT(counted(GradingsWhere().League("WNBA")), ElementsAre("pub-wnba"));
  EXPECT_THAT(counted(GradingsWhere().League("NBA")), ElementsAreArray(all_but("pub-wnba")));
  EXPECT_THAT(counted(GradingsWhere().Market("spread")), ElementsAre("pub-spread"));
  EXPECT_THAT(counted(GradingsWhere().Tier("A")), ElementsAre("pub-tier-a"));
  EXPECT_THAT(counted(GradingsWhere().Channel("email")), ElementsAre("pub-email"));
  EXPECT_THAT(counted(GradingsWhere().Book("draftkings")), ElementsAre("pub-draftkings"));
  // The publish-time bounds are inclusive at both ends.
  EXPECT_THAT(counted(GradingsWhere().From(At(40))), ElementsAreArray(all_but("pub-early")));
  EXPECT_THAT(counted(GradingsWhere().Until(At(40))), ElementsAreArray(all_but("pub-late")));
  EXPECT_THAT(counted(GradingsWhere().From(At(50)).Until(At(50))), ElementsAre("pub-late"));
  EXPECT_THAT(counted(GradingsWhere().From(At(41)).Until(At(49))), IsEmpty());
  // Filters combine.
  EXPECT_THAT(counted(GradingsWhere().Sport("basketball").Channel("email")),
              ElementsAre("pub-email"));
  EXPECT_THAT(counted(GradingsWhere().Tier("A").Book("draftkings")), IsEmpty());
  EXPECT_THAT(Read([](Reader& r) { return r.SumGradings(GradingsWhere().Sport("cricket")); }),
              IsEmpty());
}

// ---- retention of closing lines ----

TEST_P(StoreContractTest, ListUnreferencedOddsSnapshotsExcludesAGradingsClosingSnapshot) {
  ASSERT_OK(Insert(MakeOdds("odds-closing", "evt-basketball", At(1))));
  ASSERT_OK(Insert(MakeOdds("odds-free", "evt-basketball", At(2))));
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  ledger::Grading g = MakeGrading("grd-1", "pub-1", "res-1", At(800));
  g.closing_snapshot_id = "odds-closing";
  ASSERT_OK(InsertGraded(store(), g));

  EXPECT_THAT(Read([](Reader& r) { return r.ListUnreferencedOddsSnapshots(At(5), 100); }),
              ElementsAre("odds-free"));
}

TEST_P(StoreContractTest, DeleteOddsSnapshotThatIsAGradingsClosingLineFailsWithFailedPrecondition) {
  const ledger::OddsSnapshot closing = MakeOdds("odds-closing", "evt-basketball", At(1));
  ASSERT_OK(Insert(closing));
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  ledger::Grading g = MakeGrading("grd-1", "pub-1", "res-1", At(800));
  g.closing_snapshot_id = "odds-closing";
  ASSERT_OK(InsertGraded(store(), g));

  Status s = Write([](WriteTxn& t) { return t.DeleteOddsSnapshot("odds-closing"); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-closing"); }), closing);
}

TEST_P(StoreContractTest, CountRowsCountsGradings) {
  ASSERT_TRUE(CountRows().contains("grading"));
  EXPECT_EQ(CountRows().at("grading"), 0);
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));
  ASSERT_OK(InsertRecorded(MakeResult("res-1", "evt-basketball")));
  ASSERT_OK(InsertGraded(store(), MakeGrading("grd-1", "pub-1", "res-1", At(800))));
  EXPECT_EQ(CountRows().at("grading"), 1);
}

// ---- calibration ----

TEST_P(StoreContractTest, CalibrationVersionsRoundTripExactly) {
  const ledger::CalibrationVersion passed = MakeCalibrationVersion("cal-passed");
  ledger::CalibrationVersion failed = MakeCalibrationVersion("cal-failed", At(91));
  failed.method = "platt";
  failed.n = 0;
  failed.settings_json = "{}";
  failed.gates_json = R"([{"name":"min_n","passed":false,"threshold":200,"value":0}])";
  failed.gates_passed = false;
  ASSERT_OK(Insert(passed));
  ASSERT_OK(Insert(failed));
  EXPECT_EQ(Read([](Reader& r) { return r.GetCalibrationVersion("cal-passed"); }), passed);
  EXPECT_EQ(Read([](Reader& r) { return r.GetCalibrationVersion("cal-failed"); }), failed);
}

TEST_P(StoreContractTest, CalibrationSegmentsRoundTripExactly) {
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-1")));
  const ledger::CalibrationSegment fallen_back =
      MakeCalibrationSegment("cal-1", "sport=basketball|tier=A|market=spread");
  ledger::CalibrationSegment own = MakeCalibrationSegment("cal-1", "sport=basketball|tier=B");
  own.fitted_on = own.segment_key;
  own.fallback = "none";
  own.n = std::numeric_limits<int64_t>::max();
  own.params_json = R"({"a":-1.0000000000000002,"b":5e-324,"method":"platt"})";
  own.bins_json = "[]";
  ASSERT_OK(Insert(fallen_back));
  ASSERT_OK(Insert(own));
  EXPECT_THAT(ListCalibrationSegments("cal-1"), ElementsAre(fallen_back, own));
}

TEST_P(StoreContractTest, CalibrationActivationRoundTripsWithItsLogIndex) {
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-1")));
  ASSERT_OK(SeedPublished("pub-1", "basketball", "web", At(40)));  // log 0
  Result<ledger::CalibrationActivation> forced = InsertActivated(MakeActivation("act-1", "cal-1"));
  ASSERT_OK(forced);
  EXPECT_EQ(forced->log_index, 1);
  EXPECT_EQ(LatestActivation(), *forced);
  std::vector<ledger::LedgerEntry> entries = ListLedger(1, 10);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, "calibration_activation");
  EXPECT_EQ(entries[0].record_id, "act-1");

  ledger::CalibrationActivation routine = MakeActivation("act-2", "cal-1", At(96));
  routine.actor = "scheduler";
  routine.reason = "";
  routine.forced = false;
  Result<ledger::CalibrationActivation> activated = InsertActivated(routine);
  ASSERT_OK(activated);
  EXPECT_EQ(activated->log_index, 2);
  EXPECT_EQ(LatestActivation(), *activated);
}

TEST_P(StoreContractTest, ActivationOfAnUnknownVersionFailsWithFailedPreconditionAndLeavesNothing) {
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-1")));
  Result<ledger::CalibrationActivation> live = InsertActivated(MakeActivation("act-1", "cal-1"));
  ASSERT_OK(live);
  const std::map<std::string, int64_t> counts_before = CountRows();

  Result<ledger::CalibrationActivation> unknown =
      InsertActivated(MakeActivation("act-2", "cal-missing"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition)
      << unknown.status().ToString();
  EXPECT_EQ(CountRows(), counts_before);
  EXPECT_EQ(LedgerSize(), 1);
  EXPECT_EQ(LatestActivation(), *live);
}

TEST_P(StoreContractTest, SegmentOfAnUnknownVersionFailsWithFailedPreconditionAndLeavesNothing) {
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-1")));
  const std::map<std::string, int64_t> counts_before = CountRows();
  Status s = Insert(MakeCalibrationSegment("cal-missing", "global"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(CountRows(), counts_before);
  EXPECT_THAT(ListCalibrationSegments("cal-missing"), IsEmpty());
}

TEST_P(StoreContractTest, LatestActivationIsTheOneWithTheHighestLogIndex) {
  EXPECT_EQ(LatestActivation(), std::nullopt);
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-a")));
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-b")));
  EXPECT_EQ(LatestActivation(), std::nullopt);  // a version alone is not live

  // Activation times fall and ids are out of order: only the log explains which is last.
  // Activating cal-a again after cal-b makes it live again.
  for (const auto& [activation_id, version_id, minute] :
       std::vector<std::tuple<std::string, std::string, int>>{
           {"act-z", "cal-a", 300}, {"act-a", "cal-b", 200}, {"act-m", "cal-a", 100}}) {
    Result<ledger::CalibrationActivation> activated =
        InsertActivated(MakeActivation(activation_id, version_id, At(minute)));
    ASSERT_OK(activated);
    EXPECT_EQ(LatestActivation(), *activated);
  }
  EXPECT_EQ(CountRows().at("calibration_activations"), 3);
}

TEST_P(StoreContractTest, ListCalibrationVersionsIsNewestFirstUpToTheLimit) {
  // Neither id order nor insertion order is creation order.
  for (const auto& [version_id, minute] : std::vector<std::pair<std::string, int>>{
           {"cal-x", 2}, {"cal-m", 4}, {"cal-z", 1}, {"cal-a", 3}}) {
    ASSERT_OK(Insert(MakeCalibrationVersion(version_id, At(minute))));
  }
  EXPECT_THAT(VersionIds(ListCalibrationVersions(10)),
              ElementsAre("cal-m", "cal-a", "cal-x", "cal-z"));
  EXPECT_THAT(ListCalibrationVersions(2), ElementsAre(MakeCalibrationVersion("cal-m", At(4)),
                                                      MakeCalibrationVersion("cal-a", At(3))));
  EXPECT_THAT(VersionIds(ListCalibrationVersions(1)), ElementsAre("cal-m"));
}

TEST_P(StoreContractTest, ListCalibrationSegmentsIsByKeyAndOfThatVersionOnly) {
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-1")));
  ASSERT_OK(Insert(MakeCalibrationVersion("cal-2")));
  for (const std::string key :
       {"sport=hockey", "sport=basketball|tier=B", "global", "sport=basketball|tier=A"}) {
    ASSERT_OK(Insert(MakeCalibrationSegment("cal-1", key)));
  }
  // The same key in another version is another segment.
  ASSERT_OK(Insert(MakeCalibrationSegment("cal-2", "sport=basketball|tier=A")));

  EXPECT_THAT(
      SegmentKeys(ListCalibrationSegments("cal-1")),
      ElementsAre("global", "sport=basketball|tier=A", "sport=basketball|tier=B", "sport=hockey"));
  EXPECT_THAT(ListCalibrationSegments("cal-2"),
              ElementsAre(MakeCalibrationSegment("cal-2", "sport=basketball|tier=A")));
  EXPECT_EQ(CountRows().at("calibration_segments"), 5);
}

// ---- calibration training rows ----

TEST_P(StoreContractTest, ListTrainingRowsHasEachDecidedCurrentGradingOnceByTimeThenId) {
  ASSERT_OK(SeedTrainingHistory());
  // Not PUSH, VOID, ungraded, or regraded to a PUSH; a regraded publish appears once.
  EXPECT_THAT(PublishIds(ListTrainingRows(At(0), At(100))),
              ElementsAre("pub-early", "pub-from", "pub-tie-a", "pub-tie-b", "pub-regraded",
                          "pub-half-loss", "pub-from-void", "pub-to", "pub-late"));
}

TEST_P(StoreContractTest, ListTrainingRowsCarryTheSegmentTheRawProbabilityAndTheCurrentOutcome) {
  ASSERT_OK(SeedTrainingHistory());
  // pub-tie-b's sport is its event's current revision's; pub-regraded and pub-from-void have
  // the outcome of the grading that superseded their first.
  EXPECT_THAT(
      ListTrainingRows(At(20), At(27)),
      ElementsAre(
          TrainingRow{At(20), "pub-tie-a", "basketball", "C", "total", 2.0 / 3.0, "HALF_WIN"},
          TrainingRow{At(20), "pub-tie-b", "soccer", "B", "spread", 1.0 / 3.0, "LOSS"},
          TrainingRow{At(24), "pub-regraded", "basketball", "B", "moneyline", 0.1 + 0.2, "LOSS"},
          TrainingRow{At(25), "pub-half-loss", "basketball", "B", "moneyline", 0.1 + 0.2,
                      "HALF_LOSS"},
          TrainingRow{At(27), "pub-from-void", "basketball", "B", "moneyline", 0.1 + 0.2, "WIN"}));
}

TEST_P(StoreContractTest, ListTrainingRowsRangeIsInclusiveAtBothEnds) {
  ASSERT_OK(SeedTrainingHistory());
  EXPECT_THAT(PublishIds(ListTrainingRows(At(10), At(30))),
              ElementsAre("pub-from", "pub-tie-a", "pub-tie-b", "pub-regraded", "pub-half-loss",
                          "pub-from-void", "pub-to"));
  EXPECT_THAT(PublishIds(ListTrainingRows(At(20), At(20))), ElementsAre("pub-tie-a", "pub-tie-b"));
  EXPECT_THAT(PublishIds(ListTrainingRows(At(9), At(9))), ElementsAre("pub-early"));
  EXPECT_THAT(PublishIds(ListTrainingRows(At(31), At(31))), ElementsAre("pub-late"));
  // No decided publish lies in [21, 23].
  EXPECT_THAT(ListTrainingRows(At(21), At(23)), IsEmpty());
  // A bound one millisecond off excludes the publish at it.
  EXPECT_THAT(
      PublishIds(ListTrainingRows(At(10) + std::chrono::milliseconds(1),
                                  At(30) - std::chrono::milliseconds(1))),
      ElementsAre("pub-tie-a", "pub-tie-b", "pub-regraded", "pub-half-loss", "pub-from-void"));
}

// ---- idempotency ----

TEST_P(StoreContractTest, IdempotentResponseFirstWriterWins) {
  const ledger::IdempotentResponse first = MakeIdempotent("/api/publish key-1", "first");
  ASSERT_OK(Insert(first));
  ASSERT_OK(Insert(MakeIdempotent("/api/publish key-1", "second")));
  EXPECT_EQ(Read([](Reader& r) { return r.GetIdempotentResponse("/api/publish key-1"); }), first);
}

// ---- health ----

TEST_P(StoreContractTest, CountRowsHasEveryLedgerTable) {
  std::map<std::string, int64_t> empty = CountRows();
  for (const std::string& table : LedgerTables()) {
    ASSERT_TRUE(empty.contains(table)) << table;
    EXPECT_EQ(empty[table], 0) << table;
  }

  ASSERT_OK(SeedEveryTable());
  std::map<std::string, int64_t> seeded = CountRows();
  for (const std::string& table : LedgerTables()) {
    EXPECT_EQ(seeded[table], table == "ledger_entries" ? kSeededLedgerSize : 1) << table;
  }
}

// ---- concurrency ----

TEST_P(StoreContractTest, ThirtyTwoConcurrentWritesAllSucceedAndTheLogIsGapFree) {
  constexpr int kThreads = 32;
  std::vector<Status> statuses(kThreads);
  std::vector<int64_t> indexes(kThreads, -1);
  std::vector<int> visible_after_return(kThreads, 0);  // not vector<bool>: threads write it
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = "thread-" + std::to_string(i);
      start.arrive_and_wait();
      statuses[i] = store().Write([&](WriteTxn& t) -> Status {
        RETURN_IF_ERROR(t.InsertEvent(MakeEvent(id)));
        ASSIGN_OR_RETURN(indexes[i], t.AppendLedgerEntry(MakeEntry(id)));
        return Status::Ok();
      });
      Status read = store().Read([&](Reader& r) -> Status {
        ASSIGN_OR_RETURN(std::optional<ledger::Event> event, r.CurrentEvent(id));
        visible_after_return[i] = event.has_value();
        return Status::Ok();
      });
      if (!read.ok()) statuses[i] = read;
    });
  }
  for (std::thread& t : threads) t.join();

  for (int i = 0; i < kThreads; ++i) {
    EXPECT_OK(statuses[i]) << "thread " << i;
    EXPECT_TRUE(visible_after_return[i]) << "thread " << i;
  }
  std::vector<int64_t> sorted = indexes;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(LedgerSize(), kThreads);

  std::vector<ledger::LedgerEntry> entries = ListLedger(0, 2 * kThreads);
  ASSERT_EQ(entries.size(), static_cast<size_t>(kThreads));
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(entries[indexes[i]].log_index, indexes[i]);
    EXPECT_EQ(entries[indexes[i]].record_id, "thread-" + std::to_string(i));
  }
  EXPECT_EQ(CountRows()["events"], kThreads);
}

}  // namespace
}  // namespace truthbook::store
