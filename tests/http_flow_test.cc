// Acceptance 2 of issue 2: the seed's flow through the real server at the exact paths, and the
// reads that trace a prediction back to the exact snapshots it stood on.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/time.h"
#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

class HttpFlowTest : public ServerTest {
 protected:
  // Captures a snapshot and returns its id.
  std::string Capture(const std::string& event_id, const std::string& captured_at,
                      const std::string& book, const std::string& market) {
    json doc =
        PostExpect("capture-snapshot", OddsSnapshotBody(event_id, captured_at, book, market), 201);
    return doc.value("snapshot_id", "");
  }

  // Walks every page of `route` (which has a query) with limit `limit`; returns the value of
  // `id_field` of each item in order. Fails on a page larger than the limit.
  std::vector<std::string> WalkPages(const std::string& route, int limit,
                                     const std::string& id_field) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      std::string url =
          route + (route.ends_with('?') ? "" : "&") + "limit=" + std::to_string(limit);
      if (!cursor.empty()) url += "&cursor=" + cursor;
      json doc = GetOk(url);
      EXPECT_LE(doc["items"].size(), static_cast<size_t>(limit));
      for (const json& item : doc["items"]) ids.push_back(item[id_field]);
      if (doc["next_cursor"].is_null()) return ids;
      cursor = doc["next_cursor"];
    }
    ADD_FAILURE() << "paging did not end";
    return ids;
  }

  std::vector<std::string> ItemIds(const json& page, const std::string& id_field) {
    std::vector<std::string> ids;
    for (const json& item : page["items"]) ids.push_back(item[id_field]);
    return ids;
  }
};

TEST_F(HttpFlowTest, SeedFlowTracesPredictionToItsExactSnapshots) {
  json event = PostExpect("events", EventBody("nba-2026-11-26-lal-bos"), 201);
  EXPECT_EQ(event["revision"], 1);
  EXPECT_EQ(event["created"], true);

  json odds = PostExpect("capture-snapshot", OddsSnapshotBody("nba-2026-11-26-lal-bos"), 201);
  EXPECT_EQ(odds["created"], true);
  ASSERT_TRUE(odds["snapshot_id"].is_string());
  ASSERT_TRUE(odds["content_sha256"].is_string());
  EXPECT_EQ(odds["content_sha256"].get<std::string>().size(), 64u);

  json injury =
      PostExpect("capture-injury-snapshot", InjurySnapshotBody("nba-2026-11-26-lal-bos"), 201);
  EXPECT_EQ(injury["created"], true);
  ASSERT_TRUE(injury["snapshot_id"].is_string());
  ASSERT_TRUE(injury["content_sha256"].is_string());

  json inputs = {{{"kind", "odds_snapshot"}, {"snapshot_id", odds["snapshot_id"]}},
                 {{"kind", "injury_snapshot"}, {"snapshot_id", injury["snapshot_id"]}}};
  json run =
      PostExpect("sim-runs", SimRunBody("nba-2026-11-26-lal-bos", inputs, {0.56, 0.61}), 201);
  ASSERT_TRUE(run["sim_run_id"].is_string());
  ASSERT_EQ(run["prediction_ids"].size(), 2u);
  std::string prediction_id = run["prediction_ids"][0];

  json publish = PostExpect("publish", PublishBody(prediction_id), 201);
  EXPECT_EQ(publish["created"], true);
  EXPECT_EQ(publish["prediction_id"], prediction_id);
  EXPECT_EQ(publish["log_index"], 0);
  ASSERT_TRUE(publish["publish_id"].is_string());
  ASSERT_TRUE(publish["published_at"].is_string());

  json result = PostExpect("event-results", ResultBody("nba-2026-11-26-lal-bos", 112, 108), 201);
  EXPECT_EQ(result["revision"], 1);
  EXPECT_EQ(result["log_index"], 1);
  ASSERT_TRUE(result["result_id"].is_string());

  json traced = GetOk("prediction/" + prediction_id);
  EXPECT_EQ(traced["prediction_id"], prediction_id);
  EXPECT_EQ(traced["raw_prob"], 0.56);
  EXPECT_EQ(traced["sim_run_id"], run["sim_run_id"]);
  EXPECT_EQ(traced["sim_run"]["sim_run_id"], run["sim_run_id"]);
  EXPECT_EQ(traced["sim_run"]["code_version"]["git_sha"], "3f2c1e9");
  ASSERT_EQ(traced["inputs"].size(), 2u);
  std::map<std::string, json> by_id;
  for (const json& in : traced["inputs"]) by_id[in["snapshot_id"]] = in;
  ASSERT_TRUE(by_id.contains(odds["snapshot_id"]));
  ASSERT_TRUE(by_id.contains(injury["snapshot_id"]));
  EXPECT_EQ(by_id[odds["snapshot_id"]]["kind"], "odds_snapshot");
  EXPECT_EQ(by_id[odds["snapshot_id"]]["content_sha256"], odds["content_sha256"]);
  EXPECT_EQ(by_id[injury["snapshot_id"]]["kind"], "injury_snapshot");
  EXPECT_EQ(by_id[injury["snapshot_id"]]["content_sha256"], injury["content_sha256"]);
  EXPECT_EQ(traced["published"], true);
  EXPECT_EQ(traced["publish"]["publish_id"], publish["publish_id"]);
  EXPECT_EQ(traced["publish"]["published_at"], publish["published_at"]);
  EXPECT_EQ(traced["event"]["event_id"], "nba-2026-11-26-lal-bos");

  json unpublished = GetOk("prediction/" + run["prediction_ids"][1].get<std::string>());
  EXPECT_EQ(unpublished["published"], false);
  EXPECT_TRUE(unpublished["publish"].is_null());

  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["events"], 1);
  EXPECT_EQ(counts["odds_snapshots"], 1);
  EXPECT_EQ(counts["injury_snapshots"], 1);
  EXPECT_EQ(counts["sim_runs"], 1);
  EXPECT_EQ(counts["sim_run_inputs"], 2);
  EXPECT_EQ(counts["predictions"], 2);
  EXPECT_EQ(counts["published_predictions"], 1);
  EXPECT_EQ(counts["event_results"], 1);
  EXPECT_EQ(counts["ledger_entries"], 2);
}

