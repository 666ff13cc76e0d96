#include "service/sim_run_service.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "service/validate.h"

namespace truthbook::service {
namespace {

Status ValidateRun(const SimRunRequest& r) {
  RETURN_IF_ERROR(RequireText("trigger", r.trigger));
  RETURN_IF_ERROR(RequireText("model_version", r.model_version));
  RETURN_IF_ERROR(RequireText("feature_set_version", r.feature_set_version));
  RETURN_IF_ERROR(RequireText("decision_policy_version", r.decision_policy_version));
  RETURN_IF_ERROR(RequireText("code_version.git_sha", r.git_sha));
  if (r.n_sims <= 0) return InvalidArgument("n_sims: must be > 0");
  if (r.finished_at < r.started_at) {
    return InvalidArgument("finished_at: must not be before started_at");
  }
  if (r.predictions.size() > 100000) return InvalidArgument("predictions: at most 100000");
  std::set<std::string> seen;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    std::string field = "inputs[" + std::to_string(i) + "]";
    const SimRunInputRequest& in = r.inputs[i];
    if (in.kind != "odds_snapshot" && in.kind != "injury_snapshot") {
      return InvalidArgument(field + ".kind: expected odds_snapshot or injury_snapshot");
    }
    RETURN_IF_ERROR(RequireText(field + ".snapshot_id", in.snapshot_id));
    if (!seen.insert(in.snapshot_id).second) {
      return InvalidArgument(field + ".snapshot_id: listed twice");
    }
  }
  return Status::Ok();
}

Result<ledger::Prediction> NormalizePrediction(const PredictionRequest& p,
                                               const std::string& field) {
  RETURN_IF_ERROR(RequireText(field + ".event_id", p.event_id));
  RETURN_IF_ERROR(ValidateMarket(field + ".market", p.market));
  RETURN_IF_ERROR(ValidateSelection(field, p.market, p.selection, p.line));
  if (p.market == "player_prop") {
    RETURN_IF_ERROR(RequireText(field + ".player", p.player.value_or("")));
    RETURN_IF_ERROR(RequireText(field + ".stat", p.stat.value_or("")));
  }
  ASSIGN_OR_RETURN(odds::Price price, NormalizePrice(field + ".price", p.price));
  RETURN_IF_ERROR(RequireText(field + ".book", p.book));
  RETURN_IF_ERROR(ValidateProbability(field + ".raw_prob", p.raw_prob));
  if (p.calibrated_prob) {
    RETURN_IF_ERROR(ValidateProbability(field + ".calibrated_prob", *p.calibrated_prob));
  }
  if (p.edge && !std::isfinite(*p.edge)) return InvalidArgument(field + ".edge: must be finite");
  RETURN_IF_ERROR(RequireText(field + ".tier", p.tier));
  if (!(std::isfinite(p.stake_units) && p.stake_units > 0 && p.stake_units <= 1000)) {
    return InvalidArgument(field + ".stake_units: must be in (0, 1000]");
  }
  ledger::Prediction out;
  out.event_id = p.event_id;
  out.market = p.market;
  out.selection = p.selection;
  out.line = p.line;
  out.player = p.player;
  out.stat = p.stat;
  out.book = p.book;
  out.price_decimal = price.decimal;
  out.price_american = price.american;
  out.raw_prob = p.raw_prob;
  out.calibrated_prob = p.calibrated_prob;
  out.edge = p.edge;
  out.tier = p.tier;
  out.stake_units = p.stake_units;
  return out;
}

}  // namespace

Status SimRunService::Calibrate(std::vector<ledger::Prediction>& predictions) {
  if (calibration_ == nullptr) return Status::Ok();
  // The raw probabilities of each segment, mapped in one call per segment.
  std::map<std::string, std::string> sport_of;  // event_id -> sport
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<size_t>> segments;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    for (size_t i = 0; i < predictions.size(); ++i) {
      const ledger::Prediction& p = predictions[i];
      if (p.calibrated_prob) continue;
      auto sport = sport_of.find(p.event_id);
      if (sport == sport_of.end()) {
        ASSIGN_OR_RETURN(std::optional<ledger::Event> event, r.CurrentEvent(p.event_id));
        if (!event) continue;  // Create reports the unknown event
        sport = sport_of.emplace(p.event_id, event->sport).first;
      }
      segments[{sport->second, p.tier, p.market}].push_back(i);
    }
    return Status::Ok();
  }));
  for (const auto& [segment, members] : segments) {
    std::vector<double> raw;
    for (size_t i : members) raw.push_back(predictions[i].raw_prob);
    const auto& [sport, tier, market] = segment;
    Result<AppliedCalibration> applied = calibration_->Apply(sport, tier, market, raw);
    if (applied.status().code() == StatusCode::kFailedPrecondition) continue;  // none live
    RETURN_IF_ERROR(applied.status());
    for (size_t k = 0; k < members.size(); ++k) {
      ledger::Prediction& p = predictions[members[k]];
      // A calibrated probability of exactly 0 or 1 is not a probability the ledger accepts.
      p.calibrated_prob = std::clamp(applied->calibrated[k], 1e-6, 1 - 1e-6);
      p.calibration_version_id = applied->calibration_version_id;
    }
  }
  return Status::Ok();
}

