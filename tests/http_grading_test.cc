// Acceptance 3 and 4 of the grading issue, against the real server: picks on events in 2030
// (the server runs on the real clock and refuses a publish after the start) are graded on
// posted results. Each test states one rule of DESIGN §3 "Grading" over HTTP: outcomes and
// units, CLV against the last snapshot at or before the start, Brier and log loss, regrading a
// corrected result, the summary and its filters, and the 4xx answers to bad input, which
// change no table.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

constexpr double kTol = 1e-12;
// -110 as a decimal price.
constexpr double kMinus110 = 1.0 + 100.0 / 110.0;
constexpr char kUnknownId[] = "0190f1f0-0000-7000-8000-000000000000";

// The slate's events. kNbaA's closing pinnacle spread is captured exactly at its start.
constexpr char kNbaA[] = "nba-2030-01-10-lal-bos";
constexpr char kNbaAStart[] = "2030-01-10T00:30:00Z";
constexpr char kNbaB[] = "nba-2030-01-11-gsw-den";
constexpr char kNbaBStart[] = "2030-01-11T03:00:00Z";
constexpr char kEpl[] = "epl-2030-01-12-ars-che";
constexpr char kEplStart[] = "2030-01-12T15:00:00Z";
// The day of the sim runs that record the picks.
constexpr char kRunDay[] = "2029-12-31";

json American(double american) { return {{"american", american}}; }
json Decimal(double decimal) { return {{"decimal", decimal}}; }

json Quote(const std::string& selection, std::optional<double> line, const json& price) {
  json q = {{"selection", selection}, {"price", price}};
  if (line) q["line"] = *line;
  return q;
}

json PlayerStat(const std::string& player, const std::string& stat, std::optional<double> value,
                bool played) {
  return {{"player", player},
          {"stat", stat},
          {"value", value ? json(*value) : json(nullptr)},
          {"played", played}};
}

// Multiplicative de-vig of a two-way market: the fair probability of the side priced at `d`.
double FairProb(double d, double other) { return (1 / d) / (1 / d + 1 / other); }

double LogLoss(double p, double y) { return -(y * std::log(p) + (1 - y) * std::log(1 - p)); }

class HttpGradingTest : public ServerTest {
 protected:
  // Publish ids of the slate's picks and the snapshot ids around kNbaA's start.
  struct Slate {
    std::string spread;          // kNbaA spread home -3.5 at -110, pinnacle, calibrated 0.58
    std::string total;           // kNbaB total over 210 at -110, raw 0.52, no closing snapshot
    std::string prop;            // kNbaB L. James points over 25.5 at -115 (he will not play)
    std::string dk;              // kNbaB spread home -2.5 at -110, draftkings, tier B, DISCORD
    std::string draw;            // kEpl moneyline_3way draw at 3.40, raw 0.30, no snapshot at all
    std::string early_snapshot;  // pinnacle spread, a day before kNbaA's start
    std::string close_snapshot;  // pinnacle spread, captured exactly at kNbaA's start
    std::string after_snapshot;  // pinnacle spread, captured after kNbaA's start
    std::string dk_close_snapshot;
    std::string nba_a_result;
  };

  void PostEvent(const std::string& event_id, const std::string& start, const std::string& sport,
                 const std::string& league) {
    json event = EventBody(event_id, start, sport);
    event["league"] = league;
    PostExpect("events", event, 201);
  }

  // Captures an odds snapshot and returns its id. `extra` adds top-level fields (player, stat).
  std::string Capture(const std::string& event_id, const std::string& book,
                      const std::string& market, const std::string& captured_at, const json& quotes,
                      const json& extra = json::object()) {
    json body = {{"event_id", event_id},       {"book", book},     {"market", market},
                 {"captured_at", captured_at}, {"quotes", quotes}, {"raw", {{"feed", book}}}};
    body.update(extra);
    return PostExpect("capture-snapshot", body, 201).value("snapshot_id", "");
  }

  // Records `prediction` in a sim run of its own and publishes it; returns the publish id.
  std::string PublishPick(const json& prediction, const std::string& channel = "TELEGRAM") {
    json run =
        PostExpect("sim-runs", SimRunWith(json::array({prediction}), json::array(), kRunDay), 201);
    if (!run.contains("prediction_ids") || run["prediction_ids"].size() != 1) return "";
    json publish = PostExpect("publish", PublishBody(run["prediction_ids"][0], channel), 201);
    return publish.value("publish_id", "");
  }

  // Posts a final result and returns its id.
  std::string PostResult(const std::string& event_id, int home, int away,
                         const json& player_stats = json::array()) {
    json body = {{"event_id", event_id},
                 {"status", "final"},
                 {"home_score", home},
                 {"away_score", away},
                 {"player_stats", player_stats}};
    return PostExpect("event-results", body, 201).value("result_id", "");
  }