TEST_F(HttpFlowTest, HealthCountsEveryTable) {
  HttpResult r = server_.Get("health");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  json doc = r.Json();
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_TRUE(doc["scheduler"].contains("running"));
  for (const char* table :
       {"events", "odds_snapshots", "injury_snapshots", "sim_runs", "sim_run_inputs", "predictions",
        "published_predictions", "event_results", "rejected_attempts", "ledger_entries"}) {
    ASSERT_TRUE(doc["collections"].contains(table)) << table;
    EXPECT_EQ(doc["collections"][table], 0) << table;
  }
}

TEST_F(HttpFlowTest, SimRunReadBackHasInputsAndPredictions) {
  SeedFlow flow = CreateSeedFlow(server_, "nba-sim", "2099-01-01T00:30:00Z", 3);
  ASSERT_EQ(flow.prediction_ids.size(), 3u);
  json run = GetOk("sim-run/" + flow.sim_run_id);
  EXPECT_EQ(run["sim_run_id"], flow.sim_run_id);
  EXPECT_EQ(run["model_version"], "v2.1.0");
  EXPECT_EQ(run["n_sims"], 100000);
  EXPECT_EQ(run["rng_seed"], 42);
  EXPECT_EQ(run["code_version"]["dirty"], false);
  std::set<std::pair<std::string, std::string>> inputs;
  for (const json& in : run["inputs"]) {
    inputs.emplace(in["snapshot_id"].get<std::string>(), in["content_sha256"].get<std::string>());
  }
  EXPECT_EQ(inputs, (std::set<std::pair<std::string, std::string>>{
                        {flow.odds_snapshot_id, flow.odds_sha256},
                        {flow.injury_snapshot_id, flow.injury_sha256}}));
  std::set<std::string> predictions;
  for (const json& p : run["predictions"]) {
    predictions.insert(p["prediction_id"].get<std::string>());
    EXPECT_EQ(p["sim_run_id"], flow.sim_run_id);
    EXPECT_EQ(p["price"]["american"], -110);
    EXPECT_NEAR(p["price"]["decimal"].get<double>(), 1.0 + 100.0 / 110.0, 1e-12);
  }
  EXPECT_EQ(predictions, std::set(flow.prediction_ids.begin(), flow.prediction_ids.end()));
}

