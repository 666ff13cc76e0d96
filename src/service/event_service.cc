#include "service/event_service.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "ledger/encoding.h"
#include "service/validate.h"

namespace truthbook::service {
namespace {

constexpr std::string_view kEventStatuses[] = {"scheduled", "live",      "final",
                                               "postponed", "cancelled", "abandoned"};
constexpr std::string_view kResultStatuses[] = {"final", "postponed", "cancelled", "abandoned"};

template <size_t N>
bool OneOf(std::string_view value, const std::string_view (&set)[N]) {
  for (std::string_view s : set) {
    if (s == value) return true;
  }
  return false;
}

Status ValidateEvent(const EventRequest& r) {
  RETURN_IF_ERROR(RequireText("event_id", r.event_id));
  // The id appears as a path segment (GET snapshots/{event_id}).
  for (char c : r.event_id) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return InvalidArgument("event_id: must not contain '/' or control characters");
    }
  }
  RETURN_IF_ERROR(RequireText("sport", r.sport));
  RETURN_IF_ERROR(RequireText("league", r.league));
  RETURN_IF_ERROR(RequireText("season", r.season));
  RETURN_IF_ERROR(RequireText("home_team", r.home_team));
  RETURN_IF_ERROR(RequireText("away_team", r.away_team));
  if (!OneOf(r.status, kEventStatuses)) {
    return InvalidArgument(
        "status: expected one of scheduled, live, final, postponed, cancelled, abandoned");
  }
  return Status::Ok();
}

Status ValidateResult(const EventResultRequest& r) {
  RETURN_IF_ERROR(RequireText("event_id", r.event_id));
  if (!OneOf(r.status, kResultStatuses)) {
    return InvalidArgument("status: expected one of final, postponed, cancelled, abandoned");
  }
  if (r.status == "final" && (!r.home_score || !r.away_score)) {
    return InvalidArgument(std::string(r.home_score ? "away_score" : "home_score") +
                           ": required when status is final");
  }
  if (r.home_score && *r.home_score < 0) return InvalidArgument("home_score: must be >= 0");
  if (r.away_score && *r.away_score < 0) return InvalidArgument("away_score: must be >= 0");
  for (size_t i = 0; i < r.player_stats.size(); ++i) {
    const PlayerStat& s = r.player_stats[i];
    std::string field = "player_stats[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(RequireText(field + ".player", s.player));
    RETURN_IF_ERROR(RequireText(field + ".stat", s.stat));
    if (s.played && !s.value) return InvalidArgument(field + ".value: required when played");
    if (s.value && !std::isfinite(*s.value)) {
      return InvalidArgument(field + ".value: must be finite");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Written<ledger::Event>> EventService::PutEvent(const EventRequest& req) {
  RETURN_IF_ERROR(ValidateEvent(req));
  nlohmann::json body = {{"event_id", req.event_id},
                         {"sport", req.sport},
                         {"league", req.league},
                         {"season", req.season},
                         {"home_team", req.home_team},
                         {"away_team", req.away_team},
                         {"start_time", FormatRfc3339(req.start_time)},
                         {"status", req.status}};
  ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(body));
  ledger::Event event{req.event_id,    0,
                      req.sport,       req.league,
                      req.season,      req.home_team,
                      req.away_team,   req.start_time,
                      req.status,      Sha256Hex(canonical),
                      ctx_.clock.Now()};
  Written<ledger::Event> out{event, true};
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::Event> current, txn.CurrentEvent(req.event_id));
    if (current && current->body_sha256 == event.body_sha256) {
      out = {*current, false};
      return Status::Ok();
    }
    out.record.revision = current ? current->revision + 1 : 1;
    return txn.InsertEvent(out.record);
  }));
  return out;
}

Result<Written<ledger::EventResult>> EventService::RecordResult(const EventResultRequest& req) {
  RETURN_IF_ERROR(ValidateResult(req));
  nlohmann::json stats = nlohmann::json::array();
  for (const PlayerStat& s : req.player_stats) {
    stats.push_back({{"player", s.player},
                     {"stat", s.stat},
                     {"value", s.value ? nlohmann::json(*s.value) : nlohmann::json(nullptr)},
                     {"played", s.played}});
  }
  ASSIGN_OR_RETURN(std::string stats_json, CanonicalJson(stats));
  Written<ledger::EventResult> out;
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<ledger::Event> event, txn.CurrentEvent(req.event_id));
    if (!event) return NotFound("event_id: unknown event " + req.event_id);
    ASSIGN_OR_RETURN(std::optional<ledger::EventResult> latest, txn.LatestResult(req.event_id));
    if (latest && latest->status == req.status && latest->home_score == req.home_score &&
        latest->away_score == req.away_score && latest->player_stats_json == stats_json) {
      out = {*latest, false};
      return Status::Ok();
    }
    ledger::EventResult r{ctx_.ids.Next(),
                          req.event_id,
                          latest ? latest->revision + 1 : 1,
                          req.status,
                          req.home_score,
                          req.away_score,
                          stats_json,
                          latest ? std::optional(latest->result_id) : std::nullopt,
                          ctx_.clock.Now()};
    ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::EventResultEntry(r));
    ASSIGN_OR_RETURN(r.log_index, txn.AppendLedgerEntry(entry));
    RETURN_IF_ERROR(txn.InsertEventResult(r));
    out = {r, true};
    return Status::Ok();
  }));
  return out;
}

}  // namespace truthbook::service