  json GradeAll() { return PostExpect("grade-all-pending", json::object(), 200); }

  json Current(const std::string& publish_id) { return GetOk("grading/" + publish_id)["current"]; }

  json Summary(const std::string& query = "") {
    return GetOk("grading-summary" + (query.empty() ? "" : "?" + query));
  }

  // The summary's counts per outcome, the ones that are not zero.
  std::map<std::string, int64_t> Outcomes(const json& doc) {
    std::map<std::string, int64_t> out;
    for (const auto& [outcome, n] : doc["by_outcome"].items()) {
      if (n.get<int64_t>() != 0) out[outcome] = n.get<int64_t>();
    }
    return out;
  }

  // Three events in 2030, their snapshots (posted out of captured_at order) and five picks.
  void PostSlate() {
    PostEvent(kNbaA, kNbaAStart, "NBA", "NBA");
    PostEvent(kNbaB, kNbaBStart, "NBA", "NBA");
    PostEvent(kEpl, kEplStart, "Soccer", "EPL");

    auto spread = [](double line, const json& home, const json& away) {
      return json::array({Quote("home", line, home), Quote("away", -line, away)});
    };
    slate_.after_snapshot = Capture(kNbaA, "pinnacle", "spread", "2030-01-10T00:45:00Z",
                                    spread(-3.5, Decimal(1.50), Decimal(2.60)));
    slate_.close_snapshot = Capture(kNbaA, "pinnacle", "spread", kNbaAStart,
                                    spread(-3.5, Decimal(1.80), Decimal(2.05)));
    slate_.early_snapshot = Capture(kNbaA, "pinnacle", "spread", "2030-01-09T12:00:00Z",
                                    spread(-3.5, American(-110), American(-110)));
    // Later than the close, but another book or another market: not the pick's closing line.
    Capture(kNbaA, "draftkings", "spread", "2030-01-10T00:29:00Z",
            spread(-3.5, Decimal(1.70), Decimal(2.20)));
    Capture(
        kNbaA, "pinnacle", "total", "2030-01-10T00:29:30Z",
        json::array({Quote("over", 220.5, Decimal(1.90)), Quote("under", 220.5, Decimal(1.90))}));
    slate_.dk_close_snapshot = Capture(kNbaB, "draftkings", "spread", "2030-01-11T02:00:00Z",
                                       spread(-2.5, Decimal(1.95), Decimal(1.90)));

    json spread_pick = PredictionBody(kNbaA, "spread", "home", -3.5, American(-110), 0.55);
    spread_pick["calibrated_prob"] = 0.58;
    slate_.spread = PublishPick(spread_pick);
    slate_.total = PublishPick(PredictionBody(kNbaB, "total", "over", 210, American(-110), 0.52));
    json prop = PredictionBody(kNbaB, "player_prop", "over", 25.5, American(-115), 0.5);
    prop["player"] = "L. James";
    prop["stat"] = "points";
    slate_.prop = PublishPick(prop);
    slate_.dk = PublishPick(
        PredictionBody(kNbaB, "spread", "home", -2.5, American(-110), 0.6, "draftkings", "B"),
        "DISCORD");
    slate_.draw = PublishPick(
        PredictionBody(kEpl, "moneyline_3way", "draw", std::nullopt, Decimal(3.40), 0.30));
  }

  // kNbaA 110-100 (home -3.5 wins), kNbaB 105-105 (over 210 pushes, home -2.5 loses, L. James
  // did not play), kEpl 1-1 (the draw wins).
  void PostResults() {
    slate_.nba_a_result = PostResult(kNbaA, 110, 100);
    PostResult(kNbaB, 105, 105,
               json::array({PlayerStat("L. James", "points", std::nullopt, false),
                            PlayerStat("N. Jokic", "points", 31, true)}));
    PostResult(kEpl, 1, 1);
  }

  Slate slate_;
};

TEST_F(HttpGradingTest, GradeAllPendingSettlesEachMarket) {
  PostSlate();
  PostResults();
  json report = GradeAll();
  EXPECT_EQ(report["graded"], 5);
  EXPECT_EQ(report["superseding"], 0);
  EXPECT_EQ(report["skipped"], 0);
  EXPECT_EQ(report["skip_reasons"], json::array());
  EXPECT_TRUE(report["elapsed_ms"].is_number());
  EXPECT_EQ(Outcomes(report),
            (std::map<std::string, int64_t>{{"WIN", 2}, {"LOSS", 1}, {"PUSH", 1}, {"VOID", 1}}));
  for (const char* outcome : {"WIN", "LOSS", "PUSH", "VOID", "HALF_WIN", "HALF_LOSS"}) {
    EXPECT_TRUE(report["by_outcome"].contains(outcome)) << outcome;
  }
  EXPECT_EQ(server_.RowCounts()["grading"], 5);
  // Nothing is pending any more.
  json again = GradeAll();
  EXPECT_EQ(again["graded"], 0);
  EXPECT_EQ(server_.RowCounts()["grading"], 5);
}