TEST_F(HttpFlowTest, IdenticalRecaptureReturnsSameSnapshot) {
  PostExpect("events", EventBody("nba-recap"), 201);
  json first = PostExpect("capture-snapshot", OddsSnapshotBody("nba-recap"), 201);
  json again = PostExpect("capture-snapshot", OddsSnapshotBody("nba-recap"), 200);
  EXPECT_EQ(again["created"], false);
  EXPECT_EQ(again["snapshot_id"], first["snapshot_id"]);
  EXPECT_EQ(again["content_sha256"], first["content_sha256"]);

  json injury = PostExpect("capture-injury-snapshot", InjurySnapshotBody("nba-recap"), 201);
  json injury_again = PostExpect("capture-injury-snapshot", InjurySnapshotBody("nba-recap"), 200);
  EXPECT_EQ(injury_again["created"], false);
  EXPECT_EQ(injury_again["snapshot_id"], injury["snapshot_id"]);

  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["odds_snapshots"], 1);
  EXPECT_EQ(counts["injury_snapshots"], 1);
}

TEST_F(HttpFlowTest, ChangedEventBodyAppendsRevisionAndIdenticalReturnsCurrent) {
  json first = PostExpect("events", EventBody("nba-rev"), 201);
  EXPECT_EQ(first["revision"], 1);
  json same = PostExpect("events", EventBody("nba-rev"), 200);
  EXPECT_EQ(same["revision"], 1);
  EXPECT_EQ(same["created"], false);

  json changed = PostExpect("events", EventBody("nba-rev", "2099-01-02T01:00:00Z"), 201);
  EXPECT_EQ(changed["revision"], 2);
  EXPECT_EQ(changed["start_time"], "2099-01-02T01:00:00.000Z");
  json changed_again = PostExpect("events", EventBody("nba-rev", "2099-01-02T01:00:00Z"), 200);
  EXPECT_EQ(changed_again["revision"], 2);
  EXPECT_EQ(server_.RowCounts()["events"], 2);
}

TEST_F(HttpFlowTest, SecondResultWithOtherScoresIsRevisionTwoSupersedingTheFirst) {
  PostExpect("events", EventBody("nba-res"), 201);
  json first = PostExpect("event-results", ResultBody("nba-res", 112, 108), 201);
  EXPECT_EQ(first["revision"], 1);
  EXPECT_TRUE(first["supersedes"].is_null());

  json replay = PostExpect("event-results", ResultBody("nba-res", 112, 108), 200);
  EXPECT_EQ(replay["created"], false);
  EXPECT_EQ(replay["result_id"], first["result_id"]);

  json corrected = PostExpect("event-results", ResultBody("nba-res", 112, 110), 201);
  EXPECT_EQ(corrected["revision"], 2);
  EXPECT_EQ(corrected["supersedes"], first["result_id"]);
  EXPECT_NE(corrected["result_id"], first["result_id"]);
  EXPECT_GT(corrected["log_index"].get<int64_t>(), first["log_index"].get<int64_t>());

  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["event_results"], 2);
  EXPECT_EQ(counts["ledger_entries"], 2);
}

