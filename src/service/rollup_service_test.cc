// Performance rollups against a from-scratch recomputation: random gradings (with corrected
// results superseding earlier gradings, refreshed in several rounds) on a real SQLite store;
// every materialized key and window must equal the metrics computed directly from the current
// gradings, with the ECE from calibration::ExpectedCalibrationError.
#include "service/rollup_service.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "base/status_test_util.h"
#include "base/uuid.h"
#include "calibration/metrics.h"
#include "grading/outcome.h"
#include "store/sqlite/sqlite_store.h"

namespace truthbook::service {
namespace {

using std::chrono::days;

TimePoint Day(int d) {  // midnight of 2026-01-01 + d days, UTC
  using namespace std::chrono;
  return TimePoint(sys_days(year(2026) / January / 1)) + days(d);
}

// One graded publish as the test knows it: its dimensions and its current grading.
struct Graded {
  store::RollupFact fact;
  TimePoint published_at;
  std::string publish_id;
  std::string current_grading_id;
  std::string event_id;
};

class RollupServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollup_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = store::sqlite::SqliteStore::Open((dir_ / "t.db").string(), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Context ctx() { return Context{*store_, clock_, ids_}; }

  // Appends a ledger entry for `record_id` and returns its index.
  static int64_t Append(store::WriteTxn& txn, const std::string& kind, const std::string& id) {
    Result<int64_t> index = txn.AppendLedgerEntry({-1, kind, id, id, "sha-" + id, Day(0)});
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return index.ok() ? *index : -1;
  }

  // A random grading of `g` (outcome and numbers), written with a new result revision.
  void Grade(store::WriteTxn& txn, Graded& g, std::mt19937_64& rng) {
    static constexpr std::array<std::string_view, 6> kOutcomeNames = {
        "WIN", "LOSS", "PUSH", "VOID", "HALF_WIN", "HALF_LOSS"};
    std::uniform_real_distribution<double> unit(0, 1);
    const int revision = ++revisions_[g.event_id];
    ledger::EventResult result{"res-" + g.event_id + "-" + std::to_string(revision),
                               g.event_id,
                               revision,
                               "final",
                               100,
                               90,
                               "[]",
                               revision > 1 ? std::optional("res-" + g.event_id + "-" +
                                                            std::to_string(revision - 1))
                                            : std::nullopt,
                               Day(0),
                               -1};
    result.log_index = Append(txn, "event_result", result.result_id);
    ASSERT_OK(txn.InsertEventResult(result));
    // Every publish of the event is regraded on the new revision only when it is the one
    // being graded; others keep their grading (a corrected result regrades lazily).
    store::RollupFact& f = g.fact;
    f.outcome = std::string(kOutcomeNames[rng() % kOutcomeNames.size()]);
    f.stake = 0.5 + static_cast<double>(rng() % 4) * 0.5;
    f.profit_units = (unit(rng) - 0.45) * 2 * f.stake;
    f.prob = unit(rng);
    if (rng() % 5 == 0) f.prob = 0.1 * static_cast<double>(rng() % 11);  // on bin edges
    const bool scored = f.outcome != "PUSH" && f.outcome != "VOID";
    f.brier = scored ? std::optional(unit(rng) * 0.5) : std::nullopt;
    f.log_loss = scored ? std::optional(unit(rng) * 2) : std::nullopt;
    const bool clv = rng() % 3 != 0;
    f.clv_fair = clv ? std::optional(unit(rng) * 0.1 - 0.04) : std::nullopt;
    f.clv_prob_pts = clv ? std::optional(unit(rng) * 4 - 2) : std::nullopt;
    f.clv_price = clv && rng() % 2 == 0 ? std::optional(unit(rng) * 0.2 - 0.1) : std::nullopt;
    ledger::Grading grading{
        "grd-" + std::to_string(++gradings_), g.publish_id, result.result_id, f.outcome, "risk",
        f.stake, f.profit_units, 1.9, std::nullopt, std::nullopt, f.clv_price, f.clv_fair,
        f.clv_prob_pts, std::nullopt, "multiplicative", "raw", f.prob, f.brier, f.log_loss,
        g.current_grading_id.empty() ? std::nullopt : std::optional(g.current_grading_id),
        Day(0), -1};
    grading.log_index = Append(txn, "grading", grading.grading_id);
    ASSERT_OK(txn.InsertGrading(grading));
    g.current_grading_id = grading.grading_id;
  }

  // `n` new publishes on random days of [0, 120), each graded once.
  void AddGradedPublishes(int n, std::mt19937_64& rng) {
    struct Sport {
      std::string sport, league;
      std::vector<std::string> seasons;
    };
    static const std::vector<Sport> kSports = {
        {"NBA", "NBA", {"2024-25", "2025-26"}}, {"NFL", "NFL", {"2025"}},
        {"soccer", "EPL", {"2025-26"}}, {"soccer", "MLS", {"2026"}}};
    static const std::vector<std::string> kMarkets = {"moneyline", "spread", "total", "1x2"};
    static const std::vector<std::string> kTiers = {"A", "B", "C"};
    static const std::vector<std::string> kBooks = {"pinnacle", "draftkings", "bet365"};
    static const std::vector<std::string> kChannels = {"web", "api"};
    ASSERT_OK(store_->Write([&](store::WriteTxn& txn) -> Status {
      if (publishes_.empty()) {
        RETURN_IF_ERROR(txn.InsertSimRun({"run-1", "manual", "m", "f", "p", "sha", false, 1, 1,
                                          "{}", Day(0), Day(0), Day(0)}));
      }
      for (int i = 0; i < n; ++i) {
        const Sport& sport = kSports[rng() % kSports.size()];
        const std::string season = sport.seasons[rng() % sport.seasons.size()];
        const std::string event_id = "evt-" + std::to_string(publishes_.size());
        const TimePoint published_at =
            Day(static_cast<int>(rng() % 120)) + std::chrono::minutes(rng() % 1440);
        RETURN_IF_ERROR(txn.InsertEvent({event_id, 1, sport.sport, sport.league, season, "H",
                                         "A", published_at + std::chrono::hours(2),
                                         "scheduled", "b-" + event_id, Day(0)}));
        Graded g;
        g.event_id = event_id;
        g.published_at = published_at;
        g.publish_id = "pub-" + event_id;
        g.fact.sport = sport.sport;
        g.fact.league = sport.league;
        g.fact.season = season;
        g.fact.market = kMarkets[rng() % kMarkets.size()];
        g.fact.tier = kTiers[rng() % kTiers.size()];
        g.fact.book = kBooks[rng() % kBooks.size()];
        g.fact.channel = kChannels[rng() % kChannels.size()];
        ledger::Prediction p{"pred-" + event_id, "run-1", event_id, g.fact.market, "home",
                             std::nullopt, std::nullopt, std::nullopt, g.fact.book, 1.9, -110,
                             0.5, std::nullopt, std::nullopt, std::nullopt, g.fact.tier, 1,
                             Day(0)};
        RETURN_IF_ERROR(txn.InsertPrediction(p));
        ledger::Publish publish{g.publish_id, p.prediction_id, g.fact.channel, "public", true,
                                published_at, "req", -1};
        publish.log_index = Append(txn, "publish", g.publish_id);
        RETURN_IF_ERROR(txn.InsertPublish(publish));
        Grade(txn, g, rng);
        publishes_.push_back(g);
      }
      return Status::Ok();
    }));
  }

  // Regrades `n` random publishes on a corrected result (superseding their grading).
  void Regrade(int n, std::mt19937_64& rng) {
    ASSERT_OK(store_->Write([&](store::WriteTxn& txn) -> Status {
      for (int i = 0; i < n; ++i) Grade(txn, publishes_[rng() % publishes_.size()], rng);
      return Status::Ok();
    }));
  }

  // Checks `perf` against the current gradings that match its key and window.
  void ExpectMatchesScratch(const Performance& perf) {
    SCOPED_TRACE(perf.key.ToString());
    std::vector<double> p, y;
    std::map<std::string, int64_t> counts;
    int64_t n = 0, clv_n = 0, beat = 0;
    double units = 0, stake = 0, decided = 0, won = 0, clv_fair = 0, brier = 0, log_loss = 0;
    for (const Graded& g : publishes_) {
      const store::RollupFact& f = g.fact;
      const std::array<const std::string*, 6> values = {&f.sport,  &f.league,  &f.tier,
                                                        &f.market, &f.channel, &f.book};
      bool match = true;
      for (size_t d = 0; d < values.size(); ++d) {
        if (perf.key.values[d] && *perf.key.values[d] != *values[d]) match = false;
      }
      const int64_t day = std::chrono::floor<days>(g.published_at).time_since_epoch().count();
      if (!match || day < perf.day_from || day > perf.day_to) continue;
      if (perf.season && f.season != *perf.season) continue;
      auto outcome = grading::ParseOutcome(f.outcome).value();
      ++n;
      ++counts[f.outcome];
      units += f.profit_units;
      if (f.outcome != "VOID") stake += f.stake;
      decided += grading::DecidedShare(outcome);
      won += grading::DecidedShare(outcome) * grading::Hit(outcome);
      if (f.clv_fair) {
        ++clv_n;
        clv_fair += *f.clv_fair;
        if (*f.clv_fair > 0) ++beat;
      }
      if (f.brier) {
        brier += *f.brier;
        log_loss += *f.log_loss;
        p.push_back(f.prob);
        y.push_back(grading::Hit(outcome));
      }
    }
    const GradingSummary& s = perf.summary;
    ASSERT_EQ(s.n, n);
    for (size_t o = 0; o < grading::kOutcomes.size(); ++o) {
      EXPECT_EQ(s.count_by_outcome[o],
                counts[std::string(grading::OutcomeName(grading::kOutcomes[o]))]);
    }
    constexpr double kTol = 1e-9;
    EXPECT_NEAR(s.units, units, kTol);
    if (stake > 0) {
      EXPECT_NEAR(s.roi.value(), units / stake, kTol);
    }
    if (decided > 0) {
      EXPECT_NEAR(s.win_rate.value(), won / decided, kTol);
    }
    EXPECT_EQ(s.mean_clv_fair.has_value(), clv_n > 0);
    if (clv_n > 0) {
      EXPECT_NEAR(*s.mean_clv_fair, clv_fair / static_cast<double>(clv_n), kTol);
      EXPECT_NEAR(*s.beat_close_rate, static_cast<double>(beat) / static_cast<double>(clv_n),
                  kTol);
    }
    EXPECT_EQ(perf.ece.has_value(), !p.empty());
    if (!p.empty()) {
      const double count = static_cast<double>(p.size());
      EXPECT_NEAR(*s.mean_brier, brier / count, kTol);
      EXPECT_NEAR(*s.mean_log_loss, log_loss / count, kTol);
      EXPECT_NEAR(*perf.ece, calibration::ExpectedCalibrationError(p, y, {}, 10).value(), kTol);
    }
  }

  // Every materialized key of the data, in every window, as of `as_of`.
  void ExpectEveryRollupMatches(RollupService& rollups, TimePoint as_of) {
    std::set<std::string> keys;
    for (const Graded& g : publishes_) {
      const store::RollupFact& f = g.fact;
      const std::array<std::string, 6> values = {f.sport, f.league, f.tier,
                                                 f.market, f.channel, f.book};
      for (unsigned mask = 0; mask < 64; ++mask) {
        RollupKey key;
        for (size_t d = 0; d < 6; ++d) {
          if (mask & (1u << d)) key.values[d] = values[d];
        }
        if (key.Materialized()) keys.insert(key.Slice());
      }
    }
    int checked = 0;
    for (const std::string& slice : keys) {
      RollupKey key = ParseRollupKey(slice).value();
      for (RollupWindow window : {RollupWindow::k7d, RollupWindow::k30d, RollupWindow::k90d,
                                  RollupWindow::kSeason, RollupWindow::kAll}) {
        if (window == RollupWindow::kSeason && !key.value(RollupDim::kSport)) continue;
        Result<Performance> perf = rollups.Get(key, {window, std::nullopt, as_of});
        ASSERT_TRUE(perf.ok()) << slice << ": " << perf.status().ToString();
        ExpectMatchesScratch(*perf);
        ++checked;
      }
    }
    EXPECT_GT(checked, 500);
  }

  ManualClock clock_{Day(130)};
  UuidV7Generator ids_{clock_};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::vector<Graded> publishes_;
  std::map<std::string, int> revisions_;
  int gradings_ = 0;
};

TEST_F(RollupServiceTest, EveryRollupEqualsRecomputationAfterIncrementalRefreshes) {
  std::mt19937_64 rng(20261126);
  RollupService rollups(ctx());
  AddGradedPublishes(400, rng);
  ASSERT_OK(rollups.Refresh());
  AddGradedPublishes(300, rng);
  Regrade(150, rng);  // corrected results on days already rolled up
  Result<RollupRefreshReport> second = rollups.Refresh();
  ASSERT_OK(second);
  EXPECT_GT(second->days, 0);
  ExpectEveryRollupMatches(rollups, Day(119));
  ExpectEveryRollupMatches(rollups, Day(60));  // an as-of day inside the data
}

TEST_F(RollupServiceTest, RefreshWithNothingNewRebuildsNothing) {
  std::mt19937_64 rng(7);
  RollupService rollups(ctx());
  AddGradedPublishes(50, rng);
  ASSERT_OK(rollups.Refresh());
  Result<RollupRefreshReport> again = rollups.Refresh();
  ASSERT_OK(again);
  EXPECT_EQ(again->days, 0);
  EXPECT_EQ(again->rows, 0);
}

TEST_F(RollupServiceTest, GroupByAndHistoryAgreeWithGet) {
  std::mt19937_64 rng(11);
  RollupService rollups(ctx());
  AddGradedPublishes(300, rng);
  ASSERT_OK(rollups.Refresh());
  const PerformanceQuery q{RollupWindow::k30d, std::nullopt, Day(119)};
  Result<std::vector<Performance>> by_market = rollups.GroupBy(RollupDim::kMarket, {}, q);
  ASSERT_OK(by_market);
  ASSERT_EQ(by_market->size(), 4u);
  for (const Performance& group : *by_market) {
    ExpectMatchesScratch(group);
    Result<Performance> one = rollups.Get(group.key, q);
    ASSERT_OK(one);
    EXPECT_EQ(one->summary.n, group.summary.n);
  }
  RollupKey nba = ParseRollupKey("sport=NBA|market=spread").value();
  Result<std::vector<Performance>> series = rollups.History(nba, q);
  ASSERT_OK(series);
  ASSERT_FALSE(series->empty());
  for (const Performance& point : *series) {
    ExpectMatchesScratch(point);
    const TimePoint as_of{days(point.day_to)};
    Result<Performance> then = rollups.Get(nba, {RollupWindow::k30d, std::nullopt, as_of});
    ASSERT_OK(then);
    EXPECT_EQ(then->summary.n, point.summary.n);
  }
}

TEST_F(RollupServiceTest, RefusesWhatIsNotMaterializedOrMalformed) {
  std::mt19937_64 rng(3);
  RollupService rollups(ctx());
  AddGradedPublishes(20, rng);
  ASSERT_OK(rollups.Refresh());
  RollupKey three = ParseRollupKey("tier=A|market=spread|book=pinnacle").value();
  EXPECT_EQ(rollups.Get(three, {}).status().code(), StatusCode::kInvalidArgument);
  RollupKey unknown = ParseRollupKey("sport=cricket").value();
  EXPECT_EQ(rollups.Get(unknown, {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(rollups.Get({}, {RollupWindow::kSeason, std::nullopt, std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(rollups.Get({}, {RollupWindow::kAll, Day(10), Day(5)}).status().code(),
            StatusCode::kInvalidArgument);
  for (const char* bad : {"sport", "sport=", "sports=NBA", "sport=NBA|sport=NFL",
                          "window=1y", "sport=NBA|", "sport=N%2BA"}) {
    EXPECT_EQ(ParseRollupKey(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  RollupKey escaped = ParseRollupKey("window=30d|league=A%7CB%3DC%25|sport=NBA").value();
  EXPECT_EQ(escaped.ToString(), "sport=NBA|league=A%7CB%3DC%25|window=30d");
  EXPECT_EQ(*escaped.value(RollupDim::kLeague), "A|B=C%");
}

}  // namespace
}  // namespace truthbook::service
