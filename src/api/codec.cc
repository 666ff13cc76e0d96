#include "api/codec.h"

#include <algorithm>
#include <limits>

#include "api/json_fields.h"
#include "base/canonical_json.h"
#include "base/time.h"

namespace truthbook::api {
namespace {

using nlohmann::json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json Parsed(const std::string& canonical) { return json::parse(canonical, nullptr, false); }

// Canonical JSON of an optional member, "null" when absent.
Result<std::string> CanonicalMember(const JsonObject& o, std::string_view key, const char* empty) {
  const json* v = o.Find(key);
  if (v == nullptr) return std::string(empty);
  Result<std::string> c = CanonicalJson(*v);
  if (!c.ok()) return InvalidArgument(o.Field(key) + ": " + c.status().message());
  return c;
}

Result<service::PriceInput> DecodePrice(const JsonObject& parent) {
  ASSIGN_OR_RETURN(JsonObject price, parent.Object("price"));
  service::PriceInput out;
  ASSIGN_OR_RETURN(out.american, price.OptNumber("american"));
  ASSIGN_OR_RETURN(out.decimal, price.OptNumber("decimal"));
  if (!out.american && !out.decimal) {
    return InvalidArgument(price.Field("american") + ": give american or decimal");
  }
  return out;
}

json EncodePrice(double decimal, double american) {
  return {{"decimal", decimal}, {"american", american}};
}

}  // namespace

Result<service::EventRequest> DecodeEvent(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  service::EventRequest r;
  ASSIGN_OR_RETURN(r.event_id, o.String("event_id"));
  ASSIGN_OR_RETURN(r.sport, o.String("sport"));
  ASSIGN_OR_RETURN(std::optional<std::string> league, o.OptString("league"));
  r.league = league.value_or(r.sport);
  ASSIGN_OR_RETURN(r.season, o.String("season"));
  ASSIGN_OR_RETURN(r.home_team, o.String("home_team"));
  ASSIGN_OR_RETURN(r.away_team, o.String("away_team"));
  ASSIGN_OR_RETURN(r.start_time, o.Time("start_time"));
  ASSIGN_OR_RETURN(std::optional<std::string> status, o.OptString("status"));
  if (status) r.status = *status;
  return r;
}

Result<service::CaptureSnapshotRequest> DecodeCaptureSnapshot(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  service::CaptureSnapshotRequest r;
  ASSIGN_OR_RETURN(r.event_id, o.String("event_id"));
  ASSIGN_OR_RETURN(r.book, o.String("book"));
  ASSIGN_OR_RETURN(r.market, o.String("market"));
  ASSIGN_OR_RETURN(r.player, o.OptString("player"));
  ASSIGN_OR_RETURN(r.stat, o.OptString("stat"));
  ASSIGN_OR_RETURN(r.captured_at, o.Time("captured_at"));
  ASSIGN_OR_RETURN(std::vector<JsonObject> quotes, o.Objects("quotes"));
  for (const JsonObject& q : quotes) {
    service::QuoteInput quote;
    ASSIGN_OR_RETURN(quote.selection, q.String("selection"));
    ASSIGN_OR_RETURN(quote.line, q.OptNumber("line"));
    ASSIGN_OR_RETURN(quote.price, DecodePrice(q));
    r.quotes.push_back(std::move(quote));
  }
  ASSIGN_OR_RETURN(r.raw_canonical, CanonicalMember(o, "raw", "null"));
  r.body = std::string(body);
  return r;
}

Result<service::CaptureInjuryRequest> DecodeCaptureInjury(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  service::CaptureInjuryRequest r;
  ASSIGN_OR_RETURN(r.event_id, o.String("event_id"));
  ASSIGN_OR_RETURN(r.team, o.String("team"));
  ASSIGN_OR_RETURN(r.source, o.String("source"));
  ASSIGN_OR_RETURN(r.captured_at, o.Time("captured_at"));
  ASSIGN_OR_RETURN(std::vector<JsonObject> players, o.Objects("players"));
  for (const JsonObject& p : players) {
    service::InjuryPlayer player;
    ASSIGN_OR_RETURN(player.player, p.String("player"));
    ASSIGN_OR_RETURN(player.status, p.String("status"));
    r.players.push_back(std::move(player));
  }
  ASSIGN_OR_RETURN(r.raw_canonical, CanonicalMember(o, "raw", "null"));
  r.body = std::string(body);
  return r;
}

Result<service::SimRunRequest> DecodeSimRun(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  service::SimRunRequest r;
  ASSIGN_OR_RETURN(r.trigger, o.String("trigger"));
  ASSIGN_OR_RETURN(r.model_version, o.String("model_version"));
  ASSIGN_OR_RETURN(r.feature_set_version, o.String("feature_set_version"));
  ASSIGN_OR_RETURN(r.decision_policy_version, o.String("decision_policy_version"));
  ASSIGN_OR_RETURN(JsonObject code, o.Object("code_version"));
  ASSIGN_OR_RETURN(r.git_sha, code.String("git_sha"));
  ASSIGN_OR_RETURN(std::optional<bool> dirty, code.OptBool("dirty"));
  r.code_dirty = dirty.value_or(false);
  ASSIGN_OR_RETURN(r.n_sims, o.Integer("n_sims"));
  ASSIGN_OR_RETURN(r.rng_seed, o.Integer("rng_seed"));
  ASSIGN_OR_RETURN(r.params_canonical, CanonicalMember(o, "params", "{}"));
  ASSIGN_OR_RETURN(r.started_at, o.Time("started_at"));
  ASSIGN_OR_RETURN(r.finished_at, o.Time("finished_at"));
  ASSIGN_OR_RETURN(std::vector<JsonObject> inputs, o.Objects("inputs"));
  for (const JsonObject& in : inputs) {
    service::SimRunInputRequest input;
    ASSIGN_OR_RETURN(input.kind, in.String("kind"));
    ASSIGN_OR_RETURN(input.snapshot_id, in.String("snapshot_id"));
    r.inputs.push_back(std::move(input));
  }
  ASSIGN_OR_RETURN(std::vector<JsonObject> predictions, o.Objects("predictions"));
  for (const JsonObject& p : predictions) {
    service::PredictionRequest pred;
    ASSIGN_OR_RETURN(pred.event_id, p.String("event_id"));
    ASSIGN_OR_RETURN(pred.market, p.String("market"));
    ASSIGN_OR_RETURN(pred.selection, p.String("selection"));
    ASSIGN_OR_RETURN(pred.line, p.OptNumber("line"));
    ASSIGN_OR_RETURN(pred.player, p.OptString("player"));
    ASSIGN_OR_RETURN(pred.stat, p.OptString("stat"));
    ASSIGN_OR_RETURN(pred.price, DecodePrice(p));
    ASSIGN_OR_RETURN(pred.book, p.String("book"));
    ASSIGN_OR_RETURN(pred.raw_prob, p.Number("raw_prob"));
    ASSIGN_OR_RETURN(pred.calibrated_prob, p.OptNumber("calibrated_prob"));
    ASSIGN_OR_RETURN(pred.edge, p.OptNumber("edge"));
    ASSIGN_OR_RETURN(pred.tier, p.String("tier"));
    ASSIGN_OR_RETURN(std::optional<double> stake, p.OptNumber("stake_units"));
    pred.stake_units = stake.value_or(1.0);
    r.predictions.push_back(std::move(pred));
  }
  return r;
}

Result<service::PublishRequest> DecodePublish(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  service::PublishRequest r;
  ASSIGN_OR_RETURN(r.prediction_id, o.String("prediction_id"));
  ASSIGN_OR_RETURN(r.channel, o.String("channel"));
  ASSIGN_OR_RETURN(std::optional<std::string> visibility, o.OptString("visibility"));
  if (visibility) r.visibility = *visibility;
  ASSIGN_OR_RETURN(std::optional<bool> official, o.OptBool("is_official"));
  r.is_official = official.value_or(true);
  r.body = std::string(body);
  return r;
}

Result<service::CalibrationJobRequest> DecodeCalibrationJob(std::string_view body,
                                                            bool auto_activate) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body.empty() ? "{}" : body));
  JsonObject o(doc, "");
  service::CalibrationJobRequest r;
  r.auto_activate = auto_activate;
  ASSIGN_OR_RETURN(std::optional<int64_t> days, o.OptInteger("training_days"));
  if (days) r.training_days = *days;
  ASSIGN_OR_RETURN(std::optional<std::string> method, o.OptString("method"));
  if (method) r.method = *method;
  ASSIGN_OR_RETURN(std::optional<int64_t> min_n, o.OptInteger("min_n"));
  if (min_n) r.gates.min_n = *min_n;
  ASSIGN_OR_RETURN(std::optional<double> reduction, o.OptNumber("min_ece_reduction"));
  if (reduction) r.gates.min_ece_reduction = *reduction;
  ASSIGN_OR_RETURN(std::optional<bool> brier, o.OptBool("brier_not_worse"));
  if (brier) r.gates.brier_not_worse = *brier;
  ASSIGN_OR_RETURN(std::optional<int64_t> min_segment_n, o.OptInteger("min_segment_n"));
  if (min_segment_n) r.min_segment_n = *min_segment_n;
  ASSIGN_OR_RETURN(std::optional<int64_t> folds, o.OptInteger("folds"));
  if (folds) r.folds = static_cast<int>(std::clamp<int64_t>(*folds, -1, 1000));
  ASSIGN_OR_RETURN(std::optional<bool> activate, o.OptBool("auto_activate"));
  if (activate) r.auto_activate = *activate;
  if (const json* by = o.Find("segment_by"); by != nullptr && !by->is_null()) {
    if (!by->is_array()) return InvalidArgument("segment_by: must be an array of strings");
    r.segment_by.clear();
    for (size_t i = 0; i < by->size(); ++i) {
      if (!(*by)[i].is_string()) {
        return InvalidArgument("segment_by[" + std::to_string(i) + "]: must be a string");
      }
      r.segment_by.push_back((*by)[i].get<std::string>());
    }
  }
  return r;
}