TEST_F(HttpGradingTest, SpreadWinPaysPriceMinusOneAndScoresCalibratedProb) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.spread);
  EXPECT_EQ(g["publish_id"], slate_.spread);
  EXPECT_EQ(g["result_id"], slate_.nba_a_result);
  EXPECT_EQ(g["outcome"], "WIN");
  EXPECT_EQ(g["stake_convention"], "risk");
  EXPECT_NEAR(g["stake"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(g["price_decimal"].get<double>(), kMinus110, kTol);
  EXPECT_NEAR(g["profit_units"].get<double>(), 0.9090909090909091, kTol);
  EXPECT_EQ(g["prob_used"], "calibrated");
  EXPECT_NEAR(g["prob"].get<double>(), 0.58, kTol);
  EXPECT_NEAR(g["brier"].get<double>(), (0.58 - 1) * (0.58 - 1), kTol);
  EXPECT_NEAR(g["log_loss"].get<double>(), -std::log(0.58), kTol);
  EXPECT_TRUE(g["supersedes"].is_null());
  EXPECT_TRUE(g["grading_id"].is_string());
  EXPECT_TRUE(g["graded_at"].is_string());
  EXPECT_EQ(GetOk("grading/" + slate_.spread)["history"], json::array());
}

TEST_F(HttpGradingTest, SpreadLossCostsTheStakeAndScoresRawProb) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.dk);
  EXPECT_EQ(g["outcome"], "LOSS");
  EXPECT_NEAR(g["profit_units"].get<double>(), -1.0, kTol);
  EXPECT_EQ(g["prob_used"], "raw");
  EXPECT_NEAR(g["prob"].get<double>(), 0.6, kTol);
  EXPECT_NEAR(g["brier"].get<double>(), 0.36, kTol);
  EXPECT_NEAR(g["log_loss"].get<double>(), -std::log(0.4), kTol);
}

TEST_F(HttpGradingTest, TotalOnIntegerLineLandingOnItPushes) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.total);
  EXPECT_EQ(g["outcome"], "PUSH");
  EXPECT_EQ(g["profit_units"].get<double>(), 0.0);
  EXPECT_EQ(g["prob_used"], "raw");
  EXPECT_NEAR(g["prob"].get<double>(), 0.52, kTol);
  EXPECT_TRUE(g["brier"].is_null()) << g;  // PUSH and VOID are not scored
  EXPECT_TRUE(g["log_loss"].is_null()) << g;
}

TEST_F(HttpGradingTest, ThreeWayDrawWinsAtItsDecimalPrice) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.draw);
  EXPECT_EQ(g["outcome"], "WIN");
  EXPECT_NEAR(g["profit_units"].get<double>(), 2.4, kTol);
  EXPECT_EQ(g["prob_used"], "raw");
  EXPECT_NEAR(g["brier"].get<double>(), 0.49, kTol);
  EXPECT_NEAR(g["log_loss"].get<double>(), -std::log(0.3), kTol);
}

TEST_F(HttpGradingTest, PropOfPlayerWhoDidNotPlayIsVoid) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.prop);
  EXPECT_EQ(g["outcome"], "VOID");
  EXPECT_EQ(g["profit_units"].get<double>(), 0.0);
  EXPECT_TRUE(g["brier"].is_null()) << g;
  EXPECT_TRUE(g["log_loss"].is_null()) << g;
  EXPECT_TRUE(g["clv_fair"].is_null()) << g;
  EXPECT_TRUE(g["clv_note"].is_string()) << g;
}

