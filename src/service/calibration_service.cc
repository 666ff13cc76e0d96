#include "service/calibration_service.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/canonical_json.h"
#include "calibration/evaluation.h"
#include "calibration/metrics.h"
#include "grading/outcome.h"
#include "ledger/encoding.h"

namespace truthbook::service {
namespace {

using nlohmann::json;

constexpr int kReliabilityBins = 10;  // for the stored metrics and bins
constexpr std::array<std::string_view, 3> kDimensions = {"sport", "tier", "market"};

// The value of dimension `dim` of a training row or an apply request.
struct Cohort {
  std::string sport;
  std::string tier;
  std::string market;
  const std::string& Get(std::string_view dim) const {
    return dim == "sport" ? sport : dim == "tier" ? tier : market;
  }
};

// "sport=NBA|tier=A|market=spread"; "global" without dimensions.
std::string SegmentKey(const std::vector<std::string>& dims, const Cohort& c) {
  std::string key;
  for (const std::string& dim : dims) {
    key += (key.empty() ? "" : "|") + dim + "=" + c.Get(dim);
  }
  return key.empty() ? "global" : key;
}

// The pools a segment falls back to, most specific first: its own dimensions, then without
// tier, then without market, then global. Each level's label is what `fallback` records.
std::vector<std::pair<std::string, std::vector<std::string>>> FallbackChain(
    const std::vector<std::string>& dims) {
  std::vector<std::pair<std::string, std::vector<std::string>>> chain = {{"none", dims}};
  for (std::string_view drop : {"tier", "market", "sport"}) {
    std::vector<std::string> fewer = chain.back().second;
    std::erase(fewer, std::string(drop));
    if (fewer.size() == chain.back().second.size()) continue;
    std::string label;
    for (const std::string& d : fewer) label += (label.empty() ? "" : "_") + d;
    chain.emplace_back(label.empty() ? "global" : label, std::move(fewer));
  }
  return chain;
}

Status ValidateJob(const CalibrationJobRequest& req) {
  if (req.training_days <= 0 || req.training_days > 3650) {
    return InvalidArgument("training_days: must be in [1, 3650]");
  }
  if (Status s = calibration::ParseMethod(req.method).status(); !s.ok()) {
    return InvalidArgument("method: " + s.message());
  }
  if (req.min_segment_n < 1) return InvalidArgument("min_segment_n: must be >= 1");
  if (req.folds < 2 || req.folds > 20) return InvalidArgument("folds: must be in [2, 20]");
  std::set<std::string> seen;
  for (size_t i = 0; i < req.segment_by.size(); ++i) {
    const std::string& dim = req.segment_by[i];
    if (std::find(kDimensions.begin(), kDimensions.end(), dim) == kDimensions.end()) {
      return InvalidArgument("segment_by[" + std::to_string(i) +
                             "]: expected one of sport, tier, market");
    }
    if (!seen.insert(dim).second) {
      return InvalidArgument("segment_by[" + std::to_string(i) + "]: listed twice");
    }
  }
  return calibration::ValidateGateSettings(req.gates);
}

// A report without its bins (they are stored apart).
json MetricsJson(const calibration::MetricsReport& m) {
  json doc = calibration::ToJson(m);
  doc.erase("bins");
  return doc;
}

json GatesJson(const calibration::Verdict& v) {
  json gates = json::array();
  for (const calibration::GateResult& g : v.gates) {
    gates.push_back(
        {{"name", g.name}, {"value", g.value}, {"threshold", g.threshold}, {"passed", g.passed}});
  }
  return gates;
}

// Samples in time order: p = raw probability, y = hit of the decided share, w = that share
// (a half win counts half).
struct Samples {
  std::vector<double> p;
  std::vector<double> y;
  std::vector<double> w;
};

// One pool's fit: the calibrator on all of its rows, and their cross-fitted held-out
// predictions.
struct PoolFit {
  std::vector<size_t> rows;  // indices into the job's samples, ascending (time order)
  std::unique_ptr<calibration::Calibrator> calibrator;
  std::vector<double> held_out;  // one per row
  calibration::MetricsReport before;
  calibration::MetricsReport after;
};

// calibration::Fit as the cross-fitting callback. shared_ptr: CalibratorFn is a copyable
// std::function, and the calibrator it calls is move-only.
calibration::FitFn FitWith(calibration::Method method) {
  return [method](std::span<const double> p, std::span<const double> y,
                  std::span<const double> w) -> Result<calibration::CalibratorFn> {
    ASSIGN_OR_RETURN(std::unique_ptr<calibration::Calibrator> c, calibration::Fit(method, p, y, w));
    std::shared_ptr<const calibration::Calibrator> shared = std::move(c);
    return calibration::CalibratorFn([shared](double x) { return shared->Apply(x); });
  };
}

Result<PoolFit> FitPool(calibration::Method method, const Samples& all, std::vector<size_t> rows,
                        int folds) {
  PoolFit fit;
  fit.rows = std::move(rows);
  Samples s;
  for (size_t i : fit.rows) {
    s.p.push_back(all.p[i]);
    s.y.push_back(all.y[i]);
    s.w.push_back(all.w[i]);
  }
  ASSIGN_OR_RETURN(fit.calibrator, calibration::Fit(method, s.p, s.y, s.w));
  ASSIGN_OR_RETURN(calibration::HeldOutEvaluation held_out,
                   calibration::EvaluateHeldOut(s.p, s.y, s.w, FitWith(method),
                                                {folds, calibration::FoldScheme::kContiguous},
                                                {kReliabilityBins, false}));
  fit.held_out = std::move(held_out.predictions);
  fit.before = std::move(held_out.before);
  fit.after = std::move(held_out.after);
  return fit;
}

}  // namespace

Result<CalibrationJobResult> CalibrationService::RunJob(const CalibrationJobRequest& req,
                                                        const std::string& actor) {
  RETURN_IF_ERROR(ValidateJob(req));
  ASSIGN_OR_RETURN(calibration::Method method, calibration::ParseMethod(req.method));
  std::vector<std::string> dims;  // canonical order whatever the request's order
  for (std::string_view d : kDimensions) {
    if (std::find(req.segment_by.begin(), req.segment_by.end(), d) != req.segment_by.end()) {
      dims.emplace_back(d);
    }
  }
  const TimePoint now = ctx_.clock.Now();
  const TimePoint from = now - std::chrono::days(req.training_days);
  std::vector<store::TrainingRow> rows;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(rows, r.ListTrainingRows(from, now));
    return Status::Ok();
  }));
  if (static_cast<int64_t>(rows.size()) < req.folds) {
    return FailedPrecondition("training_days: " + std::to_string(rows.size()) +
                              " graded publishes (other than PUSH and VOID) in the last " +
                              std::to_string(req.training_days) + " days; need at least " +
                              std::to_string(req.folds) + " (one per fold)");
  }

  Samples all;
  for (const store::TrainingRow& row : rows) {
    ASSIGN_OR_RETURN(grading::Outcome o, grading::ParseOutcome(row.outcome));
    all.p.push_back(row.raw_prob);
    all.y.push_back(grading::Hit(o));
    all.w.push_back(grading::DecidedShare(o));
  }

  // The rows of every pool at every fallback level, in time order.
  const auto chain = FallbackChain(dims);
  std::map<std::string, std::vector<size_t>> pool_rows;
  std::vector<Cohort> cohorts;
  for (size_t i = 0; i < rows.size(); ++i) {
    cohorts.push_back({rows[i].sport, rows[i].tier, rows[i].market});
    for (const auto& [label, level] : chain) pool_rows[SegmentKey(level, cohorts[i])].push_back(i);
  }
  // Fit every pool big enough to stand alone (and to cross-fit), and global always.
  const int64_t min_pool = std::max<int64_t>(req.min_segment_n, req.folds);
  std::map<std::string, PoolFit> fits;
  for (const auto& [key, members] : pool_rows) {
    if (key != "global" && static_cast<int64_t>(members.size()) < min_pool) continue;
    Result<PoolFit> fit = FitPool(method, all, members, req.folds);
    // A pool the method cannot identify (beta needs both outcomes) falls back like a small
    // one; only global has nothing to fall back to.
    if (fit.status().code() == StatusCode::kInvalidArgument) {
      if (key != "global") continue;
      return FailedPrecondition("training_days: the window's graded publishes cannot fit " +
                                req.method + ": " + fit.status().message());
    }
    RETURN_IF_ERROR(fit.status());
    fits.emplace(key, std::move(*fit));
  }

  CalibrationJobResult out;
  ledger::CalibrationVersion& v = out.version;
  v.calibration_version_id = ctx_.ids.Next();
  v.method = req.method;
  v.training_from = from;
  v.training_to = now;
  v.n = static_cast<int64_t>(rows.size());
  v.code_version = TRUTHBOOK_VERSION;
  v.created_at = now;

  // Each finest segment uses the first fitted pool of its chain. The version's held-out
  // prediction for a row is that pool's cross-fitted prediction for it, so every row is scored
  // once, by a calibrator that never saw it.
  std::map<std::string, std::string> fitted_on;  // finest segment key -> pool key
  std::vector<double> held_out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string key = SegmentKey(dims, cohorts[i]);
    auto known = fitted_on.find(key);
    if (known == fitted_on.end()) {
      for (const auto& [label, level] : chain) {
        const std::string pool = SegmentKey(level, cohorts[i]);
        if (!fits.count(pool)) continue;
        known = fitted_on.emplace(key, pool).first;
        out.segments.push_back({v.calibration_version_id, key, pool, label, 0, "", "", ""});
        break;
      }
    }
    const PoolFit& fit = fits.at(known->second);
    const size_t pos = static_cast<size_t>(std::lower_bound(fit.rows.begin(), fit.rows.end(), i) -
                                           fit.rows.begin());
    held_out[i] = fit.held_out[pos];
  }
  // Pool-level fits are stored as segments too, so apply can fall back for cohorts the
  // window did not contain.
  for (const auto& [key, fit] : fits) {
    if (!fitted_on.count(key))
      out.segments.push_back({v.calibration_version_id, key, key, "none", 0, "", "", ""});
  }
  std::sort(out.segments.begin(), out.segments.end(),
            [](const auto& a, const auto& b) { return a.segment_key < b.segment_key; });
  for (ledger::CalibrationSegment& seg : out.segments) {
    const PoolFit& fit = fits.at(seg.fitted_on);
    seg.n = static_cast<int64_t>(pool_rows.at(seg.segment_key).size());
    ASSIGN_OR_RETURN(seg.params_json, CanonicalJson(calibration::ToJson(*fit.calibrator)));
    ASSIGN_OR_RETURN(seg.metrics_json, CanonicalJson({{"before", MetricsJson(fit.before)},
                                                      {"after_held_out", MetricsJson(fit.after)}}));
    ASSIGN_OR_RETURN(seg.bins_json, CanonicalJson(calibration::ToJson(fit.after)["bins"]));
  }

  ASSIGN_OR_RETURN(calibration::MetricsReport before,
                   calibration::ComputeMetrics(all.p, all.y, all.w, {kReliabilityBins, false}));
  ASSIGN_OR_RETURN(calibration::MetricsReport after,
                   calibration::ComputeMetrics(held_out, all.y, all.w, {kReliabilityBins, false}));
  ASSIGN_OR_RETURN(calibration::Verdict verdict, calibration::ApplyGates(before, after, req.gates));
  v.gates_passed = verdict.passed;
  ASSIGN_OR_RETURN(v.metrics_before_json, CanonicalJson(MetricsJson(before)));
  ASSIGN_OR_RETURN(v.metrics_after_json, CanonicalJson(MetricsJson(after)));
  ASSIGN_OR_RETURN(v.gates_json, CanonicalJson(GatesJson(verdict)));
  json segment_by = dims;
  ASSIGN_OR_RETURN(v.settings_json,
                   CanonicalJson({{"training_days", req.training_days},
                                  {"segment_by", segment_by},
                                  {"min_segment_n", req.min_segment_n},
                                  {"folds", req.folds},
                                  {"auto_activate", req.auto_activate},
                                  {"gates",
                                   {{"min_n", req.gates.min_n},
                                    {"min_ece_reduction", req.gates.min_ece_reduction},
                                    {"brier_not_worse", req.gates.brier_not_worse}}}}));

  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    RETURN_IF_ERROR(txn.InsertCalibrationVersion(v));
    for (const ledger::CalibrationSegment& seg : out.segments) {
      RETURN_IF_ERROR(txn.InsertCalibrationSegment(seg));
    }
    if (!req.auto_activate || !v.gates_passed) return Status::Ok();
    ledger::CalibrationActivation a{ctx_.ids.Next(), v.calibration_version_id,
                                    actor,           "auto-activated: every gate passed",
                                    false,           now};
    ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::CalibrationActivationEntry(a));
    ASSIGN_OR_RETURN(a.log_index, txn.AppendLedgerEntry(entry));
    RETURN_IF_ERROR(txn.InsertCalibrationActivation(a));
    out.activation = a;
    return Status::Ok();
  }));
  return out;
}

