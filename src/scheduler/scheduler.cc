#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/time.h"

namespace truthbook::scheduler {

std::string SlotName(TimePoint slot) { return FormatRfc3339(slot); }

Result<std::unique_ptr<Scheduler>> Scheduler::Create(store::Store& store, const Clock& clock,
                                                     UuidV7Generator& ids, std::vector<Job> jobs,
                                                     SchedulerOptions options) {
  std::vector<Entry> entries;
  for (Job& job : jobs) {
    const std::string field = "jobs[" + job.name + "]";
    for (const Entry& e : entries) {
      if (e.job.name == job.name) return InvalidArgument(field + ": appears twice");
    }
    Result<CronExpr> cron = CronExpr::Parse(job.schedule);
    if (!cron.ok()) return InvalidArgument(field + ".schedule: " + cron.status().message());
    entries.push_back(Entry{std::move(job), *std::move(cron), std::nullopt});
  }
  return std::unique_ptr<Scheduler>(
      new Scheduler(store, clock, ids, std::move(entries), std::move(options)));
}

Scheduler::Scheduler(store::Store& store, const Clock& clock, UuidV7Generator& ids,
                     std::vector<Entry> entries, SchedulerOptions options)
    : store_(store),
      clock_(clock),
      ids_(ids),
      options_(std::move(options)),
      entries_(std::move(entries)) {}

Scheduler::~Scheduler() {
  Stop(std::chrono::hours(24));
  if (thread_.joinable()) thread_.join();
}

Result<std::optional<store::JobRun>> Scheduler::Claim(Entry& entry, std::string slot,
                                                      std::string trigger) {
  store::JobRun run{entry.job.name, std::move(slot),   std::move(trigger),
                    "running",      options_.instance, clock_.Now(),
                    std::nullopt,   std::nullopt,      "{}"};
  Status claimed = store_.Write([&](store::WriteTxn& txn) { return txn.InsertJobRun(run); });
  if (claimed.code() == StatusCode::kAlreadyExists) return std::optional<store::JobRun>();
  RETURN_IF_ERROR(claimed);
  Result<std::string> result = Internal("job threw");
  try {
    result = entry.job.run();
  } catch (const std::exception& e) {
    result = Internal(std::string("job threw: ") + e.what());
  }
  run.finished_at = clock_.Now();
  run.duration_ms = (*run.finished_at - run.started_at).count();
  run.status = result.ok() ? "succeeded" : "failed";
  run.summary_json =
      result.ok() ? *result : nlohmann::json{{"error", result.status().ToString()}}.dump();
  RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) { return txn.FinishJobRun(run); }));
  return std::optional(std::move(run));
}

Result<std::vector<store::JobRun>> Scheduler::TickJob(Entry& entry, TimePoint now) {
  std::optional<TimePoint> next;
  {
    std::lock_guard lock(mu_);
    next = entry.next;
  }
  if (!next) {  // resume after the latest slot any server recorded, else from now
    std::optional<std::string> last;
    RETURN_IF_ERROR(store_.Read([&](store::Reader& r) -> Status {
      ASSIGN_OR_RETURN(last, r.LatestJobSlot(entry.job.name));
      return Status::Ok();
    }));
    // A slot at exactly `now` is due: start just before it.
    Result<TimePoint> last_slot =
        last ? ParseRfc3339(*last) : Result<TimePoint>(now - std::chrono::milliseconds(1));
    next = entry.cron.Next(last_slot.ok() ? *last_slot : now);
  }
  std::vector<store::JobRun> out;
  if (*next <= now) {
    const TimePoint first = *next;
    const TimePoint window_start = now - options_.grace;
    if (first < window_start) {
      const nlohmann::json summary = {
          {"reason", "no server ran it within the grace window"},
          {"grace_seconds",
           std::chrono::duration_cast<std::chrono::seconds>(options_.grace).count()}};
      store::JobRun missed{
          entry.job.name, SlotName(first), "scheduled", "missed", options_.instance, now, now, 0,
          summary.dump()};
      Status s = store_.Write([&](store::WriteTxn& txn) { return txn.InsertJobRun(missed); });
      if (s.ok()) {
        out.push_back(std::move(missed));
      } else if (s.code() != StatusCode::kAlreadyExists) {
        return s;
      }
    }
    // The latest slot within the window runs once for all the slots missed before it.
    std::optional<TimePoint> latest;
    const TimePoint from =
        first < window_start ? entry.cron.Next(window_start - std::chrono::milliseconds(1)) : first;
    for (TimePoint t = from; t <= now; t = entry.cron.Next(t)) latest = t;
    if (latest) {
      const char* trigger = now - *latest > options_.late_after ? "catch_up" : "scheduled";
      ASSIGN_OR_RETURN(std::optional<store::JobRun> run, Claim(entry, SlotName(*latest), trigger));
      if (run) out.push_back(*std::move(run));
    }
    next = entry.cron.Next(now);
  }
  std::lock_guard lock(mu_);
  entry.next = next;
  return out;
}