TEST_F(HttpGradingTest, ClvIsMeasuredAgainstLastSnapshotAtOrBeforeStart) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.spread);
  // Not the early one, not the one after the start, not another book's or market's.
  EXPECT_EQ(g["closing_snapshot_id"], slate_.close_snapshot) << g;
  EXPECT_NE(g["closing_snapshot_id"], slate_.early_snapshot);
  EXPECT_NE(g["closing_snapshot_id"], slate_.after_snapshot);
  EXPECT_EQ(g["devig_method"], "multiplicative");
  ASSERT_TRUE(g["closing_price"].is_number()) << g;
  EXPECT_NEAR(g["closing_price"].get<double>(), 1.80, kTol);

  const double p_close = FairProb(1.80, 2.05);
  ASSERT_TRUE(g["clv_price"].is_number()) << g;
  ASSERT_TRUE(g["clv_fair"].is_number()) << g;
  ASSERT_TRUE(g["clv_prob_pts"].is_number()) << g;
  EXPECT_NEAR(g["clv_price"].get<double>(), kMinus110 / 1.80 - 1, kTol);
  EXPECT_NEAR(g["clv_fair"].get<double>(), kMinus110 * p_close - 1, kTol);
  EXPECT_NEAR(g["clv_prob_pts"].get<double>(), p_close - 1 / kMinus110, kTol);
}

TEST_F(HttpGradingTest, ClvUsesTheBookOfThePriceTaken) {
  PostSlate();
  PostResults();
  GradeAll();
  json g = Current(slate_.dk);
  EXPECT_EQ(g["closing_snapshot_id"], slate_.dk_close_snapshot) << g;
  const double p_close = FairProb(1.95, 1.90);
  ASSERT_TRUE(g["clv_fair"].is_number()) << g;
  EXPECT_NEAR(g["closing_price"].get<double>(), 1.95, kTol);
  EXPECT_NEAR(g["clv_price"].get<double>(), kMinus110 / 1.95 - 1, kTol);
  EXPECT_NEAR(g["clv_fair"].get<double>(), kMinus110 * p_close - 1, kTol);
  EXPECT_NEAR(g["clv_prob_pts"].get<double>(), p_close - 1 / kMinus110, kTol);
}

TEST_F(HttpGradingTest, NoClosingSnapshotLeavesClvNullWithANote) {
  PostSlate();
  PostResults();
  GradeAll();
  for (const std::string& publish_id : {slate_.draw, slate_.total}) {
    json g = Current(publish_id);
    EXPECT_TRUE(g["closing_snapshot_id"].is_null()) << g;
    EXPECT_TRUE(g["closing_price"].is_null()) << g;
    EXPECT_TRUE(g["clv_price"].is_null()) << g;  // null, never 0
    EXPECT_TRUE(g["clv_fair"].is_null()) << g;
    EXPECT_TRUE(g["clv_prob_pts"].is_null()) << g;
    ASSERT_TRUE(g["clv_note"].is_string()) << g;
    EXPECT_NE(g["clv_note"].get<std::string>().find("no closing snapshot"), std::string::npos) << g;
  }
}

TEST_F(HttpGradingTest, GradePredictionOnGradedPublishReturnsExisting) {
  PostSlate();
  PostResults();
  json first = PostExpect("grade-prediction/" + slate_.draw, json::object(), 201);
  EXPECT_EQ(first["created"], true);
  EXPECT_EQ(first["outcome"], "WIN");
  json again = PostExpect("grade-prediction/" + slate_.draw, json::object(), 200);
  EXPECT_EQ(again["created"], false);
  EXPECT_EQ(again["grading_id"], first["grading_id"]);
  first.erase("created");
  again.erase("created");
  EXPECT_EQ(again, first);
  EXPECT_EQ(server_.RowCounts()["grading"], 1);

  // grade-all-pending leaves the graded publish alone.
  json report = GradeAll();
  EXPECT_EQ(report["graded"], 4);
  EXPECT_EQ(server_.RowCounts()["grading"], 5);
  EXPECT_EQ(Current(slate_.draw)["grading_id"], first["grading_id"]);
  json after = PostExpect("grade-prediction/" + slate_.spread, json::object(), 200);
  EXPECT_EQ(after["created"], false);
  EXPECT_EQ(after["grading_id"], Current(slate_.spread)["grading_id"]);
}

