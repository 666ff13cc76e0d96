// The server's standard jobs (DESIGN §3 "Scheduler"): weekly calibration, daily grading (which
// also refreshes the rollups), daily rollups and snapshot retention, each a settings-driven
// wrapper around a service. Thread-safe as the services are.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "scheduler/scheduler.h"
#include "service/calibration_service.h"
#include "service/context.h"
#include "service/grading_service.h"

namespace truthbook::scheduler {

// Schedules (UTC cron) and parameters of the standard jobs; each default is noted.
struct JobSettings {
  std::string calibration_schedule = "0 3 * * 0";  // Sundays 03:00
  service::CalibrationJobRequest calibration;      // 30 training days, isotonic, gates
  std::string grading_schedule = "0 4 * * *";      // daily 04:00
  service::GradingOptions grading;
  std::string rollups_schedule = "30 4 * * *";  // daily 04:30, after grading
  std::string retention_schedule = "0 5 * * *";
  bool retention_enabled = false;  // off: deleting snapshots is opt-in
  std::chrono::days retention{90};
};

// Names of the standard jobs, as GET jobs and POST jobs/{name}/run know them.
inline constexpr char kCalibrationJob[] = "calibration";
inline constexpr char kGradingJob[] = "grading";
inline constexpr char kRollupsJob[] = "rollups";
inline constexpr char kRetentionJob[] = "snapshot-retention";

// The four jobs, in that order. Each summary is a JSON object of what the service reported.
std::vector<Job> StandardJobs(service::Context ctx, const JobSettings& settings);

}  // namespace truthbook::scheduler
