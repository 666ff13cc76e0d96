// The scheduler on a real SQLite store and a ManualClock: every test moves the clock and calls
// Tick(); none sleeps. Slots, triggers and statuses are read back from job_runs.
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "base/status_test_util.h"
#include "base/time.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook::scheduler {
namespace {

using namespace std::chrono;

TimePoint At(std::string_view rfc3339) { return ParseRfc3339(rfc3339).value(); }

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("scheduler_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = OpenStore();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<store::Store> OpenStore() {
    auto opened = store::sqlite::SqliteStore::Open((dir_ / "t.db").string(), clock_);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return std::move(opened).value();
  }

  // A job that counts its runs in runs_[name].
  Job Counting(const std::string& name, const std::string& schedule) {
    return Job{name, schedule, true, [this, name]() -> Result<std::string> {
                 ++runs_[name];
                 return std::string(R"({"ok":true})");
               }};
  }

  std::unique_ptr<Scheduler> Make(std::vector<Job> jobs, store::Store* store = nullptr,
                                  milliseconds grace = hours(6)) {
    SchedulerOptions options;
    options.grace = grace;
    auto made = Scheduler::Create(store != nullptr ? *store : *store_, clock_, ids_,
                                  std::move(jobs), options);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return std::move(made).value();
  }

  std::vector<store::JobRun> Runs(const std::string& job) {
    std::vector<store::JobRun> runs;
    EXPECT_OK(store_->Read([&](store::Reader& r) -> Status {
      ASSIGN_OR_RETURN(runs, r.ListJobRuns(job, 100000));
      return Status::Ok();
    }));
    std::reverse(runs.begin(), runs.end());  // oldest first
    return runs;
  }

  ManualClock clock_{At("2026-01-01T00:00:00Z")};
  UuidV7Generator ids_{clock_};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::map<std::string, std::atomic<int>> runs_;
};

TEST_F(SchedulerTest, WeeklyJobFiresAtSunday0300ExactlyOnceOverAYear) {
  auto scheduler = Make({Counting("calibration", "0 3 * * 0")});
  ASSERT_OK(scheduler->Tick());
  const TimePoint end = At("2027-01-01T00:00:00Z");
  while (clock_.Now() < end) {
    clock_.Advance(minutes(1));
    ASSERT_OK(scheduler->Tick());
  }
  // The Sundays of 2026 (Jan 4 is the first), each at 03:00, computed from the calendar.
  std::vector<std::string> expected;
  for (sys_days d = sys_days(year(2026) / January / 4); d < sys_days(year(2027) / January / 1);
       d += days(7)) {
    expected.push_back(FormatRfc3339(TimePoint(d) + hours(3)));
  }
  ASSERT_EQ(expected.size(), 52u);
  std::vector<std::string> slots;
  for (const store::JobRun& run : Runs("calibration")) {
    slots.push_back(run.slot);
    EXPECT_EQ(run.trigger, "scheduled");
    EXPECT_EQ(run.status, "succeeded");
    EXPECT_EQ(FormatRfc3339(run.started_at), run.slot);  // on the minute it was due
  }
  EXPECT_EQ(slots, expected);
  EXPECT_EQ(runs_["calibration"], 52);
}

TEST_F(SchedulerTest, FirstStartDoesNotRunSlotsBeforeIt) {
  clock_.Set(At("2026-01-04T03:30:00Z"));  // 30 minutes after a Sunday slot, inside the grace
  auto scheduler = Make({Counting("calibration", "0 3 * * 0")});
  ASSERT_OK(scheduler->Tick());
  EXPECT_EQ(runs_["calibration"], 0);
  EXPECT_TRUE(Runs("calibration").empty());
}