TEST_F(HttpFlowTest, SnapshotsFilterByBookMarketAndTime) {
  PostExpect("events", EventBody("nba-snap"), 201);
  PostExpect("events", EventBody("nba-other"), 201);
  std::string s1 = Capture("nba-snap", "2026-11-26T16:00:00Z", "pinnacle", "spread");
  std::string s2 = Capture("nba-snap", "2026-11-26T17:00:00Z", "pinnacle", "moneyline");
  std::string s3 = Capture("nba-snap", "2026-11-26T18:00:00Z", "draftkings", "spread");
  std::string s4 = Capture("nba-snap", "2026-11-26T19:00:00Z", "draftkings", "moneyline");
  std::string s5 = Capture("nba-snap", "2026-11-26T20:00:00Z", "pinnacle", "spread");
  Capture("nba-other", "2026-11-26T18:30:00Z", "pinnacle", "spread");

  using Ids = std::vector<std::string>;
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap"), "snapshot_id"), (Ids{s1, s2, s3, s4, s5}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?book=pinnacle"), "snapshot_id"), (Ids{s1, s2, s5}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?market=spread"), "snapshot_id"), (Ids{s1, s3, s5}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?book=draftkings&market=moneyline"), "snapshot_id"),
            (Ids{s4}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?from=2026-11-26T17:00:00Z&to=2026-11-26T19:00:00Z"),
                    "snapshot_id"),
            (Ids{s2, s3, s4}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?from=2026-11-26T18:00:01Z"), "snapshot_id"),
            (Ids{s4, s5}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?to=2026-11-26T16:59:59Z"), "snapshot_id"), (Ids{s1}));
  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-snap?book=nobody"), "snapshot_id"), Ids{});
  EXPECT_EQ(ItemIds(GetOk("snapshots/no-such-event"), "snapshot_id"), Ids{});

  json one = GetOk("snapshots/nba-snap?book=pinnacle&market=moneyline");
  ASSERT_EQ(one["items"].size(), 1u);
  EXPECT_EQ(one["items"][0]["quotes"].size(), 2u);
  EXPECT_EQ(one["items"][0]["captured_at"], "2026-11-26T17:00:00.000Z");
  EXPECT_TRUE(one["next_cursor"].is_null());
}

TEST_F(HttpFlowTest, SnapshotsCursorPagingVisitsEveryItemExactlyOnce) {
  PostExpect("events", EventBody("nba-page"), 201);
  std::vector<std::string> all;
  for (int hour = 10; hour < 17; ++hour) {
    all.push_back(Capture("nba-page", "2026-11-26T" + std::to_string(hour) + ":00:00Z",
                          hour % 2 == 0 ? "pinnacle" : "draftkings", "spread"));
  }
  EXPECT_EQ(WalkPages("snapshots/nba-page?", 1, "snapshot_id"), all);
  EXPECT_EQ(WalkPages("snapshots/nba-page?", 3, "snapshot_id"), all);
  EXPECT_EQ(WalkPages("snapshots/nba-page?", 7, "snapshot_id"), all);
  std::vector<std::string> pinnacle = {all[0], all[2], all[4], all[6]};
  EXPECT_EQ(WalkPages("snapshots/nba-page?book=pinnacle", 1, "snapshot_id"), pinnacle);
}

class PublishedListTest : public HttpFlowTest {
 protected:
  void SetUp() override {
    HttpFlowTest::SetUp();
    if (HasFatalFailure()) return;
    nba_ = CreateSeedFlow(server_, "nba-list", "2099-01-01T00:30:00Z", 3, "NBA");
    nfl_ = CreateSeedFlow(server_, "nfl-list", "2099-01-01T18:00:00Z", 2, "NFL");
    ASSERT_EQ(nba_.prediction_ids.size(), 3u);
    ASSERT_EQ(nfl_.prediction_ids.size(), 2u);
    Publish(nba_.prediction_ids[0], "TELEGRAM", "NBA");
    Publish(nba_.prediction_ids[1], "DISCORD", "NBA");
    Publish(nfl_.prediction_ids[0], "TELEGRAM", "NFL");
    Publish(nba_.prediction_ids[2], "TELEGRAM", "NBA");
    Publish(nfl_.prediction_ids[1], "DISCORD", "NFL");
  }

  void Publish(const std::string& prediction_id, const std::string& channel,
               const std::string& sport) {
    json doc = PostExpect("publish", PublishBody(prediction_id, channel), 201);
    published_.push_back({doc["publish_id"], doc["published_at"], channel, sport});
  }

  // The publish ids of the publishes for which `keep` is true, in publish order (which is
  // (published_at, publish_id) order: ids are UUIDv7 and times are server time).
  template <typename F>
  std::vector<std::string> Expected(F keep) {
    std::vector<std::string> ids;
    for (const auto& p : published_) {
      if (keep(p)) ids.push_back(p.publish_id);
    }
    return ids;
  }

  struct Published {
    std::string publish_id;
    std::string published_at;
    std::string channel;
    std::string sport;
  };
  SeedFlow nba_;
  SeedFlow nfl_;
  std::vector<Published> published_;
};

TEST_F(PublishedListTest, FiltersBySportAndChannel) {
  auto ids = [&](const std::string& query) {
    return ItemIds(GetOk("published-predictions" + query), "publish_id");
  };
  EXPECT_EQ(ids(""), Expected([](const Published&) { return true; }));
  EXPECT_EQ(ids("?sport=NBA"), Expected([](const Published& p) { return p.sport == "NBA"; }));
  EXPECT_EQ(ids("?sport=NFL"), Expected([](const Published& p) { return p.sport == "NFL"; }));
  EXPECT_EQ(ids("?channel=TELEGRAM"),
            Expected([](const Published& p) { return p.channel == "TELEGRAM"; }));
  EXPECT_EQ(ids("?sport=NFL&channel=DISCORD"), Expected([](const Published& p) {
              return p.sport == "NFL" && p.channel == "DISCORD";
            }));
  EXPECT_EQ(ids("?sport=MLB"), std::vector<std::string>{});
}

TEST_F(PublishedListTest, FiltersByPublishedTimeInclusive) {
  auto ids = [&](const std::string& query) {
    return ItemIds(GetOk("published-predictions" + query), "publish_id");
  };
  const std::string t1 = published_[1].published_at;
  const std::string t3 = published_[3].published_at;
  // RFC 3339 with fixed milliseconds sorts as text.
  EXPECT_EQ(ids("?from=" + t1), Expected([&](const Published& p) { return p.published_at >= t1; }));
  EXPECT_EQ(ids("?to=" + t3), Expected([&](const Published& p) { return p.published_at <= t3; }));
  EXPECT_EQ(ids("?from=" + t1 + "&to=" + t3), Expected([&](const Published& p) {
              return p.published_at >= t1 && p.published_at <= t3;
            }));
  EXPECT_EQ(ids("?from=2098-01-01T00:00:00Z"), std::vector<std::string>{});
  EXPECT_EQ(ids("?to=2001-01-01T00:00:00Z"), std::vector<std::string>{});
}

TEST_F(PublishedListTest, CursorPagingVisitsEveryPublishExactlyOnce) {
  std::vector<std::string> all = Expected([](const Published&) { return true; });
  EXPECT_EQ(WalkPages("published-predictions?", 1, "publish_id"), all);
  EXPECT_EQ(WalkPages("published-predictions?", 2, "publish_id"), all);
  EXPECT_EQ(WalkPages("published-predictions?sport=NBA", 1, "publish_id"),
            Expected([](const Published& p) { return p.sport == "NBA"; }));
  EXPECT_EQ(WalkPages("published-predictions?channel=DISCORD", 1, "publish_id"),
            Expected([](const Published& p) { return p.channel == "DISCORD"; }));
}

TEST_F(HttpFlowTest, CleanupDeletesOnlyUnreferencedSnapshotsPastRetention) {
  PostExpect("events", EventBody("nba-clean"), 201);
  std::string old_free = Capture("nba-clean", "2001-01-01T00:00:00Z", "pinnacle", "spread");
  std::string old_used = Capture("nba-clean", "2001-01-02T00:00:00Z", "draftkings", "spread");
  std::string recent = Capture("nba-clean",
                               FormatRfc3339(std::chrono::floor<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now() - std::chrono::hours(1))),
                               "pinnacle", "moneyline");
  json inputs = {{{"kind", "odds_snapshot"}, {"snapshot_id", old_used}}};
  PostExpect("sim-runs", SimRunBody("nba-clean", inputs), 201);

  json audit = PostExpect("cleanup-snapshots", {{"retention_days", 1}}, 200);
  EXPECT_TRUE(audit["cleanup_id"].is_string());
  EXPECT_TRUE(audit["cutoff"].is_string());
  EXPECT_TRUE(audit["requested_at"].is_string());
  EXPECT_EQ(audit["deleted_count"], 1);
  EXPECT_EQ(audit["deleted_ids"], json::array({old_free}));

  EXPECT_EQ(ItemIds(GetOk("snapshots/nba-clean"), "snapshot_id"),
            (std::vector<std::string>{old_used, recent}));
  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["odds_snapshots"], 2);
  EXPECT_EQ(counts["snapshot_cleanups"], 1);

  json again = PostExpect("cleanup-snapshots", {{"retention_days", 1}}, 200);
  EXPECT_EQ(again["deleted_count"], 0);
  EXPECT_NE(again["cleanup_id"], audit["cleanup_id"]);
  counts = server_.RowCounts();
  EXPECT_EQ(counts["odds_snapshots"], 2);
  EXPECT_EQ(counts["snapshot_cleanups"], 2);
}

