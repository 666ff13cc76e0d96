#include "ledger/encoding.h"

#include <nlohmann/json.hpp>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"

namespace truthbook::ledger {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

Result<LedgerEntry> MakeEntry(std::string kind, std::string record_id, nlohmann::json record,
                              TimePoint recorded_at) {
  nlohmann::json doc = {{"kind", kind}, {"v", kEncodingVersion}, {"record", std::move(record)}};
  ASSIGN_OR_RETURN(std::string payload, CanonicalJson(doc));
  std::string hash = Sha256Hex(payload);
  return LedgerEntry{
      -1, std::move(kind), std::move(record_id), std::move(payload), std::move(hash), recorded_at};
}

}  // namespace

Result<LedgerEntry> PublishEntry(const Publish& p) {
  nlohmann::json record = {{"publish_id", p.publish_id},
                           {"prediction_id", p.prediction_id},
                           {"channel", p.channel},
                           {"visibility", p.visibility},
                           {"is_official", p.is_official},
                           {"published_at", FormatRfc3339(p.published_at)},
                           {"request_sha256", p.request_sha256}};
  return MakeEntry("publish", p.publish_id, std::move(record), p.published_at);
}

Result<LedgerEntry> EventResultEntry(const EventResult& r) {
  nlohmann::json stats = nlohmann::json::parse(r.player_stats_json, nullptr, false);
  if (stats.is_discarded()) return InvalidArgument("player_stats: not JSON");
  nlohmann::json record = {{"result_id", r.result_id},
                           {"event_id", r.event_id},
                           {"revision", r.revision},
                           {"status", r.status},
                           {"home_score", OrNull(r.home_score)},
                           {"away_score", OrNull(r.away_score)},
                           {"player_stats", std::move(stats)},
                           {"supersedes", OrNull(r.supersedes)},
                           {"recorded_at", FormatRfc3339(r.recorded_at)}};
  return MakeEntry("event_result", r.result_id, std::move(record), r.recorded_at);
}

Result<LedgerEntry> CalibrationActivationEntry(const CalibrationActivation& a) {
  nlohmann::json record = {{"activation_id", a.activation_id},
                           {"calibration_version_id", a.calibration_version_id},
                           {"actor", a.actor},
                           {"reason", a.reason},
                           {"forced", a.forced},
                           {"activated_at", FormatRfc3339(a.activated_at)}};
  return MakeEntry("calibration_activation", a.activation_id, std::move(record), a.activated_at);
}

// Gradings are appended by the million (grade-all-pending), so their record is written
// member by member (keys in canonical order) rather than through a JSON DOM; encoding_test
// checks the bytes against CanonicalJson of the same record.
Result<LedgerEntry> GradingEntry(const Grading& g) {
  ASSIGN_OR_RETURN(std::string record,
                   CanonicalObject()
                       .OptionalNumber("brier", g.brier)
                       .OptionalNumber("closing_price", g.closing_price)
                       .OptionalString("closing_snapshot_id", g.closing_snapshot_id)
                       .OptionalNumber("clv_fair", g.clv_fair)
                       .OptionalString("clv_note", g.clv_note)
                       .OptionalNumber("clv_price", g.clv_price)
                       .OptionalNumber("clv_prob_pts", g.clv_prob_pts)
                       .String("devig_method", g.devig_method)
                       .String("graded_at", FormatRfc3339(g.graded_at))
                       .String("grading_id", g.grading_id)
                       .OptionalNumber("log_loss", g.log_loss)
                       .String("outcome", g.outcome)
                       .Number("price_decimal", g.price_decimal)
                       .Number("prob", g.prob)
                       .String("prob_used", g.prob_used)
                       .Number("profit_units", g.profit_units)
                       .String("publish_id", g.publish_id)
                       .String("result_id", g.result_id)
                       .Number("stake", g.stake)
                       .String("stake_convention", g.stake_convention)
                       .OptionalString("supersedes", g.supersedes)
                       .Finish());
  ASSIGN_OR_RETURN(std::string payload, CanonicalObject()
                                            .String("kind", "grading")
                                            .Canonical("record", record)
                                            .Integer("v", kEncodingVersion)
                                            .Finish());
  std::string hash = Sha256Hex(payload);
  return LedgerEntry{-1, "grading", g.grading_id, std::move(payload), std::move(hash), g.graded_at};
}

}  // namespace truthbook::ledger