Result<ActivationRequest> DecodeActivation(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body.empty() ? "{}" : body));
  JsonObject o(doc, "");
  ActivationRequest r;
  ASSIGN_OR_RETURN(std::optional<bool> force, o.OptBool("force"));
  r.force = force.value_or(false);
  ASSIGN_OR_RETURN(std::optional<std::string> reason, o.OptString("reason"));
  r.reason = reason.value_or("");
  ASSIGN_OR_RETURN(std::optional<std::string> actor, o.OptString("actor"));
  if (actor) r.actor = *actor;
  return r;
}

Result<ApplyRequest> DecodeApply(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  ApplyRequest r;
  ASSIGN_OR_RETURN(r.sport, o.String("sport"));
  ASSIGN_OR_RETURN(r.tier, o.String("tier"));
  ASSIGN_OR_RETURN(r.market, o.String("market"));
  const json* ps = o.Find("probabilities");
  if (ps == nullptr || !ps->is_array() || ps->empty()) {
    return InvalidArgument("probabilities: must be a non-empty array of numbers");
  }
  if (ps->size() > 100000) return InvalidArgument("probabilities: at most 100000");
  for (size_t i = 0; i < ps->size(); ++i) {
    if (!(*ps)[i].is_number()) {
      return InvalidArgument("probabilities[" + std::to_string(i) + "]: must be a number");
    }
    r.probabilities.push_back((*ps)[i].get<double>());
  }
  return r;
}

