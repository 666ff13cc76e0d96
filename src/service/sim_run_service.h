// Sim runs with exact lineage: a run, the snapshots it read (pinned by id and content hash)
// and its predictions are created in one transaction, all or nothing. Also the lineage reads.
// Thread-safe.
#pragma once

#include <optional>
#include <vector>

#include "ledger/records.h"
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
  explicit SimRunService(Context ctx) : ctx_(ctx) {}
  SimRunService(const SimRunService&) = delete;
  SimRunService& operator=(const SimRunService&) = delete;

  // Creates the run, its inputs and predictions. InvalidArgument names the bad field;
  // NotFound names an unknown snapshot or event (inputs[i].snapshot_id,
  // predictions[i].event_id). Nothing is written on failure.
  Result<SimRunView> Create(const SimRunRequest& req);

  // NotFound when the id is unknown.
  Result<SimRunView> Get(const std::string& sim_run_id);
  Result<PredictionView> GetPrediction(const std::string& prediction_id);

 private:
  Context ctx_;
};

}  // namespace truthbook::service