TEST_F(SchedulerTest, RestartAfterMissedSlotInsideGraceRunsItOnce) {
  clock_.Set(At("2026-03-01T03:59:00Z"));
  {
    auto first = Make({Counting("grading", "0 4 * * *")});
    ASSERT_OK(first->Tick());
    clock_.Set(At("2026-03-01T04:00:00Z"));
    ASSERT_OK(first->Tick());
    ASSERT_EQ(runs_["grading"], 1);
  }  // the server stops; 2026-03-02T04:00 passes with nobody running
  clock_.Set(At("2026-03-02T07:00:00Z"));
  auto second = Make({Counting("grading", "0 4 * * *")});
  Result<std::vector<store::JobRun>> ran = second->Tick();
  ASSERT_OK(ran);
  ASSERT_EQ(ran->size(), 1u);
  EXPECT_EQ((*ran)[0].slot, "2026-03-02T04:00:00.000Z");
  EXPECT_EQ((*ran)[0].trigger, "catch_up");
  ASSERT_OK(second->Tick());
  EXPECT_EQ(runs_["grading"], 2);
  clock_.Set(At("2026-03-03T04:00:00Z"));  // and then back on schedule
  ASSERT_OK(second->Tick());
  EXPECT_EQ(runs_["grading"], 3);
  EXPECT_EQ(Runs("grading").back().trigger, "scheduled");
}

TEST_F(SchedulerTest, SeveralMissedSlotsInsideGraceCoalesceIntoOneRun) {
  clock_.Set(At("2026-03-01T12:00:00Z"));
  {
    auto first = Make({Counting("tick", "*/2 * * * * *")}, nullptr, minutes(1));
    ASSERT_OK(first->Tick());
    clock_.Advance(seconds(2));
    ASSERT_OK(first->Tick());
    ASSERT_EQ(runs_["tick"], 2);  // 12:00:00 (due at start) and 12:00:02
  }
  clock_.Advance(seconds(21));  // ten slots pass
  auto second = Make({Counting("tick", "*/2 * * * * *")}, nullptr, minutes(1));
  Result<std::vector<store::JobRun>> ran = second->Tick();
  ASSERT_OK(ran);
  ASSERT_EQ(ran->size(), 1u);
  EXPECT_EQ((*ran)[0].slot, "2026-03-01T12:00:22.000Z");
  EXPECT_EQ(runs_["tick"], 3);
}

TEST_F(SchedulerTest, MissedSlotOutsideGraceIsRecordedAsMissed) {
  clock_.Set(At("2026-03-01T03:59:00Z"));
  {
    auto first = Make({Counting("grading", "0 4 * * *")});
    ASSERT_OK(first->Tick());
    clock_.Set(At("2026-03-01T04:00:00Z"));
    ASSERT_OK(first->Tick());
  }
  clock_.Set(At("2026-03-02T12:00:00Z"));  // 8 hours after the slot; the grace is 6
  auto second = Make({Counting("grading", "0 4 * * *")});
  Result<std::vector<store::JobRun>> ran = second->Tick();
  ASSERT_OK(ran);
  ASSERT_EQ(ran->size(), 1u);
  EXPECT_EQ((*ran)[0].slot, "2026-03-02T04:00:00.000Z");
  EXPECT_EQ((*ran)[0].status, "missed");
  EXPECT_EQ(runs_["grading"], 1);  // it did not run
  std::vector<store::JobRun> rows = Runs("grading");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].status, "missed");
  clock_.Set(At("2026-03-03T04:00:00Z"));
  ASSERT_OK(second->Tick());
  EXPECT_EQ(runs_["grading"], 2);
}