Result<service::EventResultRequest> DecodeEventResult(std::string_view body) {
  ASSIGN_OR_RETURN(json doc, JsonObject::ParseBody(body));
  JsonObject o(doc, "");
  service::EventResultRequest r;
  ASSIGN_OR_RETURN(r.event_id, o.String("event_id"));
  ASSIGN_OR_RETURN(r.status, o.String("status"));
  ASSIGN_OR_RETURN(r.home_score, o.OptInteger("home_score"));
  ASSIGN_OR_RETURN(r.away_score, o.OptInteger("away_score"));
  if (o.Find("player_stats") != nullptr) {
    ASSIGN_OR_RETURN(std::vector<JsonObject> stats, o.Objects("player_stats"));
    for (const JsonObject& s : stats) {
      service::PlayerStat stat;
      ASSIGN_OR_RETURN(stat.player, s.String("player"));
      ASSIGN_OR_RETURN(stat.stat, s.String("stat"));
      ASSIGN_OR_RETURN(stat.value, s.OptNumber("value"));
      ASSIGN_OR_RETURN(std::optional<bool> played, s.OptBool("played"));
      stat.played = played.value_or(true);
      r.player_stats.push_back(std::move(stat));
    }
  }
  return r;
}

json Encode(const ledger::Event& e) {
  return {{"event_id", e.event_id},   {"revision", e.revision},
          {"sport", e.sport},         {"league", e.league},
          {"season", e.season},       {"home_team", e.home_team},
          {"away_team", e.away_team}, {"start_time", FormatRfc3339(e.start_time)},
          {"status", e.status},       {"recorded_at", FormatRfc3339(e.recorded_at)}};
}

