// Grading throughput: settling legs on final scores and scoring them, the inner loop of a
// regrade (issue target: >= 5M legs/s on one core). The legs are pre-generated with a fixed
// seed across every market, with quarter lines on spreads and totals, whole and half lines on
// props, inactive players and random scores, so the branches are as unpredictable as in a
// real batch.
//
//   build/release/truthbook_benchmarks --benchmark_filter=Settle
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "base/status.h"
#include "grading/outcome.h"
#include "grading/score.h"
#include "grading/settle.h"

namespace truthbook::grading {
namespace {

constexpr size_t kLegs = size_t{1} << 16;
constexpr size_t kParlays = size_t{1} << 14;
constexpr size_t kParlayLegs = 4;

// One leg with what it settles on and what it scores.
struct Case {
  Leg leg;
  double home_score = 0;
  double away_score = 0;
  std::optional<double> stat;  // player props only; nullopt = did not play
  double decimal = 2.0;
  double prob = 0.5;  // the forecast probability of the picked side
};

Case RandomCase(std::mt19937_64& rng) {
  constexpr std::array kMarkets = {Market::kMoneyline, Market::kMoneyline3Way, Market::kSpread,
                                   Market::kTotal,     Market::kTeamTotal,     Market::kDrawNoBet,
                                   Market::kPlayerProp};
  constexpr std::array kTeamTotalSides = {Side::kHomeOver, Side::kHomeUnder, Side::kAwayOver,
                                          Side::kAwayUnder};
  std::uniform_int_distribution<size_t> market_index(0, kMarkets.size() - 1);
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> three(0, 2);
  std::uniform_int_distribution<int> four(0, 3);
  std::poisson_distribution<int> goals(1.4);
  std::uniform_int_distribution<int> quarters(-12, 12);      // lines -3 .. +3 in quarters
  std::uniform_int_distribution<int> total_quarters(2, 18);  // match totals 0.5 .. 4.5
  std::uniform_int_distribution<int> team_quarters(1, 10);   // team totals 0.25 .. 2.5
  std::uniform_int_distribution<int> halves(0, 60);          // prop lines 0 .. 30 in halves
  std::uniform_real_distribution<double> price(1.2, 5.0);
  std::uniform_real_distribution<double> probability(0.02, 0.98);
  std::poisson_distribution<int> stat(12);

  Case c;
  c.leg.market = kMarkets[market_index(rng)];
  switch (c.leg.market) {
    case Market::kMoneyline:
    case Market::kDrawNoBet:
      c.leg.side = coin(rng) ? Side::kHome : Side::kAway;
      break;
    case Market::kMoneyline3Way:
      c.leg.side = std::array{Side::kHome, Side::kDraw, Side::kAway}[three(rng)];
      break;
    case Market::kSpread:
      c.leg.side = coin(rng) ? Side::kHome : Side::kAway;
      c.leg.line = quarters(rng) / 4.0;
      break;
    case Market::kTotal:
      c.leg.side = coin(rng) ? Side::kOver : Side::kUnder;
      c.leg.line = total_quarters(rng) / 4.0;
      break;
    case Market::kTeamTotal:
      c.leg.side = kTeamTotalSides[four(rng)];
      c.leg.line = team_quarters(rng) / 4.0;
      break;
    case Market::kPlayerProp:
      c.leg.side = coin(rng) ? Side::kOver : Side::kUnder;
      c.leg.line = halves(rng) / 2.0;
      if (four(rng) != 0) c.stat = stat(rng);  // a quarter of the players did not play
      break;
  }
  c.home_score = goals(rng);
  c.away_score = goals(rng);
  c.decimal = price(rng);
  c.prob = probability(rng);
  return c;
}

std::vector<Case> RandomCases(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Case> cases;
  cases.reserve(n);
  for (size_t i = 0; i < n; ++i) cases.push_back(RandomCase(rng));
  return cases;
}

// False (and the benchmark reports an error) if the generator made a leg the REQUIRES of
// SettleOnScore/SettleProp exclude.
bool AllValid(benchmark::State& state, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    if (Status status = ValidateLeg(c.leg); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return false;
    }
  }
  return true;
}

Outcome Settle(const Case& c) {
  return c.leg.market == Market::kPlayerProp ? SettleProp(c.leg, c.stat)
                                             : SettleOnScore(c.leg, c.home_score, c.away_score);
}

// Settles each leg, then its profit at 1 unit risked, its Brier score and its log loss (on
// the decided share only, as grading stores them: PUSH and VOID are not scored).
void BM_SettleAndScore(benchmark::State& state) {
  const std::vector<Case> cases = RandomCases(kLegs, 20240601);
  if (!AllValid(state, cases)) return;
  for (auto _ : state) {
    double sum = 0;
    for (const Case& c : cases) {
      const Outcome outcome = Settle(c);
      sum += Profit(outcome, c.decimal, 1);
      if (DecidedShare(outcome) > 0) {
        const double y = Hit(outcome);
        sum += Brier(c.prob, y) + LogLoss(c.prob, y);
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(cases.size()));
  state.SetLabel("legs");
}
BENCHMARK(BM_SettleAndScore);

// Settles the four legs of each parlay on their scores, then prices the parlay.
void BM_SettleParlay(benchmark::State& state) {
  const std::vector<Case> cases = RandomCases(kParlays * kParlayLegs, 20240602);
  if (!AllValid(state, cases)) return;
  for (auto _ : state) {
    double sum = 0;
    for (size_t p = 0; p < kParlays; ++p) {
      std::array<SettledLeg, kParlayLegs> legs;
      for (size_t i = 0; i < kParlayLegs; ++i) {
        const Case& c = cases[p * kParlayLegs + i];
        legs[i] = {Settle(c), c.decimal};
      }
      Result<ParlaySettlement> parlay = SettleParlay(legs);
      if (parlay.ok()) sum += parlay->decimal - 1;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kParlays));
  state.SetLabel("4-leg parlays");
}
BENCHMARK(BM_SettleParlay);

}  // namespace
}  // namespace truthbook::grading
