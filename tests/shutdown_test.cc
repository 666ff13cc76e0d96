// Acceptance 5 of issue 5: SIGTERM while a job runs and requests are in flight. The server
// must finish the running job (manual or scheduled) and the requests it had accepted, answer
// them, and exit 0; afterwards the database file, opened with the real store, holds the job's
// run as succeeded and every grading it made. The job is made long enough to watch by seeding
// a few thousand pending publishes: the grading job grades them all, then refreshes rollups.
// Every wait is a poll with a deadline.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/time.h"
#include "server_harness.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// The pending publishes a job grades: kEvents events of kPerEvent picks each.
constexpr int kEvents = 8;
constexpr int kPerEvent = 500;
constexpr int kPending = kEvents * kPerEvent;
constexpr int kPublishThreads = 4;
// How long a queued request gets to reach the server before the signal is sent.
constexpr auto kSettle = std::chrono::milliseconds(300);

TimePoint Now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// A sim run of `n` spread picks on `event_id`, alternating home -3.5 and away +3.5.
json SimRun(const std::string& event_id, int n) {
  json predictions = json::array();
  for (int i = 0; i < n; ++i) {
    const bool home = i % 2 == 0;
    predictions.push_back(PredictionBody(
        event_id, "spread", home ? "home" : "away", home ? -3.5 : 3.5, {{"american", -110}},
        0.5 + 0.4 * (i % 10) / 10, "pinnacle", i % 3 == 0 ? "A" : "B"));
  }
  return SimRunWith(predictions, json::array(), "2029-12-31");
}

// What the database file holds once the server has exited, read with the real store.
struct OnDisk {
  std::map<std::string, int64_t> counts;
  std::vector<store::JobRun> grading_runs;  // newest first
  std::vector<store::JobRun> rollups_runs;
};

::testing::AssertionResult ReadDatabase(const std::filesystem::path& path, OnDisk& out) {
  SystemClock clock;
  auto opened = store::sqlite::SqliteStore::Open(path.string(), clock);
  if (!opened.ok()) return ::testing::AssertionFailure() << opened.status().ToString();
  std::unique_ptr<store::sqlite::SqliteStore> db = std::move(*opened);
  Status s = db->Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(out.counts, r.CountRows());
    ASSIGN_OR_RETURN(out.grading_runs, r.ListJobRuns("grading", 100));
    ASSIGN_OR_RETURN(out.rollups_runs, r.ListJobRuns("rollups", 100));
    return Status::Ok();
  });
  if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
  return ::testing::AssertionSuccess();
}

class ShutdownTest : public ServerTest {
 protected:
  // kPending publishes in 2030 with final results, none graded yet. Publishes go out on
  // several connections at once, as the store commits concurrent writes together.
  void SeedPending() {
    std::vector<std::string> prediction_ids;
    for (int e = 0; e < kEvents; ++e) {
      const std::string event_id = "nba-2030-02-" + std::to_string(10 + e);
      PostExpect("events", EventBody(event_id, "2030-02-" + std::to_string(10 + e) + "T01:00:00Z"),
                 201);
      json run = PostExpect("sim-runs", SimRun(event_id, kPerEvent), 201);
      ASSERT_EQ(run["prediction_ids"].size(), static_cast<size_t>(kPerEvent)) << run;
      for (const json& id : run["prediction_ids"]) prediction_ids.push_back(id);
    }
    std::vector<std::future<int>> publishers;
    for (int t = 0; t < kPublishThreads; ++t) {
      publishers.push_back(std::async(std::launch::async, [&, t] {
        int failures = 0;
        for (size_t i = t; i < prediction_ids.size(); i += kPublishThreads) {
          HttpResult r = server_.Post("publish", PublishBody(prediction_ids[i]));
          if (r.status != 201) ++failures;
        }
        return failures;
      }));
    }
    for (auto& publisher : publishers) EXPECT_EQ(publisher.get(), 0) << "publishes failed";
    for (int e = 0; e < kEvents; ++e) {
      PostExpect("event-results", ResultBody("nba-2030-02-" + std::to_string(10 + e), 110, 100),
                 201);
    }
    ASSERT_EQ(server_.RowCounts()["published_predictions"], kPending);
  }

