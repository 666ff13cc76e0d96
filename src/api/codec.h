// JSON codecs for the HTTP API (API.md): request bodies into service requests, records into
// response documents. Decoding checks presence and types; the services check domain rules.
// Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/status.h"
#include "ledger/records.h"
#include "service/calibration_service.h"
#include "service/grading_service.h"
#include "service/job_control.h"
#include "service/requests.h"
#include "service/rollup_service.h"
#include "service/sim_run_service.h"

namespace truthbook::api {

Result<service::EventRequest> DecodeEvent(std::string_view body);
Result<service::CaptureSnapshotRequest> DecodeCaptureSnapshot(std::string_view body);
Result<service::CaptureInjuryRequest> DecodeCaptureInjury(std::string_view body);
Result<service::SimRunRequest> DecodeSimRun(std::string_view body);
Result<service::PublishRequest> DecodePublish(std::string_view body);
Result<service::EventResultRequest> DecodeEventResult(std::string_view body);
// run-calibration-job: the seed's {"training_days", "method"} plus optional gate settings
// ("min_n", "min_ece_reduction", "brier_not_worse"), "min_segment_n", "segment_by", "folds"
// and "auto_activate" (default `auto_activate`).
Result<service::CalibrationJobRequest> DecodeCalibrationJob(std::string_view body,
                                                            bool auto_activate);

// activate-calibration/{id}: an empty body, or {"force", "reason", "actor"}.
struct ActivationRequest {
  bool force = false;
  std::string reason;
  std::string actor = "api";
};
Result<ActivationRequest> DecodeActivation(std::string_view body);

struct ApplyRequest {
  std::string sport;
  std::string tier;
  std::string market;
  std::vector<double> probabilities;
};
Result<ApplyRequest> DecodeApply(std::string_view body);

nlohmann::json Encode(const ledger::Event& e);
nlohmann::json Encode(const ledger::OddsSnapshot& s);
nlohmann::json Encode(const ledger::InjurySnapshot& s);
nlohmann::json Encode(const ledger::SimRun& r);
nlohmann::json Encode(const ledger::SimRunInput& i);
nlohmann::json Encode(const ledger::Prediction& p);
nlohmann::json Encode(const ledger::Publish& p);
nlohmann::json Encode(const ledger::EventResult& r);
nlohmann::json Encode(const ledger::SnapshotCleanup& c);
nlohmann::json Encode(const ledger::Grading& g);
nlohmann::json Encode(const service::GradingHistory& h);
nlohmann::json Encode(const service::GradeAllReport& r);
nlohmann::json Encode(const service::GradingSummary& s);
// {"rollup_key", "window", "from" (YYYY-MM-DD or null), "to", "season", the
// grading-summary fields, "ece"}.
nlohmann::json Encode(const service::Performance& p);
// {"job", "slot", "trigger", "status", "claimed_by", "started_at", "finished_at",
// "duration_ms", "summary"}.
nlohmann::json Encode(const store::JobRun& r);
// {"name", "schedule", "enabled", "next_run", "last_run"}.
nlohmann::json Encode(const service::JobInfo& j);
nlohmann::json Encode(const ledger::CalibrationVersion& v);
nlohmann::json Encode(const ledger::CalibrationSegment& s);
nlohmann::json Encode(const ledger::CalibrationActivation& a);
nlohmann::json Encode(const service::CalibrationJobResult& r);
nlohmann::json Encode(const service::ActiveCalibration& a);
nlohmann::json Encode(const service::AppliedCalibration& a);
nlohmann::json Encode(const service::SimRunView& v);
nlohmann::json Encode(const service::PredictionView& v);

}  // namespace truthbook::api
