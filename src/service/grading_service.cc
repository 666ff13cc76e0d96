#include "service/grading_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "base/time.h"
#include "grading/clv.h"
#include "grading/score.h"
#include "grading/settle.h"
#include "ledger/encoding.h"
#include "service/validate.h"

namespace truthbook::service {
namespace {

constexpr int kBatch = 2000;
constexpr size_t kMaxSkipReasons = 100;

size_t OutcomeIndex(grading::Outcome o) {
  return static_cast<size_t>(std::find(grading::kOutcomes.begin(), grading::kOutcomes.end(), o) -
                             grading::kOutcomes.begin());
}

// The player's stat in a result's player_stats: nullopt when the player did not play.
// FailedPrecondition when the result does not carry it.
Result<std::optional<double>> PropStat(const ledger::EventResult& result,
                                       const ledger::Prediction& p) {
  nlohmann::json stats = nlohmann::json::parse(result.player_stats_json, nullptr, false);
  for (const nlohmann::json& s : stats.is_array() ? stats : nlohmann::json::array()) {
    if (s.value("player", "") != p.player || s.value("stat", "") != p.stat) continue;
    if (!s.value("played", true)) return std::optional<double>();
    if (s.contains("value") && s["value"].is_number()) {
      return std::optional<double>(s["value"].get<double>());
    }
  }
  return FailedPrecondition("player_stats: result " + result.result_id +
                            " has no player_stats entry for \"" + p.player.value_or("") + "\" " +
                            p.stat.value_or("") +
                            ": post a corrected result with the stat or played=false");
}

// A closing-line candidate with its quotes parsed once.
struct ClosingQuoteRow {
  std::string selection;
  std::optional<double> line;
  double decimal = 0;
};
struct ClosingSnapshotRow {
  std::string snapshot_id;
  std::vector<ClosingQuoteRow> quotes;
};

// Closing-line candidates by (event, book, market, player, stat): a batch of gradings reads
// and parses each market's closing snapshots once, not once per publish.
using ClosingCache = std::unordered_map<std::string, std::vector<ClosingSnapshotRow>>;

Result<const std::vector<ClosingSnapshotRow>*> ClosingCandidates(store::Reader& reader,
                                                                 const store::ClosingQuery& q,
                                                                 ClosingCache& cache) {
  std::string key = q.event_id + '\0' + q.book + '\0' + q.market + '\0' + q.player.value_or("") +
                    '\0' + q.stat.value_or("");
  auto it = cache.find(key);
  if (it != cache.end()) return &it->second;
  ASSIGN_OR_RETURN(std::vector<ledger::OddsSnapshot> snapshots, reader.ListClosingCandidates(q));
  std::vector<ClosingSnapshotRow> rows;
  for (const ledger::OddsSnapshot& snap : snapshots) {
    nlohmann::json quotes = nlohmann::json::parse(snap.quotes_json, nullptr, false);
    ClosingSnapshotRow row{snap.snapshot_id, {}};
    for (const nlohmann::json& quote : quotes.is_array() ? quotes : nlohmann::json::array()) {
      std::optional<double> line;
      if (quote.contains("line") && quote["line"].is_number()) line = quote["line"].get<double>();
      row.quotes.push_back({quote.value("selection", ""), line, quote.value("decimal", 0.0)});
    }
    rows.push_back(std::move(row));
  }
  return &cache.emplace(std::move(key), std::move(rows)).first->second;
}

// The closing quote of the pick: in the newest candidate that quotes its selection, the quote
// on the taken line if there is one, else the selection's first quote. Its fair probability
// comes from de-vigging the quotes of the same group on the same |line|.
struct Closing {
  std::string snapshot_id;
  grading::ClosingQuote quote;
  bool has_fair = false;
};

Result<std::optional<Closing>> FindClosing(const std::vector<ClosingSnapshotRow>& candidates,
                                           const ledger::Prediction& p, odds::DevigMethod method) {
  for (const ClosingSnapshotRow& snap : candidates) {
    const ClosingQuoteRow* pick = nullptr;
    for (const ClosingQuoteRow& q : snap.quotes) {
      if (q.selection == p.selection && (pick == nullptr || q.line == p.line)) pick = &q;
    }
    if (pick == nullptr) continue;
    Closing c{snap.snapshot_id, {pick->decimal, pick->line, 0}, false};
    std::vector<double> decimals;
    size_t index = 0;
    for (const ClosingQuoteRow& q : snap.quotes) {
      if (DevigGroup(p.market, q.selection) != DevigGroup(p.market, p.selection) ||
          q.line.has_value() != pick->line.has_value() ||
          (q.line && std::abs(*q.line) != std::abs(*pick->line))) {
        continue;
      }
      if (&q == pick) index = decimals.size();
      decimals.push_back(q.decimal);
    }
    if (decimals.size() >= 2) {
      ASSIGN_OR_RETURN(odds::DevigResult fair, odds::Devig(decimals, method));
      c.quote.fair_prob = fair.fair[index];
      c.has_fair = c.quote.fair_prob > 0 && c.quote.fair_prob < 1;
    }
    return std::optional(c);
  }
  return std::optional<Closing>();
}

// The leg a stored prediction bet. Stored predictions were validated, so a failure here means
// a rule changed since (FailedPrecondition: grade-all-pending skips it and says why).
Result<grading::Leg> LegOf(const ledger::Prediction& p) {
  Result<grading::Market> market = grading::ParseMarket(p.market);
  Result<grading::Side> side = grading::ParseSide(p.selection);
  Status valid = !market.ok() ? market.status() : side.status();
  grading::Leg leg;
  if (valid.ok()) {
    leg = {*market, *side, p.line.value_or(0)};
    valid = grading::ValidateLeg(leg);
  }
  if (!valid.ok()) {
    return FailedPrecondition("prediction: " + p.prediction_id +
                              " cannot be settled: " + valid.message());
  }
  return leg;
}

// A grading ready to append: the record (without log_index) and its ledger entry.
struct Settled {
  ledger::Grading grading;
  ledger::LedgerEntry entry;
};

// Settles and scores `in`, reading closing lines through `reader`; writes nothing.
// FailedPrecondition when it cannot be graded yet.
Result<Settled> Settle(const Context& ctx, const GradingOptions& options, store::Reader& reader,
                       const store::GradingInput& in, ClosingCache& closing_cache) {
  const ledger::Prediction& p = in.prediction;
  if (!in.result) {
    return FailedPrecondition("result: event " + in.event.event_id + " has no result yet");
  }
  const ledger::EventResult& r = *in.result;
  const TimePoint now = ctx.clock.Now();

  grading::Outcome outcome = grading::Outcome::kVoid;
  if (r.status == "postponed") {
    const TimePoint void_at = in.event.start_time + options.void_window;
    if (now < void_at) {
      return FailedPrecondition("result: event " + in.event.event_id +
                                " is postponed; it is graded VOID from " + FormatRfc3339(void_at) +
                                " unless a final result comes first");
    }
  } else if (r.status == "final") {
    ASSIGN_OR_RETURN(grading::Leg leg, LegOf(p));
    if (leg.market == grading::Market::kPlayerProp) {
      ASSIGN_OR_RETURN(std::optional<double> stat, PropStat(r, p));
      outcome = grading::SettleProp(leg, stat);
    } else {
      outcome = grading::SettleOnScore(leg, static_cast<double>(r.home_score.value_or(0)),
                                       static_cast<double>(r.away_score.value_or(0)));
    }
  }  // cancelled and abandoned stay VOID

  ledger::Grading g;
  g.grading_id = ctx.ids.Next();
  g.publish_id = in.publish.publish_id;
  g.result_id = r.result_id;
  g.outcome = std::string(grading::OutcomeName(outcome));
  g.stake_convention = std::string(grading::StakeConventionName(options.stake_convention));
  g.price_decimal = p.price_decimal;
  g.stake = grading::Stake(options.stake_convention, p.stake_units, p.price_decimal);
  g.profit_units = grading::Profit(outcome, p.price_decimal, g.stake);
  g.devig_method = std::string(odds::DevigMethodName(options.devig_method));
  g.prob_used = p.calibrated_prob ? "calibrated" : "raw";
  g.prob = p.calibrated_prob.value_or(p.raw_prob);
  if (grading::DecidedShare(outcome) > 0) {
    g.brier = grading::Brier(g.prob, grading::Hit(outcome));
    g.log_loss = grading::LogLoss(g.prob, grading::Hit(outcome));
  }

  g.supersedes = in.current_grading_id;
  g.graded_at = now;
  if (outcome == grading::Outcome::kVoid) {
    g.clv_note = "void: no closing line value";
    ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::GradingEntry(g));
    return Settled{std::move(g), std::move(entry)};
  }