  // Polls GET jobs until `job`'s last run is running (and, when given, has `trigger`);
  // returns that run, or null at the deadline.
  json WaitUntilRunning(const std::string& job, const std::string& trigger = "") {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
    while (SteadyClock::now() < deadline) {
      HttpResult r = server_.Get("jobs");
      if (r.status != 200) {
        ADD_FAILURE() << "GET jobs: " << r.status << " " << r.error << r.body;
        return nullptr;
      }
      const json list = r.Json();
      for (const json& item : list["items"]) {
        const json& last = item["last_run"];
        if (item["name"] == job && last.is_object() && last["status"] == "running" &&
            (trigger.empty() || last["trigger"] == trigger)) {
          return last;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ADD_FAILURE() << "job " << job << " was not seen running within 60 s:\n" << server_.Log();
    return nullptr;
  }

  // Sends SIGTERM and waits (bounded) for the exit; expects exit status 0.
  void TerminateExpectingExitZero() {
    const int status = server_.Kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status)) << "wait status " << status << "\n" << server_.Log();
    EXPECT_EQ(WEXITSTATUS(status), 0) << server_.Log();
  }

  // Expects the run of `slot` among `runs` to have succeeded after `signalled` having graded
  // every pending publish.
  static void ExpectFinishedAfter(const std::vector<store::JobRun>& runs, const std::string& slot,
                                  TimePoint signalled) {
    auto run = std::find_if(runs.begin(), runs.end(),
                            [&](const store::JobRun& r) { return r.slot == slot; });
    ASSERT_NE(run, runs.end()) << "no job_runs row for slot " << slot;
    EXPECT_EQ(run->status, "succeeded") << run->summary_json;
    ASSERT_TRUE(run->finished_at.has_value());
    // It was still running when the signal came: the server finished it before exiting.
    EXPECT_GE(*run->finished_at, signalled)
        << FormatRfc3339(*run->finished_at) << " < " << FormatRfc3339(signalled);
    ASSERT_TRUE(run->duration_ms.has_value());
    EXPECT_EQ(*run->duration_ms, (*run->finished_at - run->started_at).count());
    json summary = json::parse(run->summary_json, nullptr, false);
    EXPECT_EQ(summary["graded"], kPending) << run->summary_json;
    EXPECT_TRUE(summary["rollups"].is_object()) << run->summary_json;
    for (const store::JobRun& r : runs) EXPECT_NE(r.status, "running") << r.slot;
  }
};

TEST_F(ShutdownTest, SigtermDuringManualJobAndRequestsFinishesThemAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(SeedPending());
  auto grading = std::async(std::launch::async,
                            [&] { return server_.Post("jobs/grading/run", json::object()); });
  const json running = WaitUntilRunning("grading", "manual");
  ASSERT_TRUE(running.is_object());
  // Requests sent before the signal: a manual rollups run, which waits for the grading job
  // (one job at a time) and so is still in flight at the signal, and reads beside it.
  auto rollups = std::async(std::launch::async,
                            [&] { return server_.Post("jobs/rollups/run", json::object()); });
  auto summary = std::async(std::launch::async, [&] { return server_.Get("performance-summary"); });
  auto jobs = std::async(std::launch::async, [&] { return server_.Get("jobs"); });
  std::this_thread::sleep_for(kSettle);
  ASSERT_EQ(WaitUntilRunning("grading", "manual")["slot"], running["slot"])
      << "the job ended before the signal could be sent; seed more publishes";

  const TimePoint signalled = Now();
  TerminateExpectingExitZero();

  HttpResult graded = grading.get();
  ASSERT_EQ(graded.status, 200) << graded.error << graded.body;
  json run = graded.Json();
  EXPECT_EQ(run["job"], "grading");
  EXPECT_EQ(run["trigger"], "manual");
  EXPECT_EQ(run["status"], "succeeded") << run;
  EXPECT_EQ(run["slot"], running["slot"]);
  EXPECT_EQ(run["summary"]["graded"], kPending) << run;
  HttpResult refreshed = rollups.get();
  ASSERT_EQ(refreshed.status, 200) << refreshed.error << refreshed.body;
  EXPECT_EQ(refreshed.Json()["trigger"], "manual");
  EXPECT_EQ(refreshed.Json()["status"], "succeeded") << refreshed.body;
  for (HttpResult read : {summary.get(), jobs.get()}) {
    EXPECT_EQ(read.status, 200) << read.error << read.body;
  }

  OnDisk disk;
  ASSERT_TRUE(ReadDatabase(server_.db_path(), disk));
  EXPECT_EQ(disk.counts["grading"], kPending);
  ASSERT_EQ(disk.grading_runs.size(), 1u);
  ExpectFinishedAfter(disk.grading_runs, running["slot"], signalled);
  EXPECT_EQ(disk.grading_runs[0].trigger, "manual");
  ASSERT_EQ(disk.rollups_runs.size(), 1u);
  EXPECT_EQ(disk.rollups_runs[0].slot, refreshed.Json()["slot"]);
  EXPECT_EQ(disk.rollups_runs[0].status, "succeeded");
  EXPECT_TRUE(disk.rollups_runs[0].finished_at.has_value());
  EXPECT_GT(disk.counts["performance_rollups"], 0);
}

TEST_F(ShutdownTest, SigtermDuringScheduledJobFinishesAndRecordsIt) {
  ASSERT_NO_FATAL_FAILURE(SeedPending());
  // On the same database, a grading schedule that fires every second: the first slot after
  // start-up grades everything seeded.
  server_.set_serve_flags({"--grading-schedule", "*/1 * * * * *"});
  ASSERT_TRUE(server_.Restart());
  const json running = WaitUntilRunning("grading", "scheduled");
  ASSERT_TRUE(running.is_object());
  // A request accepted before the signal waits for the scheduled job.
  auto rollups = std::async(std::launch::async,
                            [&] { return server_.Post("jobs/rollups/run", json::object()); });
  std::this_thread::sleep_for(kSettle);
  ASSERT_EQ(WaitUntilRunning("grading", "scheduled")["slot"], running["slot"])
      << "the job ended before the signal could be sent; seed more publishes";

  const TimePoint signalled = Now();
  TerminateExpectingExitZero();
  HttpResult refreshed = rollups.get();
  ASSERT_EQ(refreshed.status, 200) << refreshed.error << refreshed.body;
  EXPECT_EQ(refreshed.Json()["status"], "succeeded") << refreshed.body;

  OnDisk disk;
  ASSERT_TRUE(ReadDatabase(server_.db_path(), disk));
  EXPECT_EQ(disk.counts["grading"], kPending);
  ASSERT_FALSE(disk.grading_runs.empty());
  ExpectFinishedAfter(disk.grading_runs, running["slot"], signalled);
  auto run = std::find_if(disk.grading_runs.begin(), disk.grading_runs.end(),
                          [&](const store::JobRun& r) { return r.slot == running["slot"]; });
  ASSERT_NE(run, disk.grading_runs.end());
  EXPECT_EQ(run->trigger, "scheduled");
  ASSERT_TRUE(ParseRfc3339(run->slot).ok()) << run->slot;
}

TEST_F(ShutdownTest, IdleServerExitsZeroOnSigint) {
  const int status = server_.Kill(SIGINT);
  EXPECT_TRUE(WIFEXITED(status)) << "wait status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << server_.Log();
  OnDisk disk;
  ASSERT_TRUE(ReadDatabase(server_.db_path(), disk));
  EXPECT_TRUE(disk.grading_runs.empty());
}

}  // namespace
}  // namespace truthbook::test_support
