#include "service/grading_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "grading/clv.h"
#include "grading/score.h"
#include "grading/settle.h"
#include "ledger/encoding.h"

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
  return FailedPrecondition("result " + result.result_id + " has no player_stats entry for \"" +
                            p.player.value_or("") + "\" " + p.stat.value_or("") +
                            ": post a corrected result with the stat or played=false");
}

// The closing quote of the pick in the newest candidate that quotes its selection: the
// quote on the taken line if the snapshot has one, else the selection's first quote. Its fair
// probability comes from de-vigging the quotes of the same group on the same |line|.
struct Closing {
  std::string snapshot_id;
  grading::ClosingQuote quote;
  bool has_fair = false;
};

std::string DevigGroup(const std::string& market, const std::string& selection) {
  return market == "team_total" ? selection.substr(0, selection.find('_')) : "";
}

std::optional<double> Line(const nlohmann::json& q) {
  return q.contains("line") && q["line"].is_number() ? std::optional(q["line"].get<double>())
                                                     : std::nullopt;
}

Result<std::optional<Closing>> FindClosing(const std::vector<ledger::OddsSnapshot>& candidates,
                                           const ledger::Prediction& p, odds::DevigMethod method) {
  for (const ledger::OddsSnapshot& snap : candidates) {
    nlohmann::json quotes = nlohmann::json::parse(snap.quotes_json, nullptr, false);
    if (!quotes.is_array()) continue;
    const nlohmann::json* pick = nullptr;
    for (const nlohmann::json& q : quotes) {
      if (q.value("selection", "") != p.selection) continue;
      if (pick == nullptr || Line(q) == p.line) pick = &q;
    }
    if (pick == nullptr) continue;
    Closing c{snap.snapshot_id, {(*pick)["decimal"].get<double>(), Line(*pick), 0}, false};
    const std::optional<double> line = c.quote.line;
    std::vector<double> decimals;
    size_t index = 0;
    for (const nlohmann::json& q : quotes) {
      std::optional<double> l = Line(q);
      if (DevigGroup(p.market, q.value("selection", "")) != DevigGroup(p.market, p.selection) ||
          l.has_value() != line.has_value() || (l && std::abs(*l) != std::abs(*line))) {
        continue;
      }
      if (&q == pick) index = decimals.size();
      decimals.push_back(q["decimal"].get<double>());
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

}  // namespace

Result<ledger::Grading> GradingService::GradeIn(store::WriteTxn& txn,
                                                const store::GradingInput& in) {
  const ledger::Prediction& p = in.prediction;
  if (!in.result) {
    return FailedPrecondition("event " + in.event.event_id + " has no result yet");
  }
  const ledger::EventResult& r = *in.result;
  const TimePoint now = ctx_.clock.Now();

  grading::Outcome outcome = grading::Outcome::kVoid;
  if (r.status == "postponed") {
    const TimePoint void_at = in.event.start_time + options_.void_window;
    if (now < void_at) {
      return FailedPrecondition("event " + in.event.event_id +
                                " is postponed; it is graded VOID from " + FormatRfc3339(void_at) +
                                " unless a final result comes first");
    }
  } else if (r.status == "final") {
    ASSIGN_OR_RETURN(grading::Market market, grading::ParseMarket(p.market));
    ASSIGN_OR_RETURN(grading::Side side, grading::ParseSide(p.selection));
    const grading::Leg leg{market, side, p.line.value_or(0)};
    if (Status valid = grading::ValidateLeg(leg); !valid.ok()) {
      return FailedPrecondition("prediction " + p.prediction_id +
                                " cannot be settled: " + valid.message());
    }
    if (market == grading::Market::kPlayerProp) {
      ASSIGN_OR_RETURN(std::optional<double> stat, PropStat(r, p));
      outcome = grading::SettleProp(leg, stat);
    } else {
      outcome = grading::SettleOnScore(leg, static_cast<double>(r.home_score.value_or(0)),
                                       static_cast<double>(r.away_score.value_or(0)));
    }
  }  // cancelled and abandoned stay VOID

  ledger::Grading g;
  g.grading_id = ctx_.ids.Next();
  g.publish_id = in.publish.publish_id;
  g.result_id = r.result_id;
  g.outcome = std::string(grading::OutcomeName(outcome));
  g.stake_convention = std::string(grading::StakeConventionName(options_.stake_convention));
  g.price_decimal = p.price_decimal;
  g.stake = grading::Stake(options_.stake_convention, p.stake_units, p.price_decimal);
  g.profit_units = grading::Profit(outcome, p.price_decimal, g.stake);
  g.devig_method = std::string(odds::DevigMethodName(options_.devig_method));
  g.prob_used = p.calibrated_prob ? "calibrated" : "raw";
  g.prob = p.calibrated_prob.value_or(p.raw_prob);
  if (grading::DecidedShare(outcome) > 0) {
    g.brier = grading::Brier(g.prob, grading::Hit(outcome));
    g.log_loss = grading::LogLoss(g.prob, grading::Hit(outcome));
  }

  ASSIGN_OR_RETURN(
      std::vector<ledger::OddsSnapshot> candidates,
      txn.ListClosingCandidates({in.event.event_id, options_.closing_book.value_or(p.book),
                                 p.market, p.player, p.stat, in.event.start_time}));
  ASSIGN_OR_RETURN(std::optional<Closing> closing,
                   FindClosing(candidates, p, options_.devig_method));
  if (outcome == grading::Outcome::kVoid) {
    g.clv_note = "void: no closing line value";
  } else if (!closing) {
    g.clv_note = "no closing snapshot: no " + options_.closing_book.value_or(p.book) + " " +
                 p.market + " odds quoting " + p.selection + " captured at or before the start";
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
  g.supersedes = in.current_grading_id;
  g.graded_at = now;
  ASSIGN_OR_RETURN(ledger::LedgerEntry entry, ledger::GradingEntry(g));
  ASSIGN_OR_RETURN(g.log_index, txn.AppendLedgerEntry(entry));
  RETURN_IF_ERROR(txn.InsertGrading(g));
  return g;
}

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
    ASSIGN_OR_RETURN(out.record, GradeIn(txn, *in));
    out.created = true;
    return Status::Ok();
  }));
  return out;
}