Result<std::vector<store::JobRun>> Scheduler::Tick() {
  std::lock_guard run_lock(run_mu_);
  std::vector<store::JobRun> out;
  for (Entry& entry : entries_) {
    if (!entry.job.enabled) continue;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    ASSIGN_OR_RETURN(std::vector<store::JobRun> runs, TickJob(entry, clock_.Now()));
    for (store::JobRun& run : runs) out.push_back(std::move(run));
  }
  return out;
}

void Scheduler::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    Result<std::vector<store::JobRun>> runs = Tick();
    std::vector<std::string> soon;
    {
      std::lock_guard lock(mu_);
      soon.swap(soon_);
    }
    for (const std::string& job : soon) {
      Result<store::JobRun> run = RunNow(job);
      if (runs.ok() && run.ok()) runs->push_back(*std::move(run));
    }
    if (!runs.ok()) {
      spdlog::warn("scheduler: {}", runs.status().ToString());
    } else {
      for (const store::JobRun& run : *runs) {
        spdlog::info("job {} slot {}: {} {}", run.job, run.slot, run.status, run.summary_json);
      }
    }
    const TimePoint now = clock_.Now();
    std::chrono::milliseconds wait = std::chrono::seconds(1);
    std::unique_lock lock(mu_);
    for (const Entry& entry : entries_) {
      if (entry.job.enabled && entry.next) wait = std::min(wait, *entry.next - now);
    }
    wake_.wait_for(lock, std::max(wait, std::chrono::milliseconds(0)),
                   [this] { return stopping_ || !soon_.empty(); });
  }
  std::lock_guard lock(mu_);
  loop_done_ = true;
  wake_.notify_all();
}

bool Scheduler::Stop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  stopping_ = true;
  wake_.notify_all();
  if (!started_) return true;
  if (!wake_.wait_for(lock, timeout, [this] { return loop_done_; })) return false;
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  return true;
}

bool Scheduler::running() const {
  std::lock_guard lock(mu_);
  return started_ && !loop_done_ && !stopping_;
}

Result<std::vector<service::JobInfo>> Scheduler::Jobs() {
  std::vector<service::JobInfo> out;
  const TimePoint now = clock_.Now();
  for (const Entry& entry : entries_) {
    service::JobInfo info{entry.job.name, entry.job.schedule, entry.job.enabled, std::nullopt,
                          std::nullopt};
    if (entry.job.enabled) {
      std::lock_guard lock(mu_);
      info.next_run = entry.next && *entry.next > now ? *entry.next : entry.cron.Next(now);
    }
    RETURN_IF_ERROR(store_.Read([&](store::Reader& r) -> Status {
      ASSIGN_OR_RETURN(std::vector<store::JobRun> runs, r.ListJobRuns(entry.job.name, 1));
      if (!runs.empty()) info.last_run = std::move(runs.front());
      return Status::Ok();
    }));
    out.push_back(std::move(info));
  }
  return out;
}

void Scheduler::RunSoon(const std::string& job) {
  std::lock_guard lock(mu_);
  if (stopping_ || std::find(soon_.begin(), soon_.end(), job) != soon_.end()) return;
  soon_.push_back(job);
  wake_.notify_all();
}

Result<store::JobRun> Scheduler::RunNow(const std::string& job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("scheduler: stopping");
  }
  auto entry = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry& e) { return e.job.name == job; });
  if (entry == entries_.end()) return NotFound("job: no job named \"" + job + "\"");
  std::lock_guard run_lock(run_mu_);
  ASSIGN_OR_RETURN(std::optional<store::JobRun> run,
                   Claim(*entry, "manual:" + ids_.Next(), "manual"));
  if (!run) return Internal("job_runs: a fresh manual slot was already claimed");
  return *std::move(run);
}

}  // namespace truthbook::scheduler
