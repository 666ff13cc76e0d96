#include "service/snapshot_service.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "base/canonical_json.h"
#include "base/sha256.h"
#include "base/time.h"
#include "odds/devig.h"
#include "service/validate.h"

namespace truthbook::service {
namespace {

constexpr int kCleanupLimit = 10000;

// A string as canonical JSON; null when absent.
Result<std::string> CanonicalText(const std::optional<std::string>& text) {
  if (!text) return std::string("null");
  return CanonicalJson(nlohmann::json(*text));
}

// A number as canonical JSON; null when absent. InvalidArgument for NaN or infinity.
Result<std::string> CanonicalNumber(std::optional<double> number) {
  if (!number) return std::string("null");
  if (!std::isfinite(*number)) return InvalidArgument("quotes: a number is not finite");
  return FormatJsonNumber(*number);
}

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

  std::map<std::string, std::vector<size_t>> groups;
  std::vector<odds::Price> prices;
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
    prices.push_back(price);
  }
  // A group with one side only (a partial feed) keeps fair_prob null.
  std::vector<std::optional<double>> fair_probs(req.quotes.size());
  for (const auto& [group, members] : groups) {
    if (members.size() < 2) continue;
    std::vector<double> group_decimals;
    for (size_t i : members) group_decimals.push_back(prices[i].decimal);
    ASSIGN_OR_RETURN(odds::DevigResult fair,
                     odds::Devig(group_decimals, odds::DevigMethod::kMultiplicative));
    for (size_t k = 0; k < members.size(); ++k) fair_probs[members[k]] = fair.fair[k];
  }

  // The canonical quotes, written directly rather than through a JSON tree (the ingest path's
  // hot loop): each {american, decimal, fair_prob, implied, line, selection}, RFC 8785 order.
  std::string quotes_json = "[";
  for (size_t i = 0; i < req.quotes.size(); ++i) {
    ASSIGN_OR_RETURN(std::string american, CanonicalNumber(prices[i].american));
    ASSIGN_OR_RETURN(std::string decimal, CanonicalNumber(prices[i].decimal));
    ASSIGN_OR_RETURN(std::string fair_prob, CanonicalNumber(fair_probs[i]));
    ASSIGN_OR_RETURN(std::string implied, CanonicalNumber(prices[i].implied));
    ASSIGN_OR_RETURN(std::string line, CanonicalNumber(req.quotes[i].line));
    ASSIGN_OR_RETURN(std::string selection, CanonicalText(req.quotes[i].selection));
    if (i > 0) quotes_json += ',';
    quotes_json += "{\"american\":" + american + ",\"decimal\":" + decimal +
                   ",\"fair_prob\":" + fair_prob + ",\"implied\":" + implied + ",\"line\":" + line +
                   ",\"selection\":" + selection + "}";
  }
  quotes_json += ']';

  // The canonical capture, {book, captured_at, event_id, market, player, quotes, raw, stat}
  // in RFC 8785 member order, put together from canonical parts: the quotes and the raw
  // payload (canonical from the codec) are not parsed and serialized a second time.
  ASSIGN_OR_RETURN(std::string book, CanonicalText(req.book));
  ASSIGN_OR_RETURN(std::string captured_at, CanonicalText(FormatRfc3339(req.captured_at)));
  ASSIGN_OR_RETURN(std::string event_id, CanonicalText(req.event_id));
  ASSIGN_OR_RETURN(std::string market, CanonicalText(req.market));
  ASSIGN_OR_RETURN(std::string player, CanonicalText(req.player));
  ASSIGN_OR_RETURN(std::string stat, CanonicalText(req.stat));
  const std::string canonical_content = "{\"book\":" + book + ",\"captured_at\":" + captured_at +
                                        ",\"event_id\":" + event_id + ",\"market\":" + market +
                                        ",\"player\":" + player + ",\"quotes\":" + quotes_json +
                                        ",\"raw\":" + req.raw_canonical + ",\"stat\":" + stat + "}";
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
  std::vector<std::string> event_ids;
  std::set<std::string_view> seen;
  for (const ledger::OddsSnapshot& s : snapshots) {
    if (seen.insert(s.event_id).second) event_ids.push_back(s.event_id);
  }
  std::vector<std::optional<ledger::OddsSnapshot>> stored;
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::vector<std::string> unknown, txn.ListUnknownEvents(event_ids));
    if (!unknown.empty()) return NotFound("event_id: unknown event " + unknown.front());
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