TEST_F(SchedulerTest, TwoSchedulersSharingOneStoreNeverRunTheSameSlotTwice) {
  // Two stores on one file (two connections, as two servers would hold), one scheduler each,
  // ticking from two threads at every step of a simulated 20 minutes of a 2-second job.
  std::unique_ptr<store::Store> other_store = OpenStore();
  clock_.Set(At("2026-06-01T00:00:00Z"));
  auto a = Make({Counting("tick", "*/2 * * * * *")}, store_.get());
  auto b = Make({Counting("tick", "*/2 * * * * *")}, other_store.get());
  ASSERT_OK(a->Tick());  // runs the slot at 00:00:00
  ASSERT_OK(b->Tick());  // finds it claimed
  constexpr int kSteps = 600;
  std::barrier sync(2, [&]() noexcept { clock_.Advance(seconds(2)); });
  auto ticker = [&](Scheduler& s) {
    for (int i = 0; i < kSteps; ++i) {
      sync.arrive_and_wait();
      EXPECT_OK(s.Tick());
    }
  };
  std::thread ta(ticker, std::ref(*a));
  std::thread tb(ticker, std::ref(*b));
  ta.join();
  tb.join();
  std::vector<store::JobRun> rows = Runs("tick");
  std::set<std::string> slots;
  for (const store::JobRun& run : rows) {
    EXPECT_EQ(run.status, "succeeded");
    slots.insert(run.slot);
  }
  EXPECT_EQ(rows.size(), static_cast<size_t>(kSteps + 1));
  EXPECT_EQ(slots.size(), static_cast<size_t>(kSteps + 1));
  EXPECT_EQ(runs_["tick"], kSteps + 1);
}

TEST_F(SchedulerTest, ManualRunsAreRecordedAsManualAndDisabledJobsOnlyRunByHand) {
  Job retention = Counting("snapshot-retention", "0 5 * * *");
  retention.enabled = false;
  auto scheduler = Make({retention});
  clock_.Set(At("2026-01-01T05:00:00Z"));
  ASSERT_OK(scheduler->Tick());
  EXPECT_EQ(runs_["snapshot-retention"], 0);
  Result<store::JobRun> run = scheduler->RunNow("snapshot-retention");
  ASSERT_OK(run);
  EXPECT_EQ(run->trigger, "manual");
  EXPECT_EQ(run->status, "succeeded");
  EXPECT_TRUE(run->slot.starts_with("manual:"));
  EXPECT_EQ(runs_["snapshot-retention"], 1);
  EXPECT_EQ(scheduler->RunNow("nope").status().code(), StatusCode::kNotFound);
  Result<std::vector<service::JobInfo>> jobs = scheduler->Jobs();
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_FALSE((*jobs)[0].next_run.has_value());
  ASSERT_TRUE((*jobs)[0].last_run.has_value());
  EXPECT_EQ((*jobs)[0].last_run->trigger, "manual");
}

TEST_F(SchedulerTest, AFailingJobIsRecordedWithItsError) {
  auto scheduler = Make({Job{"calibration", "0 3 * * *", true, []() -> Result<std::string> {
                               return FailedPrecondition("nothing graded");
                             }}});
  clock_.Set(At("2026-01-01T03:00:00Z"));
  ASSERT_OK(scheduler->Tick());
  std::vector<store::JobRun> rows = Runs("calibration");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "failed");
  EXPECT_NE(rows[0].summary_json.find("nothing graded"), std::string::npos);
  EXPECT_TRUE(rows[0].finished_at.has_value());
}

TEST_F(SchedulerTest, RefusesBadSchedulesAndRepeatedNames) {
  auto bad = Scheduler::Create(*store_, clock_, ids_, {Counting("grading", "0 24 * * *")}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(bad.status().message().starts_with("jobs[grading].schedule: hour:"))
      << bad.status().message();
  auto twice =
      Scheduler::Create(*store_, clock_, ids_,
                        {Counting("grading", "0 4 * * *"), Counting("grading", "0 5 * * *")}, {});
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, StoppedSchedulerRefusesManualRuns) {
  auto scheduler = Make({Counting("rollups", "30 4 * * *")});
  EXPECT_TRUE(scheduler->Stop(seconds(1)));
  EXPECT_EQ(scheduler->RunNow("rollups").status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace truthbook::scheduler