  const std::string book = options.closing_book.value_or(p.book);
  ASSIGN_OR_RETURN(
      const std::vector<ClosingSnapshotRow>* candidates,
      ClosingCandidates(reader,
                        {in.event.event_id, book, p.market, p.player, p.stat, in.event.start_time},
                        closing_cache));
  ASSIGN_OR_RETURN(std::optional<Closing> closing,
                   FindClosing(*candidates, p, options.devig_method));
  if (!closing) {
    g.clv_note = "no closing snapshot: no " + book + " " + p.market + " odds quoting " +
                 p.selection + " captured at or before the start";
  } else {
    g.closing_snapshot_id = closing->snapshot_id;
    g.closing_price = closing->quote.decimal;
    if (!closing->has_fair) {
      g.clv_note = "closing snapshot " + closing->snapshot_id +
                   " quotes one side only: no fair closing probability";
    } else {
      grading::ClosingLineValue clv = grading::ComputeClv(p.price_decimal, p.line, closing->quote);
      g.clv_price = clv.price;
      g.clv_fair = clv.fair;
      g.clv_prob_pts = clv.prob_pts;
      g.clv_note = clv.note;
    }
  }
  ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::GradingEntry(g));
  return Settled{std::move(g), std::move(entry)};
}

// Appends a settled grading and its ledger entry.
Status Append(store::WriteTxn& txn, Settled& s) {
  ASSIGN_OR_RETURN(s.grading.log_index, txn.AppendLedgerEntry(s.entry));
  return txn.InsertGrading(s.grading);
}