TEST_F(HttpFlowTest, IdempotencyKeyReplaysTheStoredAnswer) {
  PostExpect("events", EventBody("nba-idem"), 201);
  const Headers key = {{"Idempotency-Key", "capture-1"}};
  HttpResult first = server_.Post("capture-snapshot", OddsSnapshotBody("nba-idem"), key);
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult replay = server_.Post("capture-snapshot", OddsSnapshotBody("nba-idem"), key);
  // Without the key an identical capture answers 200 created:false; with it, the stored 201.
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.content_type, "application/json");
  EXPECT_EQ(replay.Json(), first.Json());
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(PostExpect("capture-snapshot", OddsSnapshotBody("nba-idem"), 200)["created"], false);
  EXPECT_EQ(server_.RowCounts()["odds_snapshots"], 1);
}

TEST_F(HttpFlowTest, IdempotencyKeyReplaysStoredPublish) {
  SeedFlow flow = CreateSeedFlow(server_, "nba-idem-pub");
  ASSERT_EQ(flow.prediction_ids.size(), 1u);
  const Headers key = {{"Idempotency-Key", "publish-1"}};
  HttpResult first = server_.Post("publish", PublishBody(flow.prediction_ids[0]), key);
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult replay = server_.Post("publish", PublishBody(flow.prediction_ids[0]), key);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.Json(), first.Json());
  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 1);
  EXPECT_EQ(counts["ledger_entries"], 1);
}

