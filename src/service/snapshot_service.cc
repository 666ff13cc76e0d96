#include "service/snapshot_service.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "odds/devig.h"
#include "service/validate.h"

namespace truthbook::service {
namespace {

constexpr int kCleanupLimit = 10000;

// Validates a capture and builds its snapshot (without id or times).
Result<ledger::OddsSnapshot> NormalizeOdds(const CaptureSnapshotRequest& req,
                                           const std::string& prefix) {
  RETURN_IF_ERROR(RequireText(prefix + "event_id", req.event_id));
  RETURN_IF_ERROR(RequireText(prefix + "book", req.book));
  RETURN_IF_ERROR(ValidateMarket(prefix + "market", req.market));
  if (req.market == "player_prop") {
    RETURN_IF_ERROR(RequireText(prefix + "player", req.player.value_or("")));
    RETURN_IF_ERROR(RequireText(prefix + "stat", req.stat.value_or("")));
  }
  if (req.quotes.empty()) return InvalidArgument(prefix + "quotes: must not be empty");
  if (req.quotes.size() > 64) return InvalidArgument(prefix + "quotes: at most 64");

  nlohmann::json quotes = nlohmann::json::array();
  std::map<std::string, std::vector<size_t>> groups;
  std::vector<double> decimals;
  for (size_t i = 0; i < req.quotes.size(); ++i) {
    const QuoteInput& q = req.quotes[i];
    std::string field = prefix + "quotes[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(ValidateSelection(field, req.market, q.selection, q.line));
    ASSIGN_OR_RETURN(odds::Price price, NormalizePrice(field + ".price", q.price));
    for (size_t j = 0; j < i; ++j) {
      if (req.quotes[j].selection == q.selection && req.quotes[j].line == q.line) {
        return InvalidArgument(field + ".selection: duplicate of quotes[" + std::to_string(j) +
                               "]");
      }
    }
    groups[DevigGroup(req.market, q.selection)].push_back(i);
    decimals.push_back(price.decimal);
    quotes.push_back({{"selection", q.selection},
                      {"line", q.line ? nlohmann::json(*q.line) : nlohmann::json(nullptr)},
                      {"decimal", price.decimal},
                      {"american", price.american},
                      {"implied", price.implied},
                      {"fair_prob", nullptr}});
  }
  // A group with one side only (a partial feed) keeps fair_prob null.
  for (const auto& [group, members] : groups) {
    if (members.size() < 2) continue;
    std::vector<double> group_decimals;
    for (size_t i : members) group_decimals.push_back(decimals[i]);
    ASSIGN_OR_RETURN(odds::DevigResult fair,
                     odds::Devig(group_decimals, odds::DevigMethod::kMultiplicative));
    for (size_t k = 0; k < members.size(); ++k) quotes[members[k]]["fair_prob"] = fair.fair[k];
  }

  nlohmann::json content = {{"event_id", req.event_id},
                            {"book", req.book},
                            {"market", req.market},
                            {"player", req.player ? nlohmann::json(*req.player) : nullptr},
                            {"stat", req.stat ? nlohmann::json(*req.stat) : nullptr},
                            {"captured_at", FormatRfc3339(req.captured_at)},
                            {"quotes", quotes},
                            {"raw", nlohmann::json::parse(req.raw_canonical)}};
  ASSIGN_OR_RETURN(std::string canonical_content, CanonicalJson(content));
  ASSIGN_OR_RETURN(std::string quotes_json, CanonicalJson(quotes));
  ledger::OddsSnapshot s;
  s.event_id = req.event_id;
  s.book = req.book;
  s.market = req.market;
  s.captured_at = req.captured_at;
  s.raw = req.body;
  s.quotes_json = std::move(quotes_json);
  s.devig_method = std::string(odds::DevigMethodName(odds::DevigMethod::kMultiplicative));
  s.content_sha256 = Sha256Hex(canonical_content);
  s.player = req.player;
  s.stat = req.stat;
  return s;
}

}  // namespace

Result<Written<ledger::OddsSnapshot>> SnapshotService::CaptureOdds(
    const CaptureSnapshotRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Written<ledger::OddsSnapshot>> out,
                   CaptureOddsBatch(std::span(&req, 1)));
  return out.front();
}