TEST_F(HttpGradingTest, SummaryAggregatesCurrentGradings) {
  PostSlate();
  PostResults();
  GradeAll();
  json s = Summary();
  EXPECT_EQ(s["n"], 5);
  EXPECT_EQ(Outcomes(s),
            (std::map<std::string, int64_t>{{"WIN", 2}, {"LOSS", 1}, {"PUSH", 1}, {"VOID", 1}}));
  const double units = (kMinus110 - 1) + 2.4 - 1;
  EXPECT_NEAR(s["units"].get<double>(), units, 1e-9);
  EXPECT_NEAR(s["win_rate"].get<double>(), 2.0 / 3.0, 1e-9);  // PUSH and VOID excluded
  EXPECT_NEAR(s["roi"].get<double>(), units / 4, 1e-9);       // VOID stakes excluded
  EXPECT_NEAR(s["mean_brier"].get<double>(), (0.42 * 0.42 + 0.36 + 0.49) / 3, 1e-9);
  EXPECT_NEAR(s["mean_log_loss"].get<double>(),
              (LogLoss(0.58, 1) + LogLoss(0.6, 0) + LogLoss(0.3, 1)) / 3, 1e-9);
  // CLV means run over the two picks with a closing line only (null is not 0).
  const double spread_fair = kMinus110 * FairProb(1.80, 2.05) - 1;
  const double dk_fair = kMinus110 * FairProb(1.95, 1.90) - 1;
  ASSERT_GT(spread_fair, 0);
  ASSERT_LT(dk_fair, 0);
  EXPECT_NEAR(s["mean_clv_fair"].get<double>(), (spread_fair + dk_fair) / 2, 1e-9);
  EXPECT_NEAR(s["mean_clv_price"].get<double>(), (kMinus110 / 1.80 - 1 + kMinus110 / 1.95 - 1) / 2,
              1e-9);
  EXPECT_NEAR(s["mean_clv_prob_pts"].get<double>(),
              (FairProb(1.80, 2.05) + FairProb(1.95, 1.90) - 2 / kMinus110) / 2, 1e-9);
  EXPECT_NEAR(s["beat_close_rate"].get<double>(), 0.5, 1e-9);
}

TEST_F(HttpGradingTest, SummaryFiltersNarrowTheCounts) {
  PostSlate();
  PostResults();
  GradeAll();
  auto n = [&](const std::string& query) { return Summary(query)["n"].get<int64_t>(); };
  EXPECT_EQ(n(""), 5);
  EXPECT_EQ(n("sport=NBA"), 4);
  EXPECT_EQ(n("sport=Soccer"), 1);
  EXPECT_EQ(n("league=EPL"), 1);
  EXPECT_EQ(n("market=spread"), 2);
  EXPECT_EQ(n("market=moneyline_3way"), 1);
  EXPECT_EQ(n("market=moneyline"), 0);
  EXPECT_EQ(n("tier=B"), 1);
  EXPECT_EQ(n("tier=A"), 4);
  EXPECT_EQ(n("channel=DISCORD"), 1);
  EXPECT_EQ(n("channel=TELEGRAM"), 4);
  EXPECT_EQ(n("book=draftkings"), 1);
  EXPECT_EQ(n("book=pinnacle"), 4);
  EXPECT_EQ(n("sport=NBA&market=spread&channel=TELEGRAM"), 1);
  EXPECT_EQ(n("from=2000-01-01T00:00:00Z"), 5);
  EXPECT_EQ(n("from=2100-01-01T00:00:00Z"), 0);
  EXPECT_EQ(n("to=2000-01-01T00:00:00Z"), 0);

  json spread = Summary("market=spread");
  EXPECT_EQ(Outcomes(spread), (std::map<std::string, int64_t>{{"WIN", 1}, {"LOSS", 1}}));
  EXPECT_NEAR(spread["units"].get<double>(), kMinus110 - 2, 1e-9);
  EXPECT_NEAR(spread["win_rate"].get<double>(), 0.5, 1e-9);

  json empty = Summary("sport=MLB");
  EXPECT_EQ(empty["n"], 0);
  EXPECT_EQ(empty["units"].get<double>(), 0.0);
  EXPECT_TRUE(empty["win_rate"].is_null()) << empty;
  EXPECT_TRUE(empty["roi"].is_null()) << empty;
  EXPECT_TRUE(empty["mean_brier"].is_null()) << empty;
  EXPECT_TRUE(empty["mean_clv_fair"].is_null()) << empty;
}