Result<ledger::CalibrationActivation> CalibrationService::Activate(const std::string& version_id,
                                                                   bool force,
                                                                   const std::string& reason,
                                                                   const std::string& actor) {
  if (force && reason.empty()) return InvalidArgument("reason: required with force");
  if (reason.size() > 1000) return InvalidArgument("reason: at most 1000 bytes");
  ledger::CalibrationActivation a{ctx_.ids.Next(), version_id,       actor, reason,
                                  false,           ctx_.clock.Now(), -1};
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::CalibrationVersion> v,
                     txn.GetCalibrationVersion(version_id));
    if (!v) return NotFound("calibration_version_id: unknown version " + version_id);
    if (!v->gates_passed && !force) {
      return FailedPrecondition("calibration_version_id: version " + version_id +
                                " failed its gates; activate it with {\"force\": true, "
                                "\"reason\": \"...\"}");
    }
    a.forced = !v->gates_passed;
    if (a.reason.empty()) a.reason = "every gate passed";
    ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::CalibrationActivationEntry(a));
    ASSIGN_OR_RETURN(a.log_index, txn.AppendLedgerEntry(entry));
    return txn.InsertCalibrationActivation(a);
  }));
  return a;
}

Result<std::vector<ledger::CalibrationVersion>> CalibrationService::ListVersions(int limit) {
  std::vector<ledger::CalibrationVersion> out;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(out, r.ListCalibrationVersions(limit));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<ActiveCalibration>> CalibrationService::Active() {
  std::optional<ActiveCalibration> out;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::CalibrationActivation> a, r.LatestActivation());
    if (!a) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<ledger::CalibrationVersion> v,
                     r.GetCalibrationVersion(a->calibration_version_id));
    if (v) out = ActiveCalibration{*a, *v};
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ledger::CalibrationSegment>> CalibrationService::Segments(
    const std::string& version_id) {
  std::vector<ledger::CalibrationSegment> out;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::CalibrationVersion> v,
                     r.GetCalibrationVersion(version_id));
    if (!v) return NotFound("calibration_version_id: unknown version " + version_id);
    ASSIGN_OR_RETURN(out, r.ListCalibrationSegments(version_id));
    return Status::Ok();
  }));
  return out;
}

