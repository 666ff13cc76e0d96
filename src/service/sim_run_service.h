// Sim runs with exact lineage: a run, the snapshots it read (pinned by id and content hash)
// and its predictions are created in one transaction, all or nothing. Also the lineage reads.
// Thread-safe.
#pragma once

#include <optional>
#include <vector>

#include "ledger/records.h"
#include "service/calibration_service.h"
#include "service/context.h"
#include "service/requests.h"

namespace truthbook::service {

struct SimRunView {
  ledger::SimRun run;
  std::vector<ledger::SimRunInput> inputs;
  std::vector<ledger::Prediction> predictions;
};

// A prediction with everything it stands on.
struct PredictionView {
  ledger::Prediction prediction;
  ledger::SimRun sim_run;
  std::vector<ledger::SimRunInput> inputs;
  std::optional<ledger::Event> event;
  std::optional<ledger::Publish> publish;
};

class SimRunService {
 public:
  // `calibration` (nullable) calibrates predictions sent without calibrated_prob.
  explicit SimRunService(Context ctx, CalibrationService* calibration = nullptr)
      : ctx_(ctx), calibration_(calibration) {}
  SimRunService(const SimRunService&) = delete;
  SimRunService& operator=(const SimRunService&) = delete;

  // Creates the run, its inputs and predictions. A prediction without calibrated_prob gets
  // one from the active calibration version for its segment (sport, tier, market), with that
  // version's id, when a version is active. InvalidArgument names the bad field;
  // NotFound names an unknown snapshot or event (inputs[i].snapshot_id,
  // predictions[i].event_id). Nothing is written on failure.
  Result<SimRunView> Create(const SimRunRequest& req);

  // NotFound when the id is unknown.
  Result<SimRunView> Get(const std::string& sim_run_id);
  Result<PredictionView> GetPrediction(const std::string& prediction_id);

 private:
  // Fills calibrated_prob and calibration_version_id of the predictions that lack them.
  Status Calibrate(std::vector<ledger::Prediction>& predictions);

  Context ctx_;
  CalibrationService* calibration_;
};

}  // namespace truthbook::service
