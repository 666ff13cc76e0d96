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

}  // namespace truthbook::ledger
