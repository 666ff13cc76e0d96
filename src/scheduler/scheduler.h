// Scheduler: runs named jobs on UTC cron schedules, each slot exactly once per store. A slot
// is claimed by inserting the unique (job, slot) row of job_runs, so several servers sharing
// one store never run it twice. Slots missed while no server ran are caught up once within
// a grace window and recorded as missed beyond it (docs/SCHEDULER.md). Time comes only from
// the injected Clock: tests call Tick() on a ManualClock and never sleep.
// Thread-safe. Jobs run one at a time per Scheduler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/uuid.h"
#include "scheduler/cron.h"
#include "service/job_control.h"
#include "store/store.h"

namespace truthbook::scheduler {

struct Job {
  std::string name;
  std::string schedule;  // cron expression, UTC
  bool enabled = true;   // a disabled job never runs on schedule, but may be run by hand
  // Does the work. Success: the run's summary, a JSON object. Failure: the run is recorded
  // as failed with the error.
  std::function<Result<std::string>()> run;
};

struct SchedulerOptions {
  // A slot missed by at most this much still runs (once, even when several were missed);
  // older missed slots are recorded as missed. Default 6 hours.
  std::chrono::milliseconds grace = std::chrono::hours(6);
  // A slot run later than this after its time is recorded as trigger "catch_up" rather than
  // "scheduled". Default 60 seconds.
  std::chrono::milliseconds late_after = std::chrono::seconds(60);
  // This server's name in job_runs.claimed_by. Default "truthbook".
  std::string instance = "truthbook";
};

class Scheduler final : public service::JobControl {
 public:
  // InvalidArgument "jobs[<name>].schedule: <cron error>" for a bad schedule, or for two jobs
  // of one name.
  static Result<std::unique_ptr<Scheduler>> Create(store::Store& store, const Clock& clock,
                                                   UuidV7Generator& ids, std::vector<Job> jobs,
                                                   SchedulerOptions options);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler() override;

  // Runs or records every slot due by clock.Now(), job by job, on the calling thread:
  // the latest due slot within the grace window runs (claimed first; a slot another server
  // claimed is skipped), and the first due slot older than the window is recorded as missed.
  // The first Tick of a job resumes after its latest recorded slot (or from now, for a job
  // that never ran). Returns the runs this call recorded. Errors: those of the store.
  Result<std::vector<store::JobRun>> Tick();

  // Starts a thread that calls Tick and sleeps until the next slot (waking at least once a
  // second, so that clock steps are noticed). Call once.
  void Start();

  // Stops the thread after the job it is running, waiting at most `timeout`. Returns false
  // when the job was still running at the deadline (the thread is then left to finish it).
  // Later RunNow calls fail with Unavailable. Safe to call more than once.
  bool Stop(std::chrono::milliseconds timeout);

  bool running() const override;
  Result<std::vector<service::JobInfo>> Jobs() override;
  Result<store::JobRun> RunNow(const std::string& job) override;
  void RunSoon(const std::string& job) override;

 private:
  struct Entry {
    Job job;
    CronExpr cron;
    std::optional<TimePoint> next;  // the first slot not yet run or recorded; unset before
                                    // the first Tick
  };

  Scheduler(store::Store& store, const Clock& clock, UuidV7Generator& ids,
            std::vector<Entry> entries, SchedulerOptions options);

  // Claims (job, slot), runs the job and records how it ended. nullopt when another run
  // holds the slot.
  Result<std::optional<store::JobRun>> Claim(Entry& entry, std::string slot, std::string trigger);
  Result<std::vector<store::JobRun>> TickJob(Entry& entry, TimePoint now);
  void Loop();

  store::Store& store_;
  const Clock& clock_;
  UuidV7Generator& ids_;
  SchedulerOptions options_;
  std::vector<Entry> entries_;  // guarded by run_mu_

  std::mutex run_mu_;  // held while a job runs: one job at a time
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool started_ = false;           // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  bool loop_done_ = false;         // guarded by mu_
  std::vector<std::string> soon_;  // jobs asked for by RunSoon; guarded by mu_
  std::thread thread_;
};

// Formats a slot (a fire time) as it is stored in job_runs.slot.
std::string SlotName(TimePoint slot);

}  // namespace truthbook::scheduler
