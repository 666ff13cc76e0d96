#include "scheduler/jobs.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "service/rollup_service.h"
#include "service/snapshot_service.h"

namespace truthbook::scheduler {
namespace {

using nlohmann::json;

json RollupSummary(const service::RollupRefreshReport& r) {
  return {
      {"days", r.days}, {"rows", r.rows}, {"watermark", r.watermark}, {"elapsed_ms", r.elapsed_ms}};
}

}  // namespace

std::vector<Job> StandardJobs(service::Context ctx, const JobSettings& settings) {
  // The services live as long as the jobs (shared by the copies std::function makes).
  auto calibration = std::make_shared<service::CalibrationService>(ctx);
  auto grading = std::make_shared<service::GradingService>(ctx, settings.grading);
  auto rollups = std::make_shared<service::RollupService>(ctx);
  auto snapshots = std::make_shared<service::SnapshotService>(ctx);
  std::vector<Job> jobs;
  jobs.push_back({kCalibrationJob, settings.calibration_schedule, true,
                  [calibration, request = settings.calibration]() -> Result<std::string> {
                    ASSIGN_OR_RETURN(service::CalibrationJobResult r,
                                     calibration->RunJob(request, "scheduler"));
                    return json{{"calibration_version_id", r.version.calibration_version_id},
                                {"n", r.version.n},
                                {"gates_passed", r.version.gates_passed},
                                {"activated", r.activation.has_value()}}
                        .dump();
                  }});
  jobs.push_back(
      {kGradingJob, settings.grading_schedule, true, [grading, rollups]() -> Result<std::string> {
         ASSIGN_OR_RETURN(service::GradeAllReport graded, grading->GradeAllPending());
         ASSIGN_OR_RETURN(service::RollupRefreshReport refreshed, rollups->Refresh());
         return json{{"graded", graded.graded},
                     {"superseding", graded.superseding},
                     {"skipped", graded.skipped},
                     {"elapsed_ms", graded.elapsed_ms},
                     {"rollups", RollupSummary(refreshed)}}
             .dump();
       }});
  jobs.push_back({kRollupsJob, settings.rollups_schedule, true, [rollups]() -> Result<std::string> {
                    ASSIGN_OR_RETURN(service::RollupRefreshReport r, rollups->Refresh());
                    return RollupSummary(r).dump();
                  }});
  jobs.push_back({kRetentionJob, settings.retention_schedule, settings.retention_enabled,
                  [snapshots, retention = settings.retention]() -> Result<std::string> {
                    ASSIGN_OR_RETURN(ledger::SnapshotCleanup c, snapshots->Cleanup(retention));
                    return json{{"cleanup_id", c.cleanup_id}, {"deleted", c.deleted_count}}.dump();
                  }});
  return jobs;
}

}  // namespace truthbook::scheduler
