// Acceptance 6 of issue 2: an acknowledged publish survives SIGKILL of the server, and
// ledger_entries stays gap-free through repeated crashes under concurrent load. The database
// file is read directly with the sqlite3 C API while no server runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

// What the database file says about the ledger, read without the server.
struct LedgerOnDisk {
  int64_t entries = 0;
  int64_t min_index = -1;
  int64_t max_index = -1;
  int64_t distinct_records = 0;
  int64_t publishes = 0;
  int64_t results = 0;
  std::set<std::string> publish_ids;         // published_predictions.publish_id
  std::set<std::string> logged_publish_ids;  // ledger_entries.record_id of kind publish
  std::set<std::string> result_ids;          // event_results.result_id
};

::testing::AssertionResult ReadLedger(const std::filesystem::path& db, LedgerOnDisk& out) {
  sqlite3* conn = nullptr;
  // Read-write so that the WAL left by a killed server can be recovered on open.
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(conn);
    sqlite3_close(conn);
    return ::testing::AssertionFailure() << "open " << db << ": " << error;
  }
  sqlite3_busy_timeout(conn, 5000);
  std::string error;
  auto query = [&](const char* sql, auto on_row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      error += std::string(sql) + ": " + sqlite3_errmsg(conn) + "\n";
      return;
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) on_row(stmt);
    if (rc != SQLITE_DONE) error += std::string(sql) + ": " + sqlite3_errmsg(conn) + "\n";
    sqlite3_finalize(stmt);
  };
  auto text = [](sqlite3_stmt* s, int col) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, col)));
  };
  query(
      "SELECT COUNT(*), COALESCE(MIN(log_index), -1), COALESCE(MAX(log_index), -1), "
      "COUNT(DISTINCT kind || ' ' || record_id) FROM ledger_entries",
      [&](sqlite3_stmt* s) {
        out.entries = sqlite3_column_int64(s, 0);
        out.min_index = sqlite3_column_int64(s, 1);
        out.max_index = sqlite3_column_int64(s, 2);
        out.distinct_records = sqlite3_column_int64(s, 3);
      });
  query("SELECT publish_id FROM published_predictions",
        [&](sqlite3_stmt* s) { out.publish_ids.insert(text(s, 0)); });
  query("SELECT record_id FROM ledger_entries WHERE kind = 'publish'",
        [&](sqlite3_stmt* s) { out.logged_publish_ids.insert(text(s, 0)); });
  query("SELECT result_id FROM event_results",
        [&](sqlite3_stmt* s) { out.result_ids.insert(text(s, 0)); });
  out.publishes = static_cast<int64_t>(out.publish_ids.size());
  out.results = static_cast<int64_t>(out.result_ids.size());
  sqlite3_close(conn);
  if (!error.empty()) return ::testing::AssertionFailure() << error;
  return ::testing::AssertionSuccess();
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  // The ledger on disk is one gap-free log of every publish and result revision, holding
  // every acknowledged one.
  void ExpectLedgerOnDisk(const std::set<std::string>& acked_publishes,
                          const std::set<std::string>& acked_results) {
    ASSERT_FALSE(server_.running());
    LedgerOnDisk ledger;
    ASSERT_TRUE(ReadLedger(server_.db_path(), ledger));
    EXPECT_GT(ledger.entries, 0);
    EXPECT_EQ(ledger.min_index, 0);
    EXPECT_EQ(ledger.max_index, ledger.entries - 1);
    EXPECT_EQ(ledger.distinct_records, ledger.entries);
    EXPECT_EQ(ledger.entries, ledger.publishes + ledger.results);
    EXPECT_EQ(ledger.logged_publish_ids, ledger.publish_ids);
    for (const std::string& id : acked_publishes) {
      EXPECT_TRUE(ledger.publish_ids.contains(id)) << "acknowledged publish lost: " << id;
    }
    for (const std::string& id : acked_results) {
      EXPECT_TRUE(ledger.result_ids.contains(id)) << "acknowledged result lost: " << id;
    }
  }

  // GET prediction/{id} shows `publish_id` as its publish.
  void ExpectPublished(const std::string& prediction_id, const std::string& publish_id) {
    HttpResult r = server_.Get("prediction/" + prediction_id);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    json doc = r.Json();
    EXPECT_EQ(doc["published"], true) << prediction_id;
    EXPECT_EQ(doc["publish"]["publish_id"], publish_id) << prediction_id;
  }

  std::set<std::string> ListedPublishIds() {
    HttpResult r = server_.Get("published-predictions?limit=500");
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    std::set<std::string> ids;
    json page = r.Json();
    for (const json& item : page["items"]) ids.insert(item["publish_id"].get<std::string>());
    return ids;
  }

  ServerProcess server_;
};