TEST_F(HttpGradingTest, CorrectedResultSupersedesAndKeepsHistory) {
  PostSlate();
  PostResults();
  GradeAll();
  json old = Current(slate_.spread);
  ASSERT_EQ(old["outcome"], "WIN");

  // The home side lost after all: home -3.5 now loses.
  json corrected = PostExpect("event-results",
                              {{"event_id", kNbaA},
                               {"status", "final"},
                               {"home_score", 100},
                               {"away_score", 102},
                               {"player_stats", json::array()}},
                              201);
  EXPECT_EQ(corrected["revision"], 2);
  json report = GradeAll();
  EXPECT_EQ(report["graded"], 1);
  EXPECT_EQ(report["superseding"], 1);
  EXPECT_EQ(report["skipped"], 0);
  EXPECT_EQ(Outcomes(report), (std::map<std::string, int64_t>{{"LOSS", 1}}));

  json graded = GetOk("grading/" + slate_.spread);
  json current = graded["current"];
  EXPECT_EQ(current["outcome"], "LOSS");
  EXPECT_EQ(current["supersedes"], old["grading_id"]);
  EXPECT_NE(current["grading_id"], old["grading_id"]);
  EXPECT_EQ(current["result_id"], corrected["result_id"]);
  EXPECT_NEAR(current["profit_units"].get<double>(), -1.0, kTol);
  EXPECT_NEAR(current["brier"].get<double>(), 0.58 * 0.58, kTol);
  EXPECT_NEAR(current["log_loss"].get<double>(), -std::log(0.42), kTol);
  EXPECT_EQ(current["closing_snapshot_id"], old["closing_snapshot_id"]);
  EXPECT_EQ(current["clv_fair"], old["clv_fair"]);
  ASSERT_EQ(graded["history"].size(), 1u);
  EXPECT_EQ(graded["history"][0].dump(), old.dump());  // the old grading, unchanged

  json s = Summary();
  EXPECT_EQ(s["n"], 5);
  EXPECT_EQ(Outcomes(s),
            (std::map<std::string, int64_t>{{"WIN", 1}, {"LOSS", 2}, {"PUSH", 1}, {"VOID", 1}}));
  EXPECT_NEAR(s["units"].get<double>(), 2.4 - 2, 1e-9);
  EXPECT_NEAR(s["win_rate"].get<double>(), 1.0 / 3.0, 1e-9);
  EXPECT_EQ(Summary("market=spread")["by_outcome"]["LOSS"], 2);

  std::map<std::string, int64_t> counts = server_.RowCounts();
  EXPECT_EQ(counts["published_predictions"], 5);
  EXPECT_EQ(counts["event_results"], 4);
  EXPECT_EQ(counts["grading"], 6);
  EXPECT_EQ(counts["ledger_entries"],
            counts["published_predictions"] + counts["event_results"] + counts["grading"]);

  // The regrade is the current grading now; asking again returns it.
  json again = PostExpect("grade-prediction/" + slate_.spread, json::object(), 200);
  EXPECT_EQ(again["created"], false);
  EXPECT_EQ(again["grading_id"], current["grading_id"]);
  EXPECT_EQ(GradeAll()["graded"], 0);
  EXPECT_EQ(server_.RowCounts(), counts);
}

TEST_F(HttpGradingTest, GradePredictionRegradesACorrectedResult) {
  PostSlate();
  PostResults();
  json old = PostExpect("grade-prediction/" + slate_.spread, json::object(), 201);
  PostResult(kNbaA, 100, 102);
  json regraded = PostExpect("grade-prediction/" + slate_.spread, json::object(), 201);
  EXPECT_EQ(regraded["created"], true);
  EXPECT_EQ(regraded["outcome"], "LOSS");
  EXPECT_EQ(regraded["supersedes"], old["grading_id"]);
  json graded = GetOk("grading/" + slate_.spread);
  EXPECT_EQ(graded["current"]["grading_id"], regraded["grading_id"]);
  ASSERT_EQ(graded["history"].size(), 1u);
  EXPECT_EQ(graded["history"][0]["grading_id"], old["grading_id"]);
  EXPECT_EQ(graded["history"][0]["outcome"], "WIN");
}

TEST_F(HttpGradingTest, LineMovedLeavesClvPriceNullButMeasuresFairValue) {
  PostEvent(kNbaA, kNbaAStart, "NBA", "NBA");
  const std::string close =
      Capture(kNbaA, "pinnacle", "spread", "2030-01-10T00:00:00Z",
              json::array({Quote("home", -4.5, Decimal(1.91)), Quote("away", 4.5, Decimal(1.95))}));
  const std::string publish_id =
      PublishPick(PredictionBody(kNbaA, "spread", "home", -3.5, American(-110), 0.55));
  PostResult(kNbaA, 110, 100);
  GradeAll();
  json g = Current(publish_id);
  EXPECT_EQ(g["closing_snapshot_id"], close);
  EXPECT_TRUE(g["clv_price"].is_null()) << g;  // prices on different lines do not compare
  ASSERT_TRUE(g["clv_note"].is_string()) << g;
  EXPECT_NE(g["clv_note"].get<std::string>().find("line moved"), std::string::npos) << g;
  const double p_close = FairProb(1.91, 1.95);
  ASSERT_TRUE(g["clv_fair"].is_number()) << g;
  EXPECT_NEAR(g["clv_fair"].get<double>(), kMinus110 * p_close - 1, kTol);
  EXPECT_NEAR(g["clv_prob_pts"].get<double>(), p_close - 1 / kMinus110, kTol);
}