Result<ledger::CalibrationSegment> CalibrationService::Segment(const std::string& version_id,
                                                               const std::string& segment_key) {
  ASSIGN_OR_RETURN(std::vector<ledger::CalibrationSegment> all, Segments(version_id));
  for (ledger::CalibrationSegment& s : all) {
    if (s.segment_key == segment_key) return std::move(s);
  }
  return NotFound("segment: version " + version_id + " has no segment " + segment_key);
}

Result<const calibration::Calibrator*> CalibrationService::Calibrator(
    const ledger::CalibrationSegment& segment) {
  const std::string key = segment.calibration_version_id + "|" + segment.segment_key;
  std::lock_guard lock(mu_);
  auto it = calibrators_.find(key);
  if (it != calibrators_.end()) return it->second.get();
  json params = json::parse(segment.params_json, nullptr, false);
  ASSIGN_OR_RETURN(std::unique_ptr<calibration::Calibrator> c, calibration::FromJson(params));
  return calibrators_.emplace(key, std::move(c)).first->second.get();
}

Result<AppliedCalibration> CalibrationService::Apply(const std::string& sport,
                                                     const std::string& tier,
                                                     const std::string& market,
                                                     std::span<const double> probabilities) {
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (!(probabilities[i] >= 0 && probabilities[i] <= 1)) {
      return InvalidArgument("probabilities[" + std::to_string(i) + "]: must be in [0, 1]");
    }
  }
  ASSIGN_OR_RETURN(std::optional<ActiveCalibration> active, Active());
  if (!active) {
    return FailedPrecondition(
        "no calibration version is active: run-calibration-job, then "
        "activate-calibration/{id}");
  }
  ASSIGN_OR_RETURN(std::vector<ledger::CalibrationSegment> segments,
                   Segments(active->version.calibration_version_id));
  json settings = json::parse(active->version.settings_json, nullptr, false);
  std::vector<std::string> dims = settings.value("segment_by", std::vector<std::string>{});
  const Cohort cohort{sport, tier, market};
  for (const auto& [label, level] : FallbackChain(dims)) {
    const std::string key = SegmentKey(level, cohort);
    auto seg = std::find_if(segments.begin(), segments.end(),
                            [&](const auto& s) { return s.segment_key == key; });
    if (seg == segments.end()) continue;
    ASSIGN_OR_RETURN(const calibration::Calibrator* c, Calibrator(*seg));
    AppliedCalibration out{active->version.calibration_version_id, key, {}};
    out.calibrated.resize(probabilities.size());
    c->ApplyAll(probabilities, out.calibrated);
    return out;
  }
  return FailedPrecondition("segment: the active version has no fit for " +
                            SegmentKey(dims, cohort) + " or any pool above it");
}

}  // namespace truthbook::service
