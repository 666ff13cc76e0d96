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

Result<LedgerEntry> GradingEntry(const Grading& g) {
  nlohmann::json record = {{"grading_id", g.grading_id},
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
                           {"supersedes", OrNull(g.supersedes)},
                           {"graded_at", FormatRfc3339(g.graded_at)}};
  return MakeEntry("grading", g.grading_id, std::move(record), g.graded_at);
}

}  // namespace truthbook::ledger