json Encode(const ledger::OddsSnapshot& s) {
  return {{"snapshot_id", s.snapshot_id},
          {"event_id", s.event_id},
          {"book", s.book},
          {"market", s.market},
          {"captured_at", FormatRfc3339(s.captured_at)},
          {"recorded_at", FormatRfc3339(s.recorded_at)},
          {"quotes", Parsed(s.quotes_json)},
          {"devig_method", s.devig_method},
          {"content_sha256", s.content_sha256},
          {"raw", s.raw}};
}

json Encode(const ledger::InjurySnapshot& s) {
  return {{"snapshot_id", s.snapshot_id},
          {"event_id", s.event_id},
          {"team", s.team},
          {"source", s.source},
          {"captured_at", FormatRfc3339(s.captured_at)},
          {"recorded_at", FormatRfc3339(s.recorded_at)},
          {"players", Parsed(s.players_json)},
          {"content_sha256", s.content_sha256}};
}

json Encode(const ledger::SimRun& r) {
  return {{"sim_run_id", r.sim_run_id},
          {"trigger", r.trigger},
          {"model_version", r.model_version},
          {"feature_set_version", r.feature_set_version},
          {"decision_policy_version", r.decision_policy_version},
          {"code_version", {{"git_sha", r.git_sha}, {"dirty", r.code_dirty}}},
          {"n_sims", r.n_sims},
          {"rng_seed", r.rng_seed},
          {"params", Parsed(r.params_json)},
          {"started_at", FormatRfc3339(r.started_at)},
          {"finished_at", FormatRfc3339(r.finished_at)},
          {"recorded_at", FormatRfc3339(r.recorded_at)}};
}

json Encode(const ledger::SimRunInput& i) {
  return {
      {"kind", i.input_kind}, {"snapshot_id", i.snapshot_id}, {"content_sha256", i.content_sha256}};
}

json Encode(const ledger::Prediction& p) {
  return {{"prediction_id", p.prediction_id},
          {"sim_run_id", p.sim_run_id},
          {"event_id", p.event_id},
          {"market", p.market},
          {"selection", p.selection},
          {"line", OrNull(p.line)},
          {"player", OrNull(p.player)},
          {"stat", OrNull(p.stat)},
          {"book", p.book},
          {"price", EncodePrice(p.price_decimal, p.price_american)},
          {"raw_prob", p.raw_prob},
          {"calibrated_prob", OrNull(p.calibrated_prob)},
          {"calibration_version_id", OrNull(p.calibration_version_id)},
          {"edge", OrNull(p.edge)},
          {"tier", p.tier},
          {"stake_units", p.stake_units},
          {"recorded_at", FormatRfc3339(p.recorded_at)}};
}

json Encode(const ledger::Publish& p) {
  return {{"publish_id", p.publish_id},
          {"prediction_id", p.prediction_id},
          {"channel", p.channel},
          {"visibility", p.visibility},
          {"is_official", p.is_official},
          {"published_at", FormatRfc3339(p.published_at)},
          {"request_sha256", p.request_sha256},
          {"log_index", p.log_index}};
}