TEST_F(HttpFlowTest, IdempotencyKeyReplaysAStoredErrorAsProblemJson) {
  const Headers key = {{"Idempotency-Key", "bad-1"}};
  HttpResult first = server_.PostRaw("events", R"({"event_id": "x")", key);
  ASSERT_EQ(first.status, 400);
  EXPECT_EQ(first.content_type, "application/problem+json");
  HttpResult replay = server_.PostRaw("events", R"({"event_id": "x")", key);
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.content_type, "application/problem+json");
  EXPECT_EQ(replay.body, first.body);
}

TEST_F(HttpFlowTest, ConcurrentRequestsWithOneKeyAllGetTheStoredAnswer) {
  PostExpect("events", EventBody("nba-idem-race"), 201);
  const std::string body = OddsSnapshotBody("nba-idem-race").dump();
  std::vector<HttpResult> results(8);
  std::vector<std::thread> threads;
  for (HttpResult& r : results) {
    threads.emplace_back([&] {
      r = server_.PostRaw("capture-snapshot", body, {{"Idempotency-Key", "race-1"}});
    });
  }
  for (std::thread& t : threads) t.join();
  HttpResult later = server_.PostRaw("capture-snapshot", body, {{"Idempotency-Key", "race-1"}});
  for (const HttpResult& r : results) {
    EXPECT_EQ(r.status, later.status);
    EXPECT_EQ(r.body, later.body);
  }
  EXPECT_EQ(later.status, 201);
}

TEST_F(HttpFlowTest, IdempotencyKeyWithAnotherBodyIs422) {
  PostExpect("events", EventBody("nba-idem2"), 201);
  const Headers key = {{"Idempotency-Key", "capture-2"}};
  PostExpect("capture-snapshot", OddsSnapshotBody("nba-idem2"), 201, key);
  std::map<std::string, int64_t> before = server_.RowCounts();

  HttpResult other =
      server_.Post("capture-snapshot", OddsSnapshotBody("nba-idem2", "2026-11-26T19:00:00Z"), key);
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(other.content_type, "application/problem+json");
  json problem = other.Json();
  EXPECT_EQ(problem["status"], 422);
  EXPECT_TRUE(problem["type"].is_string());
  EXPECT_TRUE(problem["title"].is_string());
  EXPECT_NE(problem.value("detail", "").find("Idempotency-Key"), std::string::npos);
  EXPECT_EQ(server_.RowCounts(), before);

  // Keys are scoped by path: the same key on another endpoint is a new key.
  PostExpect("events", EventBody("nba-idem3"), 201, key);
}

// With a zero budget every count is "slow": health answers from the last count, says when it
// was taken, and counts again in the background, so a write shows up a little later.
TEST(HttpHealthTest, SlowCountsAreServedFromTheLastCountAndRecountedInTheBackground) {
  ServerProcess server({"--health-count-budget-ms", "0"});
  ASSERT_TRUE(server.Start());  // its health poll took the first count, with no events
  ASSERT_EQ(server.Post("events", EventBody("nba-counted")).status, 201);

  json stale = server.Get("health").Json();
  EXPECT_EQ(stale["collections"]["events"], 0);
  ASSERT_TRUE(stale["collections_as_of"].is_string());
  const std::string first_count = stale["collections_as_of"];

  json fresh;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    fresh = server.Get("health").Json();
    if (fresh["collections"]["events"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(fresh["collections"]["events"], 1);
  EXPECT_GT(fresh["collections_as_of"].get<std::string>(), first_count);
}

TEST_F(HttpFlowTest, HealthCountsAreCurrentWhileCountingIsCheap) {
  const std::string before = GetOk("health")["collections_as_of"];
  PostExpect("events", EventBody("nba-current"), 201);
  json doc = GetOk("health");
  EXPECT_EQ(doc["collections"]["events"], 1);
  EXPECT_GE(doc["collections_as_of"].get<std::string>(), before);
}

}  // namespace
}  // namespace truthbook::test_support
