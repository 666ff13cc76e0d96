// Issue 6, acceptance 5: PostgreSQL stops mid-load (an immediate stop, as a crash would) and
// starts again. Two real servers keep running throughout on a cluster of the test's own
// (scripts/pg_temp.sh): while the database is down every request gets 503 problem+json; once
// it is back the same processes serve again; and every acknowledged publish is in the
// database, each with its ledger entry, in a gap-free log.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_scratch.h"
#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

class DatabaseOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresServer()) GTEST_SKIP() << kNoPostgres;
    Result<std::unique_ptr<TempCluster>> cluster = TempCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    for (ServerProcess& s : servers_) {
      s.UseDatabase(cluster_->conninfo());
      ASSERT_TRUE(s.Start());
    }
  }

  void TearDown() override {
    for (ServerProcess& s : servers_) s.Kill(SIGTERM);  // before the cluster goes
  }

  Result<TextRows> Query(const std::string& sql) { return QueryText(cluster_->conninfo(), sql); }

  std::unique_ptr<TempCluster> cluster_;
  std::array<ServerProcess, 2> servers_;
};

TEST_F(DatabaseOutageTest, RequestsGet503WhileDownAndNothingAcknowledgedIsLost) {
  constexpr int kPicks = 240;
  constexpr int kThreads = 4;
  SeedFlow flow = CreateSeedFlow(servers_[0], "nba-outage", "2099-01-01T00:30:00Z", kPicks);
  ASSERT_EQ(flow.prediction_ids.size(), static_cast<size_t>(kPicks));

  // Each thread publishes its picks in turn, alternating servers, and tries a pick again
  // after a 503 until it is acknowledged (a publish is idempotent).
  std::mutex mu;
  std::map<std::string, std::string> acknowledged;  // prediction_id -> publish_id; mu
  std::vector<std::string> unexpected;              // mu
  std::atomic<int> n_acknowledged{0};
  std::atomic<int> n_unavailable{0};
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  std::vector<std::thread> load;
  for (int t = 0; t < kThreads; ++t) {
    load.emplace_back([&, t] {
      for (int i = t; i < kPicks; i += kThreads) {
        const std::string body = PublishBody(flow.prediction_ids[i]).dump();
        for (int attempt = 0; Clock::now() < deadline; ++attempt) {
          HttpResult r = servers_[(i + attempt) % 2].PostRaw("publish", body);
          const bool ok = r.status == 200 || r.status == 201;
          const bool unavailable =
              r.status == 503 && r.content_type == "application/problem+json" &&
              r.Json()["status"] == 503 && r.body.find(".s.PGSQL") == std::string::npos;
          {
            std::lock_guard lock(mu);
            if (ok) acknowledged[flow.prediction_ids[i]] = r.Json()["publish_id"];
            if (!ok && !unavailable) {
              unexpected.push_back(std::to_string(r.status) + " " + r.error + r.body);
            }
          }
          if (ok) {
            ++n_acknowledged;
            break;
          }
          if (!unavailable) return;
          ++n_unavailable;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }

  // Stop the database a quarter of the way in, keep it down until the load has met it for
  // a second, then start it again.
  while (n_acknowledged < kPicks / 4 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int before_outage = n_acknowledged;
  EXPECT_TRUE(cluster_->Pause().ok());
  for (const ServerProcess& s : servers_) {
    HttpResult health = s.Get("health");
    EXPECT_EQ(health.status, 503) << health.body;
    EXPECT_EQ(health.content_type, "application/problem+json");
    // Where the database lives is for the server log, not for clients.
    EXPECT_EQ(health.body.find(".s.PGSQL"), std::string::npos) << health.body;
  }
  while (n_unavailable < 20 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(cluster_->Resume().ok());
  for (std::thread& t : load) t.join();

  EXPECT_TRUE(unexpected.empty()) << unexpected.front();
  EXPECT_LT(before_outage, kPicks);
  EXPECT_GE(n_unavailable, 20);
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kPicks));

  // The same processes serve again.
  for (const ServerProcess& s : servers_) {
    EXPECT_TRUE(s.running());
    EXPECT_EQ(s.Get("health").status, 200);
  }
  // Every acknowledged publish is stored once, as acknowledged, with its ledger entry, and
  // the log has no gap and nothing else.
  Result<TextRows> stored = Query("SELECT prediction_id, publish_id FROM published_predictions");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  std::map<std::string, std::string> in_db;
  for (const auto& row : *stored) in_db[row[0]] = row[1];
  EXPECT_EQ(in_db, acknowledged);
  std::string picks = std::to_string(kPicks);
  EXPECT_EQ(*Query("SELECT count(*), min(log_index), max(log_index) FROM ledger_entries"),
            (TextRows{{picks, "0", std::to_string(kPicks - 1)}}));
  EXPECT_EQ(*Query("SELECT count(*) FROM ledger_entries e JOIN published_predictions p "
                   "ON p.log_index = e.log_index AND p.publish_id = e.record_id"),
            TextRows{{picks}});
  EXPECT_EQ(*Query("SELECT count(*) FROM rejected_attempts"), TextRows{{"0"}});
}

}  // namespace
}  // namespace truthbook::test_support
