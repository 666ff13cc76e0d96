// The store contract suite (fixture and parameter in store_contract_test.h). Each backend
// instantiates it in its own test file; this file is the one copy of the tests.

#include "store/store_contract_test.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <latch>
#include <thread>

namespace truthbook::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

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
    EXPECT_EQ(LedgerSize(), 2);
    EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-fresh"); }), std::nullopt);
  }
  // The stored rows are untouched.
  EXPECT_EQ(Read([](Reader& r) { return r.CurrentEvent("evt-1"); }), s.event);
  EXPECT_EQ(Read([](Reader& r) { return r.GetOddsSnapshot("odds-1"); }), s.odds);
  EXPECT_EQ(Read([](Reader& r) { return r.PublishForPrediction("pred-1"); }), s.publish);
  EXPECT_EQ(Read([](Reader& r) { return r.LatestResult("evt-1"); }), s.result);
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
    EXPECT_EQ(seeded[table], table == "ledger_entries" ? 2 : 1) << table;
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
