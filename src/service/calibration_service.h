// Calibration as a service: a job fits one version from graded history, per segment
// (sport × tier × market) with fallback pools, scores it on cross-fitted held-out data, records
// its gates and may activate it; activations are official records in the ledger; apply maps
// raw probabilities through the live version. docs/CALIBRATION.md states the rules.
// Thread-safe (the store serializes writes; the calibrator cache has its own lock).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "calibration/calibrator.h"
#include "calibration/evaluation.h"
#include "ledger/records.h"
#include "service/context.h"

namespace truthbook::service {

// One calibration job (POST run-calibration-job). Unset fields take the defaults noted.
struct CalibrationJobRequest {
  int64_t training_days = 30;  // train on publishes of the last N days (> 0)
  std::string method = "isotonic";
  calibration::GateSettings gates;  // n >= 1000, held-out ECE down >= 0.01, Brier not worse
  int64_t min_segment_n = 200;      // smaller segments fall back to a pool
  std::vector<std::string> segment_by = {"sport", "tier", "market"};
  int folds = 5;               // time-ordered cross-fitting folds (>= 2)
  bool auto_activate = false;  // activate when every gate passes
};

struct CalibrationJobResult {
  ledger::CalibrationVersion version;
  std::vector<ledger::CalibrationSegment> segments;
  std::optional<ledger::CalibrationActivation> activation;  // set when auto-activated
};

// The live version and how it became live.
struct ActiveCalibration {
  ledger::CalibrationActivation activation;
  ledger::CalibrationVersion version;
};

struct AppliedCalibration {
  std::string calibration_version_id;
  std::string segment;  // the segment key whose fit was used (after fallback)
  std::vector<double> calibrated;
};

class CalibrationService {
 public:
  explicit CalibrationService(Context ctx) : ctx_(ctx) {}
  CalibrationService(const CalibrationService&) = delete;
  CalibrationService& operator=(const CalibrationService&) = delete;

  // Fits and stores a version. InvalidArgument names a bad field; FailedPrecondition when
  // there is nothing graded in the window.
  Result<CalibrationJobResult> RunJob(const CalibrationJobRequest& req, const std::string& actor);

  // Makes a version live. NotFound for an unknown version; FailedPrecondition when its gates
  // failed and `force` is false; InvalidArgument for force without a reason.
  Result<ledger::CalibrationActivation> Activate(const std::string& version_id, bool force,
                                                 const std::string& reason,
                                                 const std::string& actor);

  Result<std::vector<ledger::CalibrationVersion>> ListVersions(int limit);
  // nullopt when nothing was ever activated.
  Result<std::optional<ActiveCalibration>> Active();
  // NotFound for an unknown version.
  Result<std::vector<ledger::CalibrationSegment>> Segments(const std::string& version_id);
  // One segment of a version; NotFound if either is unknown.
  Result<ledger::CalibrationSegment> Segment(const std::string& version_id,
                                             const std::string& segment_key);

  // Maps `probabilities` through the live version's fit for the segment (falling back as the
  // job did). FailedPrecondition when no version is live; InvalidArgument for p outside
  // [0, 1] ("probabilities[i]: ...").
  Result<AppliedCalibration> Apply(const std::string& sport, const std::string& tier,
                                   const std::string& market,
                                   std::span<const double> probabilities);

 private:
  // The calibrator stored in `segment`, parsed once per (version, segment). Versions never
  // change, so entries are never replaced and the pointer stays valid.
  Result<const calibration::Calibrator*> Calibrator(const ledger::CalibrationSegment& segment);

  Context ctx_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<calibration::Calibrator>> calibrators_;  // guarded by mu_
};

}  // namespace truthbook::service
