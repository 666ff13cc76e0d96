// Issue 6, acceptance 2 and 3: three real server processes share one PostgreSQL database (a
// scratch database on TRUTHBOOK_PG) and behave as one system: one publish per prediction
// under concurrent identical publishes, 409 for conflicting ones, a gap-free ledger under
// concurrent publishing from all three, and each slot of a job scheduled every 2 seconds run
// exactly once across them. The database is read back with SQL.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "pg_scratch.h"
#include "scheduler/scheduler.h"
#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

class MultiServerTest : public ::testing::Test {
 protected:
  // Starts three servers on one fresh database, with `serve_flags` each.
  void StartServers(const std::vector<std::string>& serve_flags = {}) {
    if (!PostgresServer()) GTEST_SKIP() << kNoPostgres;
    for (ServerProcess& s : servers_) s.set_serve_flags(serve_flags);
    ASSERT_TRUE(servers_[0].UsePostgres());
    servers_[1].UseDatabase(servers_[0].db());
    servers_[2].UseDatabase(servers_[0].db());
    for (ServerProcess& s : servers_) ASSERT_TRUE(s.Start());
  }

  TextRows Query(const std::string& sql) {
    Result<TextRows> rows = QueryText(servers_[0].db(), sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : TextRows{};
  }

  // POST publish from `n` threads at once, the i-th to server i % 3.
  std::vector<HttpResult> PublishConcurrently(int n, const std::function<json(int)>& body_for) {
    return PostConcurrently({&servers_[0], &servers_[1], &servers_[2]}, "publish", n, body_for);
  }

  std::array<ServerProcess, 3> servers_;
};

TEST_F(MultiServerTest, SixtyFourConcurrentIdenticalPublishesLeaveOneRow) {
  StartServers();
  SeedFlow flow = CreateSeedFlow(servers_[0], "nba-multi", "2099-01-01T00:30:00Z", 1);
  ASSERT_EQ(flow.prediction_ids.size(), 1u);

  std::vector<HttpResult> results =
      PublishConcurrently(64, [&](int) { return PublishBody(flow.prediction_ids[0]); });
  std::set<std::string> publish_ids;
  int created = 0;
  for (const HttpResult& r : results) {
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.error << r.body;
    publish_ids.insert(r.Json()["publish_id"].get<std::string>());
    created += r.status == 201 ? 1 : 0;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(publish_ids.size(), 1u);
  EXPECT_EQ(Query("SELECT publish_id FROM published_predictions"),
            TextRows{{*publish_ids.begin()}});
  EXPECT_EQ(Query("SELECT log_index, kind FROM ledger_entries"), (TextRows{{"0", "publish"}}));
}

TEST_F(MultiServerTest, ConflictingPublishesGet409AndLeaveOneRow) {
  StartServers();
  SeedFlow flow = CreateSeedFlow(servers_[0], "nba-multi", "2099-01-01T00:30:00Z", 1);
  ASSERT_EQ(flow.prediction_ids.size(), 1u);

  std::vector<HttpResult> results = PublishConcurrently(12, [&](int i) {
    return PublishBody(flow.prediction_ids[0], "CHANNEL_" + std::to_string(i));
  });
  int created = 0;
  int conflicts = 0;
  for (const HttpResult& r : results) {
    created += r.status == 201 ? 1 : 0;
    if (r.status == 409) {
      ++conflicts;
      EXPECT_EQ(r.content_type, "application/problem+json");
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, 11);
  EXPECT_EQ(Query("SELECT count(*) FROM published_predictions"), TextRows{{"1"}});
  EXPECT_EQ(Query("SELECT count(*) FROM rejected_attempts"), TextRows{{"11"}});
}

TEST_F(MultiServerTest, LedgerStaysGapFreeUnderPublishingFromAllThree) {
  StartServers();
  constexpr int kPicks = 60;
  SeedFlow flow = CreateSeedFlow(servers_[0], "nba-multi", "2099-01-01T00:30:00Z", kPicks);
  ASSERT_EQ(flow.prediction_ids.size(), static_cast<size_t>(kPicks));

  // Each pick is published twice, by two servers at once: one creates it, one replays it.
  std::vector<HttpResult> results = PublishConcurrently(
      2 * kPicks, [&](int i) { return PublishBody(flow.prediction_ids[i / 2]); });
  std::set<int64_t> indexes;
  for (const HttpResult& r : results) {
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.error << r.body;
    indexes.insert(r.Json()["log_index"].get<int64_t>());
  }
  EXPECT_EQ(indexes.size(), static_cast<size_t>(kPicks));
  EXPECT_EQ(Query("SELECT count(*), min(log_index), max(log_index), count(DISTINCT record_id) "
                  "FROM ledger_entries"),
            (TextRows{{std::to_string(kPicks), "0", std::to_string(kPicks - 1),
                       std::to_string(kPicks)}}));
  // Every entry is a publish, and every publish is an entry at its own index.
  EXPECT_EQ(Query("SELECT count(*) FROM ledger_entries e JOIN published_predictions p "
                  "ON p.log_index = e.log_index AND p.publish_id = e.record_id"),
            TextRows{{std::to_string(kPicks)}});
}

TEST_F(MultiServerTest, EverySlotOfATwoSecondJobRunsExactlyOnce) {
  StartServers({"--rollups-schedule", "*/2 * * * * *"});
  SystemClock clock;
  const TimePoint from = clock.Now();
  std::this_thread::sleep_for(std::chrono::seconds(30));
  const TimePoint to = clock.Now();
  for (ServerProcess& s : servers_) {
    int status = s.Kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << s.Log();
  }

  TextRows rows =
      Query("SELECT slot, status, claimed_by FROM job_runs WHERE job = 'rollups' ORDER BY slot");
  std::map<std::string, int> runs;
  std::set<std::string> claimers;
  for (const auto& row : rows) {
    ++runs[row[0]];
    EXPECT_EQ(row[1], "succeeded") << row[0];
    claimers.insert(row[2]);
  }
  // Every even second after all three started and before the first stopped: the span's
  // 15 slots, give or take the edges.
  const int64_t first = from.time_since_epoch() / std::chrono::seconds(2) + 1;
  const int64_t last = to.time_since_epoch() / std::chrono::seconds(2);
  ASSERT_GE(last - first + 1, 14);
  for (int64_t slot = first; slot <= last; ++slot) {
    const std::string name = scheduler::SlotName(TimePoint(std::chrono::seconds(2 * slot)));
    EXPECT_EQ(runs[name], 1) << name;
  }
  for (const auto& [slot, n] : runs) EXPECT_EQ(n, 1) << slot;
  RecordProperty("claimed_by_servers", static_cast<int>(claimers.size()));
}

}  // namespace
}  // namespace truthbook::test_support