TEST_F(HttpGradingTest, ThreeWayClvDevigsAllThreeOutcomes) {
  PostEvent(kEpl, kEplStart, "Soccer", "EPL");
  const std::string close = Capture(kEpl, "pinnacle", "moneyline_3way", "2030-01-12T14:55:00Z",
                                    json::array({Quote("home", std::nullopt, Decimal(2.10)),
                                                 Quote("draw", std::nullopt, Decimal(3.30)),
                                                 Quote("away", std::nullopt, Decimal(3.60))}));
  const std::string publish_id = PublishPick(
      PredictionBody(kEpl, "moneyline_3way", "home", std::nullopt, Decimal(2.25), 0.47));
  PostResult(kEpl, 2, 1);
  GradeAll();
  json g = Current(publish_id);
  EXPECT_EQ(g["outcome"], "WIN");
  EXPECT_NEAR(g["profit_units"].get<double>(), 1.25, kTol);
  EXPECT_EQ(g["closing_snapshot_id"], close);
  const double p_close = (1 / 2.10) / (1 / 2.10 + 1 / 3.30 + 1 / 3.60);
  ASSERT_TRUE(g["clv_fair"].is_number()) << g;
  EXPECT_NEAR(g["clv_price"].get<double>(), 2.25 / 2.10 - 1, kTol);
  EXPECT_NEAR(g["clv_fair"].get<double>(), 2.25 * p_close - 1, kTol);
  EXPECT_NEAR(g["clv_prob_pts"].get<double>(), p_close - 1 / 2.25, kTol);
}

TEST_F(HttpGradingTest, CancelledEventIsVoidAndPostponedWaitsForTheVoidWindow) {
  PostSlate();
  PostExpect("event-results", {{"event_id", kNbaA}, {"status", "cancelled"}}, 201);
  PostExpect("event-results", {{"event_id", kEpl}, {"status", "postponed"}}, 201);
  const std::map<std::string, int64_t> before = server_.RowCounts();
  // kEpl starts in 2030: its 48-hour void window has not even begun.
  ExpectProblem(server_.Post("grade-prediction/" + slate_.draw, json::object()), 409, "postponed");
  EXPECT_EQ(server_.RowCounts(), before);

  json report = GradeAll();
  EXPECT_EQ(report["graded"], 1);
  EXPECT_EQ(Outcomes(report), (std::map<std::string, int64_t>{{"VOID", 1}}));
  EXPECT_EQ(report["skipped"], 1);
  ASSERT_EQ(report["skip_reasons"].size(), 1u);
  EXPECT_TRUE(report["skip_reasons"][0].get<std::string>().starts_with(slate_.draw));
  json g = Current(slate_.spread);
  EXPECT_EQ(g["outcome"], "VOID");
  EXPECT_EQ(g["profit_units"].get<double>(), 0.0);
  EXPECT_TRUE(g["brier"].is_null()) << g;
  EXPECT_TRUE(g["clv_fair"].is_null()) << g;
  json s = Summary();
  EXPECT_EQ(s["n"], 1);
  EXPECT_TRUE(s["win_rate"].is_null()) << s;
  EXPECT_TRUE(s["roi"].is_null()) << s;
}

// Bad input: a 4xx problem naming the field, and no table changed.

TEST_F(HttpGradingTest, InvalidOddsInPredictionIs400AndChangesNothing) {
  PostEvent(kNbaA, kNbaAStart, "NBA", "NBA");
  const std::map<std::string, int64_t> before = server_.RowCounts();
  const json valid = PredictionBody(kNbaA, "spread", "home", -3.5, American(-110), 0.55);
  struct Case {
    json price;
    std::string detail;
  };
  for (const Case& c : {Case{American(-50), "predictions[1].price.american"},
                        Case{American(0), "predictions[1].price.american"},
                        Case{Decimal(1.0), "predictions[1].price.decimal"},
                        Case{Decimal(-2.0), "predictions[1].price.decimal"}}) {
    json bad = valid;
    bad["price"] = c.price;
    SCOPED_TRACE(c.price.dump());
    ExpectProblem(
        server_.Post("sim-runs", SimRunWith(json::array({valid, bad}), json::array(), kRunDay)),
        400, c.detail);
    EXPECT_EQ(server_.RowCounts(), before);
  }
}