TEST_F(CrashTest, AcknowledgedPublishSurvivesSigkill) {
  SeedFlow flow = CreateSeedFlow(server_, "nba-crash-one");
  ASSERT_EQ(flow.prediction_ids.size(), 1u);
  HttpResult published = server_.Post("publish", PublishBody(flow.prediction_ids[0]));
  ASSERT_EQ(published.status, 201) << published.body;
  std::string publish_id = published.Json()["publish_id"];
  server_.Kill(SIGKILL);

  // On disk before any restart: the answer was sent only after the commit was durable.
  LedgerOnDisk ledger;
  ASSERT_TRUE(ReadLedger(server_.db_path(), ledger));
  EXPECT_TRUE(ledger.publish_ids.contains(publish_id));

  ASSERT_TRUE(server_.Start());
  ExpectPublished(flow.prediction_ids[0], publish_id);
  EXPECT_TRUE(ListedPublishIds().contains(publish_id));
  HttpResult replay = server_.Post("publish", PublishBody(flow.prediction_ids[0]));
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.Json()["publish_id"], publish_id);

  EXPECT_EQ(server_.Kill(SIGTERM), 0);  // exited with status 0
  ExpectLedgerOnDisk({publish_id}, {});
}

TEST_F(CrashTest, RepeatedSigkillUnderConcurrentPublishesLosesNothingAcknowledged) {
  constexpr int kRounds = 5;
  constexpr int kPublishersPerRound = 4;
  SeedFlow flow = CreateSeedFlow(server_, "nba-crash-load", "2099-01-01T00:30:00Z",
                                 kRounds * kPublishersPerRound);
  ASSERT_EQ(flow.prediction_ids.size(), static_cast<size_t>(kRounds * kPublishersPerRound));

  std::map<std::string, std::string> acked;  // prediction_id -> publish_id
  std::set<std::string> acked_results;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // kPublishersPerRound publishes and one result revision race; the server is killed as
    // soon as the first of them is acknowledged, so the rest are in flight or not yet sent.
    std::mutex mu;
    std::condition_variable first_ack;
    bool any_ack = false;
    int done = 0;
    std::vector<HttpResult> results(kPublishersPerRound + 1);
    std::vector<std::thread> threads;
    for (int i = 0; i <= kPublishersPerRound; ++i) {
      threads.emplace_back([&, i] {
        HttpResult r =
            i < kPublishersPerRound
                ? server_.Post("publish",
                               PublishBody(flow.prediction_ids[round * kPublishersPerRound + i]))
                : server_.Post("event-results", ResultBody(flow.event_id, 100 + round, 90));
        std::lock_guard<std::mutex> lock(mu);
        results[i] = std::move(r);
        any_ack = any_ack || results[i].status == 200 || results[i].status == 201;
        ++done;
        first_ack.notify_all();
      });
    }
    bool acked_in_time;
    {
      std::unique_lock<std::mutex> lock(mu);
      acked_in_time = first_ack.wait_for(lock, std::chrono::seconds(60), [&] {
        return any_ack || done == kPublishersPerRound + 1;
      });
    }
    server_.Kill(SIGKILL);
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE(acked_in_time && any_ack) << "no write acknowledged before the kill";

    for (int i = 0; i < kPublishersPerRound; ++i) {
      const HttpResult& r = results[i];
      if (r.status == 0) continue;  // cut off by the kill: unknown outcome
      ASSERT_EQ(r.status, 201) << r.body;
      acked[flow.prediction_ids[round * kPublishersPerRound + i]] = r.Json()["publish_id"];
    }
    const HttpResult& result = results[kPublishersPerRound];
    if (result.status != 0) {
      ASSERT_EQ(result.status, 201) << result.body;
      acked_results.insert(result.Json()["result_id"].get<std::string>());
    }

    ASSERT_TRUE(server_.Start());
    for (const auto& [prediction_id, publish_id] : acked) {
      ExpectPublished(prediction_id, publish_id);
    }
    std::set<std::string> listed = ListedPublishIds();
    for (const auto& [prediction_id, publish_id] : acked) {
      EXPECT_TRUE(listed.contains(publish_id)) << publish_id;
    }
    // Settle what the kill cut off: a replay returns the committed publish (200) or makes
    // it now (201). Either way it is acknowledged from here on.
    for (int i = 0; i < kPublishersPerRound; ++i) {
      const std::string& prediction_id = flow.prediction_ids[round * kPublishersPerRound + i];
      if (acked.contains(prediction_id)) continue;
      HttpResult r = server_.Post("publish", PublishBody(prediction_id));
      ASSERT_TRUE(r.status == 200 || r.status == 201) << r.status << r.body;
      acked[prediction_id] = r.Json()["publish_id"];
    }
  }
  EXPECT_EQ(acked.size(), static_cast<size_t>(kRounds * kPublishersPerRound));
  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], kRounds * kPublishersPerRound);
  EXPECT_EQ(counts["ledger_entries"], counts["published_predictions"] + counts["event_results"]);

  EXPECT_EQ(server_.Kill(SIGTERM), 0);
  std::set<std::string> publish_ids;
  for (const auto& [prediction_id, publish_id] : acked) publish_ids.insert(publish_id);
  ExpectLedgerOnDisk(publish_ids, acked_results);
  LedgerOnDisk ledger;
  ASSERT_TRUE(ReadLedger(server_.db_path(), ledger));
  EXPECT_EQ(ledger.publish_ids, publish_ids);  // no duplicate, nothing unacknowledged left
}

}  // namespace
}  // namespace truthbook::test_support
