// What the HTTP API may ask of the scheduler (scheduler/ implements it; api/ sees only this):
// the jobs with their last and next runs, and running a job by hand. Implementations are
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/store.h"

namespace truthbook::service {

// One job as `GET jobs` and `health` show it.
struct JobInfo {
  std::string name;
  std::string schedule;  // cron expression (UTC)
  bool enabled = true;
  std::optional<TimePoint> next_run;      // unset when disabled
  std::optional<store::JobRun> last_run;  // the latest run of any trigger
};

class JobControl {
 public:
  virtual ~JobControl() = default;

  // True while the scheduler's loop runs (between Start and Stop).
  virtual bool running() const = 0;

  // Every configured job, in configuration order. Errors: those of the store.
  virtual Result<std::vector<JobInfo>> Jobs() = 0;

  // Runs `job` now on the calling thread and records it with trigger "manual"; returns the
  // finished run (status succeeded or failed). NotFound for an unknown job; Unavailable while
  // the scheduler is stopping.
  virtual Result<store::JobRun> RunNow(const std::string& job) = 0;

  // Asks for a manual run of `job` soon, on the scheduler's own thread, and returns at once;
  // a request made while one is pending joins it. Ignored for an unknown job or once stopping.
  virtual void RunSoon(const std::string& job) = 0;
};

}  // namespace truthbook::service