Result<GradeAllReport> GradingService::GradeAllPending() {
  const auto started = std::chrono::steady_clock::now();
  GradeAllReport report;
  int64_t after = -1;
  for (bool more = true; more;) {
    GradeAllReport batch;
    int64_t last = after;
    RETURN_IF_ERROR(ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
      batch = {};
      ASSIGN_OR_RETURN(std::vector<store::GradingInput> pending,
                       txn.ListPendingGradings(after, kBatch));
      more = static_cast<int>(pending.size()) == kBatch;
      for (const store::GradingInput& in : pending) {
        last = in.publish.log_index;
        Result<ledger::Grading> g = GradeIn(txn, in);
        if (g.ok()) {
          ++batch.graded_by_outcome[OutcomeIndex(*grading::ParseOutcome(g->outcome))];
          ++batch.graded;
          batch.superseding += g->supersedes ? 1 : 0;
        } else if (g.status().code() == StatusCode::kFailedPrecondition) {
          ++batch.skipped;
          if (batch.skip_reasons.size() < kMaxSkipReasons) {
            batch.skip_reasons.push_back(in.publish.publish_id + ": " + g.status().message());
          }
        } else {
          return g.status();
        }
      }
      return Status::Ok();
    }));
    after = last;
    for (size_t i = 0; i < report.graded_by_outcome.size(); ++i) {
      report.graded_by_outcome[i] += batch.graded_by_outcome[i];
    }
    report.graded += batch.graded;
    report.superseding += batch.superseding;
    report.skipped += batch.skipped;
    for (std::string& reason : batch.skip_reasons) {
      if (report.skip_reasons.size() < kMaxSkipReasons) report.skip_reasons.push_back(reason);
    }
  }
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
    return NotFound(known ? "publish " + publish_id + " has no grading yet"
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
  GradingSummary s;
  double decided = 0, won = 0, staked = 0;
  store::GradingTotals sum;
  for (const store::GradingTotals& t : totals) {
    ASSIGN_OR_RETURN(grading::Outcome o, grading::ParseOutcome(t.outcome));
    s.count_by_outcome[OutcomeIndex(o)] += t.n;
    s.n += t.n;
    decided += grading::DecidedShare(o) * static_cast<double>(t.n);
    won += grading::DecidedShare(o) * grading::Hit(o) * static_cast<double>(t.n);
    if (o != grading::Outcome::kVoid) staked += t.stake;
    s.units += t.profit_units;
    sum.clv_price_sum += t.clv_price_sum;
    sum.clv_price_n += t.clv_price_n;
    sum.clv_fair_sum += t.clv_fair_sum;
    sum.clv_prob_pts_sum += t.clv_prob_pts_sum;
    sum.clv_n += t.clv_n;
    sum.beat_close_n += t.beat_close_n;
    sum.brier_sum += t.brier_sum;
    sum.log_loss_sum += t.log_loss_sum;
    sum.scored_n += t.scored_n;
  }
  auto mean = [](double total, int64_t n) {
    return n > 0 ? std::optional(total / static_cast<double>(n)) : std::nullopt;
  };
  if (decided > 0) s.win_rate = won / decided;
  if (staked > 0) s.roi = s.units / staked;
  s.mean_clv_price = mean(sum.clv_price_sum, sum.clv_price_n);
  s.mean_clv_fair = mean(sum.clv_fair_sum, sum.clv_n);
  s.mean_clv_prob_pts = mean(sum.clv_prob_pts_sum, sum.clv_n);
  s.beat_close_rate = mean(static_cast<double>(sum.beat_close_n), sum.clv_n);
  s.mean_brier = mean(sum.brier_sum, sum.scored_n);
  s.mean_log_loss = mean(sum.log_loss_sum, sum.scored_n);
  return s;
}

}  // namespace truthbook::service