// One page of grade-all-pending, settled and waiting to be appended.
struct Page {
  std::vector<Settled> settled;
  GradeAllReport report;  // what the page adds to the run's report, once appended
  int64_t last_log_index = -1;
  bool full = false;  // the page was full, so more may follow
};

// Lists and settles the pending publishes after `after` through `reader` into `page`.
Status SettlePage(const Context& ctx, const GradingOptions& options, store::Reader& reader,
                  int64_t after, Page& page) {
  page = {};
  page.last_log_index = after;
  ASSIGN_OR_RETURN(std::vector<store::GradingInput> pending,
                   reader.ListPendingGradings(after, kBatch));
  page.full = static_cast<int>(pending.size()) == kBatch;
  ClosingCache closing_cache;
  for (const store::GradingInput& in : pending) {
    page.last_log_index = in.publish.log_index;
    Result<Settled> s = Settle(ctx, options, reader, in, closing_cache);
    if (s.ok()) {
      ASSIGN_OR_RETURN(grading::Outcome o, grading::ParseOutcome(s->grading.outcome));
      ++page.report.graded_by_outcome[OutcomeIndex(o)];
      ++page.report.graded;
      page.report.superseding += s->grading.supersedes ? 1 : 0;
      page.settled.push_back(std::move(*s));
    } else if (s.status().code() == StatusCode::kFailedPrecondition) {
      ++page.report.skipped;
      if (page.report.skip_reasons.size() < kMaxSkipReasons) {
        page.report.skip_reasons.push_back(in.publish.publish_id + ": " + s.status().message());
      }
    } else {
      return s.status();
    }
  }
  return Status::Ok();
}

Status AppendPage(store::WriteTxn& txn, Page& page) {
  for (Settled& s : page.settled) RETURN_IF_ERROR(Append(txn, s));
  return Status::Ok();
}

void AddTo(GradeAllReport& total, GradeAllReport& page) {
  for (size_t i = 0; i < total.graded_by_outcome.size(); ++i) {
    total.graded_by_outcome[i] += page.graded_by_outcome[i];
  }
  total.graded += page.graded;
  total.superseding += page.superseding;
  total.skipped += page.skipped;
  for (std::string& reason : page.skip_reasons) {
    if (total.skip_reasons.size() < kMaxSkipReasons) total.skip_reasons.push_back(reason);
  }
}

}  // namespace