Result<std::vector<Written<ledger::OddsSnapshot>>> SnapshotService::CaptureOddsBatch(
    std::span<const CaptureSnapshotRequest> reqs) {
  std::vector<ledger::OddsSnapshot> snapshots;
  snapshots.reserve(reqs.size());
  const bool single = reqs.size() == 1;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::string prefix = single ? "" : "snapshots[" + std::to_string(i) + "].";
    ASSIGN_OR_RETURN(ledger::OddsSnapshot s, NormalizeOdds(reqs[i], prefix));
    s.snapshot_id = ctx_.ids.Next();
    snapshots.push_back(std::move(s));
  }
  const TimePoint now = ctx_.clock.Now();
  for (ledger::OddsSnapshot& s : snapshots) s.recorded_at = now;
  std::vector<std::optional<ledger::OddsSnapshot>> stored;
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    std::set<std::string> known_events;
    for (const ledger::OddsSnapshot& s : snapshots) {
      if (known_events.contains(s.event_id)) continue;
      ASSIGN_OR_RETURN(auto event, txn.CurrentEvent(s.event_id));
      if (!event) return NotFound("event_id: unknown event " + s.event_id);
      known_events.insert(s.event_id);
    }
    // One bulk insert; content already stored comes back as the stored snapshot.
    ASSIGN_OR_RETURN(stored, txn.InsertOddsSnapshots(snapshots));
    return Status::Ok();
  }));
  std::vector<Written<ledger::OddsSnapshot>> out;
  out.reserve(snapshots.size());
  for (size_t i = 0; i < snapshots.size(); ++i) {
    if (stored[i]) {
      out.push_back({std::move(*stored[i]), false});
    } else {
      out.push_back({std::move(snapshots[i]), true});
    }
  }
  return out;
}

Result<std::vector<ledger::OddsSnapshot>> SnapshotService::ListOdds(const store::SnapshotQuery& q) {
  std::vector<ledger::OddsSnapshot> out;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(out, r.ListOddsSnapshots(q));
    return Status::Ok();
  }));
  return out;
}

Result<Written<ledger::InjurySnapshot>> SnapshotService::CaptureInjury(
    const CaptureInjuryRequest& req) {
  RETURN_IF_ERROR(RequireText("event_id", req.event_id));
  RETURN_IF_ERROR(RequireText("team", req.team));
  RETURN_IF_ERROR(RequireText("source", req.source));
  nlohmann::json players = nlohmann::json::array();
  for (size_t i = 0; i < req.players.size(); ++i) {
    std::string field = "players[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(RequireText(field + ".player", req.players[i].player));
    RETURN_IF_ERROR(RequireText(field + ".status", req.players[i].status));
    players.push_back({{"player", req.players[i].player}, {"status", req.players[i].status}});
  }
  nlohmann::json content = {
      {"event_id", req.event_id}, {"team", req.team},
      {"source", req.source},     {"captured_at", FormatRfc3339(req.captured_at)},
      {"players", players},       {"raw", nlohmann::json::parse(req.raw_canonical)}};
  ASSIGN_OR_RETURN(std::string canonical_content, CanonicalJson(content));
  ASSIGN_OR_RETURN(std::string players_json, CanonicalJson(players));
  Written<ledger::InjurySnapshot> out{
      ledger::InjurySnapshot{ctx_.ids.Next(), req.event_id, req.team, req.source, req.captured_at,
                             ctx_.clock.Now(), std::move(players_json), req.body,
                             Sha256Hex(canonical_content)},
      true};
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(auto existing, txn.FindInjurySnapshotByHash(out.record.content_sha256));
    if (existing) {
      out = {*existing, false};
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(auto event, txn.CurrentEvent(req.event_id));
    if (!event) return NotFound("event_id: unknown event " + req.event_id);
    return txn.InsertInjurySnapshot(out.record);
  }));
  return out;
}

Result<ledger::SnapshotCleanup> SnapshotService::Cleanup(std::chrono::days retention) {
  if (retention < std::chrono::days(1)) return InvalidArgument("retention_days: must be >= 1");
  TimePoint now = ctx_.clock.Now();
  ledger::SnapshotCleanup audit{ctx_.ids.Next(), now - retention, now, 0, "[]"};
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     txn.ListUnreferencedOddsSnapshots(audit.cutoff, kCleanupLimit));
    for (const std::string& id : ids) RETURN_IF_ERROR(txn.DeleteOddsSnapshot(id));
    audit.deleted_count = static_cast<int64_t>(ids.size());
    audit.deleted_ids_json = nlohmann::json(ids).dump();
    return txn.InsertSnapshotCleanup(audit);
  }));
  return audit;
}

}  // namespace truthbook::service