json Encode(const ledger::EventResult& r) {
  return {{"result_id", r.result_id},
          {"event_id", r.event_id},
          {"revision", r.revision},
          {"status", r.status},
          {"home_score", OrNull(r.home_score)},
          {"away_score", OrNull(r.away_score)},
          {"player_stats", Parsed(r.player_stats_json)},
          {"supersedes", OrNull(r.supersedes)},
          {"recorded_at", FormatRfc3339(r.recorded_at)},
          {"log_index", r.log_index}};
}

json Encode(const ledger::Grading& g) {
  return {{"grading_id", g.grading_id},
          {"publish_id", g.publish_id},
          {"result_id", g.result_id},
          {"outcome", g.outcome},
          {"stake_convention", g.stake_convention},
          {"stake", g.stake},
          {"profit_units", g.profit_units},
          {"price_decimal", g.price_decimal},
          {"closing_snapshot_id", OrNull(g.closing_snapshot_id)},
          {"closing_price", OrNull(g.closing_price)},
          {"clv_price", OrNull(g.clv_price)},
          {"clv_fair", OrNull(g.clv_fair)},
          {"clv_prob_pts", OrNull(g.clv_prob_pts)},
          {"clv_note", OrNull(g.clv_note)},
          {"devig_method", g.devig_method},
          {"prob_used", g.prob_used},
          {"prob", g.prob},
          {"brier", OrNull(g.brier)},
          {"log_loss", OrNull(g.log_loss)},
          {"graded_at", FormatRfc3339(g.graded_at)},
          {"supersedes", OrNull(g.supersedes)},
          {"log_index", g.log_index}};
}

json Encode(const service::GradingHistory& h) {
  json history = json::array();
  for (const ledger::Grading& g : h.history) history.push_back(Encode(g));
  return {{"current", Encode(h.current)}, {"history", std::move(history)}};
}

// {"WIN": n, "LOSS": n, ...} with every outcome present.
template <typename Counts>
json ByOutcome(const Counts& counts) {
  json out = json::object();
  for (size_t i = 0; i < grading::kOutcomes.size(); ++i) {
    out[std::string(grading::OutcomeName(grading::kOutcomes[i]))] = counts[i];
  }
  return out;
}

json Encode(const service::GradeAllReport& r) {
  return {{"graded", r.graded},
          {"by_outcome", ByOutcome(r.graded_by_outcome)},
          {"superseding", r.superseding},
          {"skipped", r.skipped},
          {"skip_reasons", r.skip_reasons},
          {"elapsed_ms", r.elapsed_ms}};
}

json Encode(const service::GradingSummary& s) {
  return {{"n", s.n},
          {"by_outcome", ByOutcome(s.count_by_outcome)},
          {"win_rate", OrNull(s.win_rate)},
          {"units", s.units},
          {"roi", OrNull(s.roi)},
          {"mean_clv_price", OrNull(s.mean_clv_price)},
          {"mean_clv_fair", OrNull(s.mean_clv_fair)},
          {"mean_clv_prob_pts", OrNull(s.mean_clv_prob_pts)},
          {"beat_close_rate", OrNull(s.beat_close_rate)},
          {"mean_brier", OrNull(s.mean_brier)},
          {"mean_log_loss", OrNull(s.mean_log_loss)}};
}

json Encode(const service::Performance& p) {
  auto day = [](int64_t d) -> json {
    if (d == std::numeric_limits<int64_t>::min()) return nullptr;
    return FormatRfc3339(TimePoint(std::chrono::days(d))).substr(0, 10);
  };
  json doc = {{"rollup_key", p.key.ToString()},
              {"window", service::RollupWindowName(*p.key.window)},
              {"from", day(p.day_from)},
              {"to", day(p.day_to)},
              {"season", OrNull(p.season)}};
  doc.update(Encode(p.summary));
  doc["ece"] = OrNull(p.ece);
  return doc;
}