Result<Written<ledger::Grading>> GradingService::Grade(const std::string& publish_id) {
  Written<ledger::Grading> out;
  RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::GradingInput> in, txn.GetGradingInput(publish_id));
    if (!in) return NotFound("publish_id: unknown publish " + publish_id);
    if (in->result && in->current_result_id == in->result->result_id) {
      ASSIGN_OR_RETURN(std::vector<ledger::Grading> all, txn.ListGradings(publish_id));
      out = {all.back(), false};
      return Status::Ok();
    }
    ClosingCache closing_cache;
    ASSIGN_OR_RETURN(Settled s, Settle(ctx_, options_, txn, *in, closing_cache));
    RETURN_IF_ERROR(Append(txn, s));
    out = {std::move(s.grading), true};
    return Status::Ok();
  }));
  return out;
}

// Pages are settled on the calling thread (a read transaction) while the store's writer
// appends the previous page, so settling and writing overlap. A page settled from a snapshot
// that a concurrent grading made stale fails as a whole on the unique keys (AlreadyExists);
// it is then settled again inside the write transaction, where nothing can change under it.
Result<GradeAllReport> GradingService::GradeAllPending() {
  const auto started = std::chrono::steady_clock::now();
  GradeAllReport report;
  // The page the writer is appending and how that ended (nullopt while it runs). The write
  // borrows `in_flight`, so every path below waits for it before leaving.
  Page in_flight;
  int64_t in_flight_after = -1;
  std::optional<Status> appended = Status::Ok();
  std::mutex mu;
  std::condition_variable appended_cv;
  auto finish_in_flight = [&]() -> Status {
    Status s;
    {
      std::unique_lock lock(mu);
      appended_cv.wait(lock, [&] { return appended.has_value(); });
      s = *appended;
    }
    if (s.code() == StatusCode::kAlreadyExists) {
      s = ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
        RETURN_IF_ERROR(SettlePage(ctx_, options_, txn, in_flight_after, in_flight));
        return AppendPage(txn, in_flight);
      });
    }
    RETURN_IF_ERROR(s);
    AddTo(report, in_flight.report);
    in_flight = {};
    return Status::Ok();
  };

  int64_t after = -1;
  for (bool more = true; more;) {
    Page page;
    Status settled = ctx_.store.Read(
        [&](store::Reader& reader) { return SettlePage(ctx_, options_, reader, after, page); });
    RETURN_IF_ERROR(finish_in_flight());
    RETURN_IF_ERROR(settled);
    in_flight = std::move(page);
    in_flight_after = after;
    after = in_flight.last_log_index;
    more = in_flight.full;
    appended.reset();
    ctx_.store.WriteAsync([&](store::WriteTxn& txn) { return AppendPage(txn, in_flight); },
                          [&](Status s) {
                            std::lock_guard lock(mu);
                            appended = std::move(s);
                            appended_cv.notify_one();
                          });
  }
  RETURN_IF_ERROR(finish_in_flight());
  report.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Result<GradingHistory> GradingService::Get(const std::string& publish_id) {
  std::vector<ledger::Grading> all;
  bool known = false;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(all, r.ListGradings(publish_id));
    if (!all.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::GradingInput> in, r.GetGradingInput(publish_id));
    known = in.has_value();
    return Status::Ok();
  }));
  if (all.empty()) {
    return NotFound(known ? "publish_id: publish " + publish_id + " has no grading yet"
                          : "publish_id: unknown publish " + publish_id);
  }
  GradingHistory out{all.back(), {}};
  all.pop_back();
  out.history = std::move(all);
  return out;
}

Result<GradingSummary> GradingService::Summary(const store::GradingQuery& q) {
  std::vector<store::GradingTotals> totals;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(totals, r.SumGradings(q));
    return Status::Ok();
  }));
  store::RollupSums sums;
  for (const store::GradingTotals& t : totals) {
    ASSIGN_OR_RETURN(grading::Outcome o, grading::ParseOutcome(t.outcome));
    sums.count_by_outcome[OutcomeIndex(o)] += t.n;
    if (o != grading::Outcome::kVoid) sums.stake += t.stake;
    sums.profit_units += t.profit_units;
    sums.clv_price_sum += t.clv_price_sum;
    sums.clv_price_n += t.clv_price_n;
    sums.clv_fair_sum += t.clv_fair_sum;
    sums.clv_prob_pts_sum += t.clv_prob_pts_sum;
    sums.clv_n += t.clv_n;
    sums.beat_close_n += t.beat_close_n;
    sums.brier_sum += t.brier_sum;
    sums.log_loss_sum += t.log_loss_sum;
    sums.scored_n += t.scored_n;
  }
  return Summarize(sums);
}

}  // namespace truthbook::service
