// Issue 6 (DEPLOYMENT.md): the GET endpoints served from a read replica. A primary server,
// and a `--read-only` server on a streaming hot standby of its database (a cluster of the
// test's own, scripts/pg_temp.sh): what the primary publishes is read back through the
// replica's server, and a write sent to that server gets 503 problem+json and changes nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "pg_scratch.h"
#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

class ReadReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresServer()) GTEST_SKIP() << kNoPostgres;
    Result<std::unique_ptr<TempCluster>> primary = TempCluster::Start();
    ASSERT_TRUE(primary.ok()) << primary.status().ToString();
    primary_ = std::move(*primary);
    primary_server_.UseDatabase(primary_->conninfo());
    ASSERT_TRUE(primary_server_.Start());  // migrates and partitions the primary
    Result<std::unique_ptr<TempCluster>> replica = primary_->Replica();
    ASSERT_TRUE(replica.ok()) << replica.status().ToString();
    replica_ = std::move(*replica);
    replica_server_.UseDatabase(replica_->conninfo());
    ASSERT_TRUE(replica_server_.Start());
  }

  void TearDown() override {
    replica_server_.Kill(SIGTERM);  // servers before their clusters
    primary_server_.Kill(SIGTERM);
    replica_.reset();
    primary_.reset();
  }

  std::unique_ptr<TempCluster> primary_;
  std::unique_ptr<TempCluster> replica_;
  ServerProcess primary_server_;
  ServerProcess replica_server_{{"--read-only"}};
};

TEST_F(ReadReplicaTest, ReplicaServesWhatThePrimaryPublishedAndRefusesWrites) {
  SeedFlow flow = CreateSeedFlow(primary_server_, "nba-replica");
  ASSERT_EQ(flow.prediction_ids.size(), 1u);
  HttpResult published = primary_server_.Post("publish", PublishBody(flow.prediction_ids[0]));
  ASSERT_EQ(published.status, 201) << published.body;

  // Replication is asynchronous: the publish shows up within moments.
  json items;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    items = replica_server_.Get("published-predictions").Json()["items"];
    if (items.is_array() && !items.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["publish_id"], published.Json()["publish_id"]);
  EXPECT_EQ(replica_server_.Get("snapshots/nba-replica").status, 200);

  json health = replica_server_.Get("health").Json();
  EXPECT_EQ(health["database"]["read_only"], true);
  EXPECT_EQ(health["scheduler"]["running"], false);

  const auto before = primary_server_.RowCounts();
  for (const char* route : {"publish", "events", "grade-all-pending"}) {
    HttpResult refused = replica_server_.Post(route, PublishBody(flow.prediction_ids[0]));
    EXPECT_EQ(refused.status, 503) << route << " " << refused.body;
    EXPECT_EQ(refused.content_type, "application/problem+json");
    EXPECT_NE(refused.Json().value("detail", "").find("read-only"), std::string::npos)
        << refused.body;
  }
  EXPECT_EQ(primary_server_.RowCounts(), before);
}

}  // namespace
}  // namespace truthbook::test_support