Result<SimRunView> SimRunService::Create(const SimRunRequest& req) {
  RETURN_IF_ERROR(ValidateRun(req));
  TimePoint now = ctx_.clock.Now();
  SimRunView view;
  view.run = ledger::SimRun{ctx_.ids.Next(),
                            req.trigger,
                            req.model_version,
                            req.feature_set_version,
                            req.decision_policy_version,
                            req.git_sha,
                            req.code_dirty,
                            req.n_sims,
                            req.rng_seed,
                            req.params_canonical,
                            req.started_at,
                            req.finished_at,
                            now};
  for (size_t i = 0; i < req.predictions.size(); ++i) {
    ASSIGN_OR_RETURN(
        ledger::Prediction p,
        NormalizePrediction(req.predictions[i], "predictions[" + std::to_string(i) + "]"));
    p.prediction_id = ctx_.ids.Next();
    p.sim_run_id = view.run.sim_run_id;
    p.recorded_at = now;
    view.predictions.push_back(std::move(p));
  }
  RETURN_IF_ERROR(Calibrate(view.predictions));
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    view.inputs.clear();
    for (size_t i = 0; i < req.inputs.size(); ++i) {
      const SimRunInputRequest& in = req.inputs[i];
      std::string field = "inputs[" + std::to_string(i) + "].snapshot_id";
      ASSIGN_OR_RETURN(std::optional<store::SnapshotRef> ref, txn.FindSnapshotRef(in.snapshot_id));
      if (!ref) return NotFound(field + ": unknown snapshot " + in.snapshot_id);
      if (ref->kind != in.kind) {
        return InvalidArgument(field + ": " + in.snapshot_id + " is an " + ref->kind);
      }
      view.inputs.push_back({view.run.sim_run_id, in.kind, in.snapshot_id, ref->content_sha256});
    }
    RETURN_IF_ERROR(txn.InsertSimRun(view.run));
    for (const ledger::SimRunInput& in : view.inputs) RETURN_IF_ERROR(txn.InsertSimRunInput(in));
    std::set<std::string> known_events;
    for (size_t i = 0; i < view.predictions.size(); ++i) {
      const ledger::Prediction& p = view.predictions[i];
      if (known_events.insert(p.event_id).second) {
        ASSIGN_OR_RETURN(auto event, txn.CurrentEvent(p.event_id));
        if (!event) {
          return NotFound("predictions[" + std::to_string(i) + "].event_id: unknown event " +
                          p.event_id);
        }
      }
      RETURN_IF_ERROR(txn.InsertPrediction(p));
    }
    return Status::Ok();
  }));
  return view;
}

Result<SimRunView> SimRunService::Get(const std::string& sim_run_id) {
  SimRunView view;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::SimRun> run, r.GetSimRun(sim_run_id));
    if (!run) return NotFound("sim_run_id: unknown sim run " + sim_run_id);
    view.run = std::move(*run);
    ASSIGN_OR_RETURN(view.inputs, r.ListSimRunInputs(sim_run_id));
    ASSIGN_OR_RETURN(view.predictions, r.ListPredictions(sim_run_id));
    return Status::Ok();
  }));
  return view;
}

Result<PredictionView> SimRunService::GetPrediction(const std::string& prediction_id) {
  PredictionView view;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::Prediction> p, r.GetPrediction(prediction_id));
    if (!p) return NotFound("prediction_id: unknown prediction " + prediction_id);
    view.prediction = std::move(*p);
    ASSIGN_OR_RETURN(std::optional<ledger::SimRun> run, r.GetSimRun(view.prediction.sim_run_id));
    if (!run) return Internal("prediction without its sim run: " + prediction_id);
    view.sim_run = std::move(*run);
    ASSIGN_OR_RETURN(view.inputs, r.ListSimRunInputs(view.sim_run.sim_run_id));
    ASSIGN_OR_RETURN(view.event, r.CurrentEvent(view.prediction.event_id));
    ASSIGN_OR_RETURN(view.publish, r.PublishForPrediction(prediction_id));
    return Status::Ok();
  }));
  return view;
}

}  // namespace truthbook::service