TEST_F(HttpGradingTest, UnknownMarketOrSelectionIs400AndChangesNothing) {
  PostEvent(kNbaA, kNbaAStart, "NBA", "NBA");
  const std::map<std::string, int64_t> before = server_.RowCounts();
  json prop = PredictionBody(kNbaA, "player_prop", "over", 25.5, American(-110), 0.5);
  prop["player"] = "A. Davis";
  prop["stat"] = "points";
  auto with = [](json p, const char* key, const json& value) {
    p[key] = value;
    return p;
  };
  struct Case {
    json prediction;
    std::string detail;
  };
  for (const Case& c :
       {Case{PredictionBody(kNbaA, "corners", "home", 9.5, American(-110), 0.5),
             "predictions[0].market"},
        Case{PredictionBody(kNbaA, "spread", "draw", -3.5, American(-110), 0.5),
             "predictions[0].selection"},
        Case{PredictionBody(kNbaA, "moneyline", "over", std::nullopt, American(-110), 0.5),
             "predictions[0].selection"},
        Case{PredictionBody(kNbaA, "total", "over", std::nullopt, American(-110), 0.5),
             "predictions[0].line"},
        Case{with(prop, "line", 25.25), "predictions[0].line"},
        Case{with(prop, "player", ""), "predictions[0].player"}}) {
    SCOPED_TRACE(c.prediction.dump());
    ExpectProblem(
        server_.Post("sim-runs", SimRunWith(json::array({c.prediction}), json::array(), kRunDay)),
        400, c.detail);
    EXPECT_EQ(server_.RowCounts(), before);
  }
}

TEST_F(HttpGradingTest, GradeWithoutResultIs409AndChangesNothing) {
  PostSlate();
  const std::map<std::string, int64_t> before = server_.RowCounts();
  HttpResult r = server_.Post("grade-prediction/" + slate_.spread, json::object());
  ExpectProblem(r, 409, "no result");
  EXPECT_EQ(r.Json()["type"], "https://truthbook.dev/problems/failed-precondition");
  // Nothing is pending without a result.
  json report = GradeAll();
  EXPECT_EQ(report["graded"], 0);
  EXPECT_EQ(report["skipped"], 0);
  EXPECT_EQ(server_.RowCounts(), before);
}

TEST_F(HttpGradingTest, PropResultWithoutThePlayersStatIs409AndSkipped) {
  PostEvent(kNbaB, kNbaBStart, "NBA", "NBA");
  json prop = PredictionBody(kNbaB, "player_prop", "over", 25.5, American(-115), 0.5);
  prop["player"] = "L. James";
  prop["stat"] = "points";
  const std::string publish_id = PublishPick(prop);
  ASSERT_FALSE(publish_id.empty());
  // The result carries another player's points and L. James's rebounds, not his points.
  PostResult(kNbaB, 105, 100,
             json::array({PlayerStat("N. Jokic", "points", 31, true),
                          PlayerStat("L. James", "rebounds", 8, true)}));
  const std::map<std::string, int64_t> before = server_.RowCounts();

  ExpectProblem(server_.Post("grade-prediction/" + publish_id, json::object()), 409,
                "player_stats");
  EXPECT_EQ(server_.RowCounts(), before);

  json report = GradeAll();
  EXPECT_EQ(report["graded"], 0);
  EXPECT_EQ(report["skipped"], 1);
  ASSERT_EQ(report["skip_reasons"].size(), 1u);
  const std::string reason = report["skip_reasons"][0];
  EXPECT_TRUE(reason.starts_with(publish_id)) << reason;
  EXPECT_NE(reason.find("L. James"), std::string::npos) << reason;
  EXPECT_EQ(server_.RowCounts(), before);

  // A corrected result with his points settles it.
  PostResult(kNbaB, 105, 100,
             json::array({PlayerStat("N. Jokic", "points", 31, true),
                          PlayerStat("L. James", "points", 27, true)}));
  json graded = GradeAll();
  EXPECT_EQ(graded["graded"], 1);
  EXPECT_EQ(graded["skipped"], 0);
  EXPECT_EQ(Current(publish_id)["outcome"], "WIN");
}

TEST_F(HttpGradingTest, UnknownPublishIs404AndChangesNothing) {
  PostSlate();
  PostResults();
  const std::map<std::string, int64_t> before = server_.RowCounts();
  ExpectProblem(server_.Post("grade-prediction/" + std::string(kUnknownId), json::object()), 404,
                "publish_id");
  ExpectProblem(server_.Get("grading/" + std::string(kUnknownId)), 404, "publish_id");
  EXPECT_EQ(server_.RowCounts(), before);
}

TEST_F(HttpGradingTest, GradingOfPublishNeverGradedIs404) {
  PostSlate();
  ExpectProblem(server_.Get("grading/" + slate_.spread), 404, slate_.spread);
}

TEST_F(HttpGradingTest, SummaryRejectsBadFilters) {
  ExpectProblem(server_.Get("grading-summary?market=bogus"), 400, "market");
  ExpectProblem(server_.Get("grading-summary?from=notatime"), 400, "from");
  ExpectProblem(server_.Get("grading-summary?to=notatime"), 400, "to");
}

}  // namespace
}  // namespace truthbook::test_support