json Encode(const store::JobRun& r) {
  return {{"job", r.job},
          {"slot", r.slot},
          {"trigger", r.trigger},
          {"status", r.status},
          {"claimed_by", r.claimed_by},
          {"started_at", FormatRfc3339(r.started_at)},
          {"finished_at", r.finished_at ? json(FormatRfc3339(*r.finished_at)) : json(nullptr)},
          {"duration_ms", OrNull(r.duration_ms)},
          {"summary", Parsed(r.summary_json)}};
}

json Encode(const service::JobInfo& j) {
  return {{"name", j.name},
          {"schedule", j.schedule},
          {"enabled", j.enabled},
          {"next_run", j.next_run ? json(FormatRfc3339(*j.next_run)) : json(nullptr)},
          {"last_run", j.last_run ? Encode(*j.last_run) : json(nullptr)}};
}

json Encode(const ledger::CalibrationVersion& v) {
  return {{"calibration_version_id", v.calibration_version_id},
          {"method", v.method},
          {"training_from", FormatRfc3339(v.training_from)},
          {"training_to", FormatRfc3339(v.training_to)},
          {"n", v.n},
          {"settings", Parsed(v.settings_json)},
          {"metrics_before", Parsed(v.metrics_before_json)},
          {"metrics_after", Parsed(v.metrics_after_json)},
          {"gates", Parsed(v.gates_json)},
          {"gates_passed", v.gates_passed},
          {"code_version", v.code_version},
          {"created_at", FormatRfc3339(v.created_at)}};
}

json Encode(const ledger::CalibrationSegment& s) {
  return {{"calibration_version_id", s.calibration_version_id},
          {"segment", s.segment_key},
          {"fitted_on", s.fitted_on},
          {"fallback", s.fallback},
          {"n", s.n},
          {"params", Parsed(s.params_json)},
          {"metrics", Parsed(s.metrics_json)},
          {"bins", Parsed(s.bins_json)}};
}

json Encode(const ledger::CalibrationActivation& a) {
  return {{"activation_id", a.activation_id},
          {"calibration_version_id", a.calibration_version_id},
          {"actor", a.actor},
          {"reason", a.reason},
          {"forced", a.forced},
          {"activated_at", FormatRfc3339(a.activated_at)},
          {"log_index", a.log_index}};
}

json Encode(const service::CalibrationJobResult& r) {
  json doc = Encode(r.version);
  doc["segments"] = r.segments.size();
  doc["activated"] = r.activation.has_value();
  doc["activation"] = r.activation ? Encode(*r.activation) : json(nullptr);
  return doc;
}

json Encode(const service::ActiveCalibration& a) {
  return {{"activation", Encode(a.activation)}, {"version", Encode(a.version)}};
}

json Encode(const service::AppliedCalibration& a) {
  return {{"calibration_version_id", a.calibration_version_id},
          {"segment", a.segment},
          {"calibrated", a.calibrated}};
}

json Encode(const ledger::SnapshotCleanup& c) {
  return {{"cleanup_id", c.cleanup_id},
          {"cutoff", FormatRfc3339(c.cutoff)},
          {"requested_at", FormatRfc3339(c.requested_at)},
          {"deleted_count", c.deleted_count},
          {"deleted_ids", Parsed(c.deleted_ids_json)}};
}

json Encode(const service::SimRunView& v) {
  json out = Encode(v.run);
  out["inputs"] = json::array();
  for (const auto& i : v.inputs) out["inputs"].push_back(Encode(i));
  out["predictions"] = json::array();
  for (const auto& p : v.predictions) out["predictions"].push_back(Encode(p));
  return out;
}

json Encode(const service::PredictionView& v) {
  json out = Encode(v.prediction);
  out["sim_run"] = Encode(v.sim_run);
  out["inputs"] = json::array();
  for (const auto& i : v.inputs) out["inputs"].push_back(Encode(i));
  out["event"] = v.event ? Encode(*v.event) : json(nullptr);
  out["publish"] = v.publish ? Encode(*v.publish) : json(nullptr);
  out["published"] = v.publish.has_value();
  return out;
}

}  // namespace truthbook::api
