// Acceptance 3 of issue 2: publish semantics over HTTP against the real server (replay,
// conflict, concurrency, refusal after the start) and the gap-free ledger behind them.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    flow_ = CreateSeedFlow(server_, "nba-publish", "2099-01-01T00:30:00Z", 3);
    ASSERT_EQ(flow_.prediction_ids.size(), 3u);
  }

  std::vector<HttpResult> PublishConcurrently(int n, const std::function<json(int)>& body_for) {
    return PostConcurrently({&server_}, "publish", n, body_for);
  }

  ServerProcess server_;
  SeedFlow flow_;
};

TEST_F(PublishTest, FirstPublishIsCreatedWithItsLogIndex) {
  HttpResult r = server_.Post("publish", PublishBody(flow_.prediction_ids[0]));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json doc = r.Json();
  EXPECT_EQ(doc["created"], true);
  EXPECT_EQ(doc["prediction_id"], flow_.prediction_ids[0]);
  EXPECT_EQ(doc["channel"], "TELEGRAM");
  EXPECT_EQ(doc["visibility"], "PREMIUM");
  EXPECT_EQ(doc["is_official"], true);
  EXPECT_EQ(doc["log_index"], 0);
  EXPECT_TRUE(doc["publish_id"].is_string());
  EXPECT_TRUE(doc["published_at"].is_string());
}

TEST_F(PublishTest, IdenticalReplayReturnsOriginal) {
  HttpResult first = server_.Post("publish", PublishBody(flow_.prediction_ids[0]));
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult replay = server_.Post("publish", PublishBody(flow_.prediction_ids[0]));
  ASSERT_EQ(replay.status, 200) << replay.body;
  json a = first.Json();
  json b = replay.Json();
  EXPECT_EQ(b["created"], false);
  EXPECT_EQ(b["publish_id"], a["publish_id"]);
  EXPECT_EQ(b["published_at"], a["published_at"]);
  EXPECT_EQ(b["log_index"], a["log_index"]);

  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 1);
  EXPECT_EQ(counts["ledger_entries"], 1);
  EXPECT_EQ(counts["rejected_attempts"], 0);
}

TEST_F(PublishTest, DifferentBodyIsConflictAndRecordsRejectedAttempt) {
  HttpResult first = server_.Post("publish", PublishBody(flow_.prediction_ids[0]));
  ASSERT_EQ(first.status, 201) << first.body;
  int64_t rejected = server_.RowCounts()["rejected_attempts"];

  ExpectProblem(server_.Post("publish", PublishBody(flow_.prediction_ids[0], "DISCORD")), 409,
                "prediction_id");
  EXPECT_EQ(server_.RowCounts()["rejected_attempts"], rejected + 1);

  json other_visibility = PublishBody(flow_.prediction_ids[0]);
  other_visibility["visibility"] = "PUBLIC";
  ExpectProblem(server_.Post("publish", other_visibility), 409, "prediction_id");
  EXPECT_EQ(server_.RowCounts()["rejected_attempts"], rejected + 2);

  // The record stands: the original body still replays the original publish.
  HttpResult replay = server_.Post("publish", PublishBody(flow_.prediction_ids[0]));
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.Json()["publish_id"], first.Json()["publish_id"]);
  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 1);
  EXPECT_EQ(counts["ledger_entries"], 1);
  EXPECT_EQ(counts["rejected_attempts"], rejected + 2);
}

TEST_F(PublishTest, ThirtyTwoConcurrentIdenticalPublishesLeaveOneRow) {
  std::vector<HttpResult> results =
      PublishConcurrently(32, [&](int) { return PublishBody(flow_.prediction_ids[0]); });
  std::set<std::string> publish_ids;
  int created = 0;
  for (const HttpResult& r : results) {
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.error << r.body;
    json doc = r.Json();
    publish_ids.insert(doc["publish_id"].get<std::string>());
    created += doc["created"].get<bool>() ? 1 : 0;
    EXPECT_EQ(doc["created"].get<bool>(), r.status == 201);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(publish_ids.size(), 1u);

  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 1);
  EXPECT_EQ(counts["ledger_entries"], 1);
  EXPECT_EQ(counts["rejected_attempts"], 0);
  json list = server_.Get("published-predictions").Json();
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["publish_id"], *publish_ids.begin());
}

TEST_F(PublishTest, ConcurrentConflictingPublishesLeaveOneRowAndRecordTheRest) {
  std::vector<HttpResult> results = PublishConcurrently(8, [&](int i) {
    return PublishBody(flow_.prediction_ids[1], "CHANNEL_" + std::to_string(i));
  });
  int created = 0;
  int conflicts = 0;
  for (const HttpResult& r : results) {
    if (r.status == 201) ++created;
    if (r.status == 409) ++conflicts;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, 7);
  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 1);
  EXPECT_EQ(counts["ledger_entries"], 1);
  EXPECT_EQ(counts["rejected_attempts"], 7);
}

TEST_F(PublishTest, PublishAfterEventStartIsRefused) {
  SeedFlow started = CreateSeedFlow(server_, "nba-2020-started", "2020-01-01T00:30:00Z");
  ASSERT_EQ(started.prediction_ids.size(), 1u);
  std::map<std::string, int64_t> before = server_.RowCounts();

  HttpResult r = server_.Post("publish", PublishBody(started.prediction_ids[0]));
  ExpectProblem(r, 409, "started");
  EXPECT_EQ(r.Json()["type"], "https://truthbook.dev/problems/failed-precondition");
  EXPECT_EQ(server_.RowCounts(), before);
  json traced = server_.Get("prediction/" + started.prediction_ids[0]).Json();
  EXPECT_EQ(traced["published"], false);
}

TEST_F(PublishTest, RescheduledEventRefusesPublishOnceItsNewStartHasPassed) {
  // The current revision decides: moving the start into the past closes publishing.
  json moved = EventBody("nba-publish", "2021-06-01T00:00:00Z");
  ASSERT_EQ(server_.Post("events", moved).status, 201);
  ExpectProblem(server_.Post("publish", PublishBody(flow_.prediction_ids[0])), 409, "started");
  EXPECT_EQ(server_.RowCounts()["published_predictions"], 0);
}

TEST_F(PublishTest, LedgerHoldsOneEntryPerPublishAndResultRevisionGapFree) {
  std::vector<int64_t> indexes;
  auto record = [&](const HttpResult& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status == 201) indexes.push_back(r.Json()["log_index"]);
  };
  record(server_.Post("publish", PublishBody(flow_.prediction_ids[0])), 201);
  record(server_.Post("event-results", ResultBody("nba-publish", 100, 90)), 201);
  record(server_.Post("publish", PublishBody(flow_.prediction_ids[1])), 201);
  record(server_.Post("publish", PublishBody(flow_.prediction_ids[1])), 200);      // replay
  record(server_.Post("event-results", ResultBody("nba-publish", 100, 90)), 200);  // same
  record(server_.Post("event-results", ResultBody("nba-publish", 101, 90)), 201);
  EXPECT_EQ(server_.Post("publish", PublishBody(flow_.prediction_ids[0], "X")).status, 409);
  record(server_.Post("publish", PublishBody(flow_.prediction_ids[2])), 201);

  std::vector<int64_t> expected(indexes.size());
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(indexes, expected);  // appended in order, no gaps
  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 3);
  EXPECT_EQ(counts["event_results"], 2);
  EXPECT_EQ(counts["ledger_entries"], 5);
  EXPECT_EQ(counts["ledger_entries"], counts["published_predictions"] + counts["event_results"]);
}

}  // namespace
}  // namespace truthbook::test_support
