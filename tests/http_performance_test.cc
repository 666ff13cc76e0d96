// Acceptance 4 of issue 5, against the real server. Performance: graded picks across two
// sports, tiers, markets and books are rolled up by POST jobs/rollups/run (synchronous, so
// every read after it sees them); then the performance endpoints are checked against
// grading-summary (they share one definition), with their group-by lists and filters, rollup
// keys and their history, windows and time ranges, the 404 and 400 answers, and a regrade.
// Scheduler: GET jobs, POST jobs/{name}/run, health's scheduler block, and a per-second
// schedule that fires while the test watches. The server stamps published_at with its own
// clock, so every pick lands on today's UTC date; the tests read "today" from the publishes.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/time.h"
#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr double kTol = 1e-9;
constexpr double kMinus110 = 1.0 + 100.0 / 110.0;
constexpr double kMinus150 = 1.0 + 100.0 / 150.0;

// The slate's events, all in 2030 (a publish after the start is refused).
constexpr char kNbaA[] = "nba-2030-01-10-lal-bos";
constexpr char kNbaAStart[] = "2030-01-10T00:30:00Z";
constexpr char kNbaB[] = "nba-2030-01-11-gsw-den";
constexpr char kEpl[] = "epl-2030-01-12-ars-che";
// The day of the sim runs that record the picks.
constexpr char kRunDay[] = "2029-12-31";

// The summary metrics that may be null, as grading-summary and performance-* both answer them.
constexpr std::array<const char*, 8> kNullableMetrics = {
    "win_rate",        "roi",        "mean_clv_price", "mean_clv_fair", "mean_clv_prob_pts",
    "beat_close_rate", "mean_brier", "mean_log_loss"};

TimePoint Now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// "YYYY-MM-DD" of `n` days after the date `date`.
std::string AddDays(const std::string& date, int n) {
  Result<TimePoint> t = ParseRfc3339(date + "T00:00:00Z");
  EXPECT_TRUE(t.ok()) << date;
  return t.ok() ? FormatRfc3339(*t + days(n)).substr(0, 10) : "";
}

// The first instant after `now` at `offset` past midnight UTC, on `weekday` when given.
TimePoint NextAt(TimePoint now, minutes offset, std::optional<std::chrono::weekday> weekday) {
  std::chrono::sys_days day = std::chrono::floor<days>(now);
  for (;; day += days(1)) {
    const TimePoint t = day + offset;
    if (t > now && (!weekday || std::chrono::weekday(day) == *weekday)) return t;
  }
}

// A publish stamped just before midnight would land on another day than the rest of the
// slate: wait (at most a minute) until the new day has begun.
void WaitOutMidnight() {
  const TimePoint now = Now();
  const auto left = std::chrono::ceil<days>(now) - now;
  if (left < std::chrono::seconds(60)) std::this_thread::sleep_for(left + std::chrono::seconds(1));
}

// The ECE of scored picks as docs/PERFORMANCE.md defines it: L1 over ten equal-width bins,
// each bin's |mean probability - hit rate| weighted by its share of the picks. The slate's
// probabilities stay off bin edges, where the edge rule would matter.
struct Scored {
  double prob;
  double hit;
};
double Ece(const std::vector<Scored>& picks) {
  constexpr int kBins = 10;
  std::array<double, kBins> n{}, p{}, y{};
  for (const Scored& s : picks) {
    const int bin = static_cast<int>(s.prob * kBins);
    n[bin] += 1;
    p[bin] += s.prob;
    y[bin] += s.hit;
  }
  double ece = 0;
  for (int b = 0; b < kBins; ++b) {
    if (n[b] > 0) ece += n[b] / static_cast<double>(picks.size()) * std::abs(p[b] - y[b]) / n[b];
  }
  return ece;
}

// Expects a performance answer to carry the same metrics as a grading-summary answer.
void ExpectSameMetrics(const json& performance, const json& summary) {
  ASSERT_TRUE(performance.is_object()) << performance;
  ASSERT_TRUE(summary.is_object()) << summary;
  EXPECT_EQ(performance["n"], summary["n"]) << performance << "\n" << summary;
  EXPECT_EQ(performance["by_outcome"], summary["by_outcome"]) << performance << "\n" << summary;
  ASSERT_TRUE(performance["units"].is_number()) << performance;
  EXPECT_NEAR(performance["units"].get<double>(), summary["units"].get<double>(), kTol);
  for (const char* metric : kNullableMetrics) {
    if (summary[metric].is_null()) {
      EXPECT_TRUE(performance[metric].is_null()) << metric << ": " << performance;
      continue;
    }
    ASSERT_TRUE(performance[metric].is_number()) << metric << ": " << performance;
    EXPECT_NEAR(performance[metric].get<double>(), summary[metric].get<double>(), kTol) << metric;
  }
}

// The `rollup_key` of each item of a list answer.
std::vector<std::string> Keys(const json& list) {
  std::vector<std::string> out;
  for (const json& item : list["items"]) out.push_back(item["rollup_key"]);
  return out;
}

// The route of a rollup key, sent as written: the server accepts a raw '|' (and decodes %7C;
// see PercentEncodedKeyIsDecodedOnceByHttp).
std::string KeyPath(const std::string& key) { return "performance-rollup/" + key; }

// Helpers shared by the performance and the jobs fixtures.
class HttpServerTest : public ServerTest {
 protected:
  // POST jobs/rollups/run: a synchronous refresh, so that every later read sees the gradings.
  json RunRollups() {
    json run = PostExpect("jobs/rollups/run", json::object(), 200);
    EXPECT_EQ(run["status"], "succeeded") << run;
    return run;
  }
};

class HttpPerformanceTest : public HttpServerTest {
 protected:
  // Publish ids of the slate's seven picks (sport, market, book, tier, channel; outcome).
  struct Slate {
    std::string nba_spread;  // NBA spread home -3.5 at -110, pinnacle, A, TELEGRAM; WIN
    std::string nba_ml;      // NBA moneyline home at -150, draftkings, B, DISCORD; WIN
    std::string nba_total;   // NBA total over 210.5 at -110, pinnacle, A, TELEGRAM; LOSS
    std::string nba_dk;      // NBA spread home -2.5 at -110, draftkings, B, TELEGRAM; WIN
    std::string nba_push;    // NBA total over 205 at -110, pinnacle, A, TELEGRAM; PUSH
    std::string epl_draw;    // Soccer/EPL 3-way draw at 3.40, pinnacle, A, TELEGRAM; WIN
    std::string epl_home;    // Soccer/EPL 3-way home at 2.10, bet365, B, DISCORD; LOSS
  };

  void PostEvent(const std::string& event_id, const std::string& start, const std::string& sport,
                 const std::string& league) {
    json event = EventBody(event_id, start, sport);
    event["league"] = league;
    PostExpect("events", event, 201);
  }

  std::string PublishPick(const json& prediction, const std::string& channel) {
    json run =
        PostExpect("sim-runs", SimRunWith(json::array({prediction}), json::array(), kRunDay), 201);
    if (!run.contains("prediction_ids") || run["prediction_ids"].size() != 1) return "";
    json publish = PostExpect("publish", PublishBody(run["prediction_ids"][0], channel), 201);
    const std::string date = publish.value("published_at", "").substr(0, 10);
    if (today_.empty()) today_ = date;
    EXPECT_EQ(date, today_) << "the slate straddles midnight UTC";
    return publish.value("publish_id", "");
  }

  json PostResult(const std::string& event_id, int home, int away) {
    return PostExpect("event-results",
                      {{"event_id", event_id},
                       {"status", "final"},
                       {"home_score", home},
                       {"away_score", away},
                       {"player_stats", json::array()}},
                      201);
  }

  // Three events, a closing snapshot for the NBA spread pick, seven picks published now,
  // their results (NBA A 110-100, NBA B 105-100, EPL 1-1), graded and rolled up.
  void SeedGradedSlate() {
    PostEvent(kNbaA, kNbaAStart, "NBA", "NBA");
    PostEvent(kNbaB, "2030-01-11T03:00:00Z", "NBA", "NBA");
    PostEvent(kEpl, "2030-01-12T15:00:00Z", "Soccer", "EPL");
    PostExpect("capture-snapshot",
               {{"event_id", kNbaA},
                {"book", "pinnacle"},
                {"market", "spread"},
                {"captured_at", kNbaAStart},
                {"quotes",
                 {{{"selection", "home"}, {"line", -3.5}, {"price", {{"decimal", 1.80}}}},
                  {{"selection", "away"}, {"line", 3.5}, {"price", {{"decimal", 2.05}}}}}},
                {"raw", json::object()}},
               201);
    const json m110 = {{"american", -110}};
    WaitOutMidnight();
    slate_.nba_spread = PublishPick(
        PredictionBody(kNbaA, "spread", "home", -3.5, m110, 0.55, "pinnacle", "A"), "TELEGRAM");
    slate_.nba_ml = PublishPick(PredictionBody(kNbaA, "moneyline", "home", std::nullopt,
                                               {{"american", -150}}, 0.64, "draftkings", "B"),
                                "DISCORD");
    slate_.nba_total = PublishPick(
        PredictionBody(kNbaB, "total", "over", 210.5, m110, 0.52, "pinnacle", "A"), "TELEGRAM");
    slate_.nba_dk = PublishPick(
        PredictionBody(kNbaB, "spread", "home", -2.5, m110, 0.58, "draftkings", "B"), "TELEGRAM");
    slate_.nba_push = PublishPick(
        PredictionBody(kNbaB, "total", "over", 205, m110, 0.61, "pinnacle", "A"), "TELEGRAM");
    slate_.epl_draw = PublishPick(PredictionBody(kEpl, "moneyline_3way", "draw", std::nullopt,
                                                 {{"decimal", 3.40}}, 0.32, "pinnacle", "A"),
                                  "TELEGRAM");
    slate_.epl_home = PublishPick(PredictionBody(kEpl, "moneyline_3way", "home", std::nullopt,
                                                 {{"decimal", 2.10}}, 0.45, "bet365", "B"),
                                  "DISCORD");
    PostResult(kNbaA, 110, 100);
    PostResult(kNbaB, 105, 100);
    PostResult(kEpl, 1, 1);
    json graded = PostExpect("grade-all-pending", json::object(), 200);
    EXPECT_EQ(graded["graded"], 7) << graded;
    RunRollups();
    // grade-all-pending also asked for a background refresh: wait for it, so that no table
    // changes behind the test's back.
    WaitForJobRuns(2);
  }

  // Polls health until job_runs holds `n` rows (bounded).
  void WaitForJobRuns(int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int64_t rows = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      rows = server_.Get("health").Json()["collections"]["job_runs"].get<int64_t>();
      if (rows >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(rows, n) << "job_runs rows";
  }

  json Summary(const std::string& query) {
    return GetOk("grading-summary" + (query.empty() ? "" : "?" + query));
  }
  json Performance(const std::string& route, const std::string& query) {
    return GetOk(route + (query.empty() ? "" : "?" + query));
  }
  int64_t N(const std::string& query) {
    return Performance("performance-summary", query)["n"].get<int64_t>();
  }

  Slate slate_;
  std::string today_;  // the date every pick was published on
};

TEST_F(HttpPerformanceTest, SummaryHasTheSlatesNumbers) {
  SeedGradedSlate();
  json perf = Performance("performance-summary", "");
  EXPECT_EQ(perf["rollup_key"], "window=all");
  EXPECT_EQ(perf["window"], "all");
  EXPECT_TRUE(perf["from"].is_null()) << perf;
  EXPECT_EQ(perf["to"], today_);
  EXPECT_TRUE(perf["season"].is_null()) << perf;
  EXPECT_EQ(perf["n"], 7);
  EXPECT_EQ(
      perf["by_outcome"],
      json({{"WIN", 4}, {"LOSS", 2}, {"PUSH", 1}, {"VOID", 0}, {"HALF_WIN", 0}, {"HALF_LOSS", 0}}));
  const double units = 2 * (kMinus110 - 1) + (kMinus150 - 1) + 2.4 - 2;
  EXPECT_NEAR(perf["units"].get<double>(), units, kTol);
  EXPECT_NEAR(perf["win_rate"].get<double>(), 4.0 / 6.0, kTol);
  EXPECT_NEAR(perf["roi"].get<double>(), units / 7, kTol);
  const std::vector<Scored> scored = {{0.55, 1}, {0.64, 1}, {0.52, 0},
                                      {0.58, 1}, {0.32, 1}, {0.45, 0}};
  double brier = 0;
  for (const Scored& s : scored) brier += (s.prob - s.hit) * (s.prob - s.hit);
  EXPECT_NEAR(perf["mean_brier"].get<double>(), brier / 6, kTol);
  ASSERT_TRUE(perf["ece"].is_number()) << perf;
  EXPECT_NEAR(perf["ece"].get<double>(), Ece(scored), kTol);
  // Only the NBA spread pick has a closing line.
  EXPECT_NEAR(perf["mean_clv_price"].get<double>(), kMinus110 / 1.80 - 1, kTol);
  EXPECT_NEAR(perf["beat_close_rate"].get<double>(), 1.0, kTol);
}

TEST_F(HttpPerformanceTest, SummaryEqualsGradingSummaryForEachFilter) {
  SeedGradedSlate();
  for (const std::string query :
       {"", "sport=NBA", "sport=Soccer", "league=EPL", "tier=A", "tier=B", "market=spread",
        "market=total", "market=moneyline_3way", "channel=DISCORD", "book=draftkings",
        "book=pinnacle", "sport=NBA&market=total", "tier=A&book=pinnacle",
        "sport=NBA&tier=B&market=spread"}) {
    SCOPED_TRACE(query);
    json summary = Summary(query);
    json perf = Performance("performance-summary", query);
    ExpectSameMetrics(perf, summary);
    EXPECT_TRUE(perf["ece"].is_number()) << perf;
    // Every pick was published today: each day-count window holds all of them.
    for (const char* window : {"7d", "30d", "90d", "all"}) {
      SCOPED_TRACE(window);
      const std::string windowed = std::string("window=") + window;
      json w =
          Performance("performance-summary", query.empty() ? windowed : query + "&" + windowed);
      EXPECT_EQ(w["window"], window);
      ExpectSameMetrics(w, summary);
    }
  }
}

TEST_F(HttpPerformanceTest, ByMarketTierAndSportListEachValueSeen) {
  SeedGradedSlate();
  struct Case {
    std::string route;
    std::string query;
    std::string dim;  // the grouped dimension
    std::vector<std::string> values;
  };
  for (const Case& c : {
           Case{"performance-by-market",
                "",
                "market",
                {"moneyline", "moneyline_3way", "spread", "total"}},
           Case{"performance-by-market", "sport=NBA", "market", {"moneyline", "spread", "total"}},
           Case{"performance-by-market", "sport=NBA&tier=A", "market", {"spread", "total"}},
           Case{"performance-by-market", "book=draftkings", "market", {"moneyline", "spread"}},
           Case{"performance-by-tier", "", "tier", {"A", "B"}},
           Case{"performance-by-tier", "sport=Soccer", "tier", {"A", "B"}},
           Case{"performance-by-tier", "book=draftkings", "tier", {"B"}},
           Case{"performance-by-sport", "", "sport", {"NBA", "Soccer"}},
           Case{"performance-by-sport", "tier=B", "sport", {"NBA", "Soccer"}},
           Case{"performance-by-sport", "channel=DISCORD&window=7d", "sport", {"NBA", "Soccer"}},
       }) {
    SCOPED_TRACE(c.route + "?" + c.query);
    json list = Performance(c.route, c.query);
    ASSERT_EQ(list["items"].size(), c.values.size()) << list;
    for (size_t i = 0; i < c.values.size(); ++i) {
      const json& item = list["items"][i];
      const std::string filter = (c.query.empty() ? "" : c.query + "&") + c.dim + "=" + c.values[i];
      SCOPED_TRACE(filter);
      // rollup_key names the filter's dimensions and the grouped one, in canonical order.
      const std::string key = item["rollup_key"];
      EXPECT_NE(key.find(c.dim + "=" + c.values[i]), std::string::npos) << key;
      EXPECT_TRUE(key.ends_with("|window=" + item["window"].get<std::string>())) << key;
      ExpectSameMetrics(item, Summary(filter));
      EXPECT_EQ(item, Performance("performance-summary", filter)) << filter;
    }
  }
  EXPECT_EQ(Keys(Performance("performance-by-market", "sport=NBA")),
            (std::vector<std::string>{"sport=NBA|market=moneyline|window=all",
                                      "sport=NBA|market=spread|window=all",
                                      "sport=NBA|market=total|window=all"}));
  EXPECT_EQ(Keys(Performance("performance-by-tier", "book=draftkings")),
            (std::vector<std::string>{"tier=B|book=draftkings|window=all"}));
  // A value nobody graded lists nothing; so does a range before today.
  EXPECT_EQ(Performance("performance-by-market", "sport=MLB")["items"], json::array());
  EXPECT_EQ(
      Performance("performance-by-sport", "to=" + AddDays(today_, -1) + "T23:59:59Z")["items"],
      json::array());
}

TEST_F(HttpPerformanceTest, SeasonWindowReportsTheSportsSeason) {
  SeedGradedSlate();
  json nba = GetOk(KeyPath("sport=NBA|window=season"));
  EXPECT_EQ(nba["window"], "season");
  EXPECT_EQ(nba["season"], "2026-27");
  ExpectSameMetrics(nba, Summary("sport=NBA"));
  json by_sport = Performance("performance-by-sport", "window=season");
  ASSERT_EQ(by_sport["items"].size(), 2u) << by_sport;
  for (const json& item : by_sport["items"]) EXPECT_EQ(item["season"], "2026-27") << item;
  json by_market = Performance("performance-by-market", "sport=Soccer&window=season");
  EXPECT_EQ(Keys(by_market),
            (std::vector<std::string>{"sport=Soccer|market=moneyline_3way|window=season"}));
}

TEST_F(HttpPerformanceTest, RollupKeyOfOneAndTwoDimensions) {
  SeedGradedSlate();
  json nba = GetOk(KeyPath("sport=NBA"));
  EXPECT_EQ(nba["rollup_key"], "sport=NBA|window=all");
  EXPECT_EQ(nba["n"], 5);
  EXPECT_TRUE(nba["ece"].is_number()) << nba;
  ExpectSameMetrics(nba, Summary("sport=NBA"));

  // Dimensions in any order name the same rollup; the answer spells it canonically.
  json spread = GetOk(KeyPath("market=spread|sport=NBA"));
  EXPECT_EQ(spread["rollup_key"], "sport=NBA|market=spread|window=all");
  EXPECT_EQ(spread["n"], 2);
  ExpectSameMetrics(spread, Summary("sport=NBA&market=spread"));
  EXPECT_EQ(GetOk(KeyPath("sport=NBA|market=spread")), spread);

  json pinnacle_tier_a = GetOk(KeyPath("book=pinnacle|tier=A"));
  EXPECT_EQ(pinnacle_tier_a["rollup_key"], "tier=A|book=pinnacle|window=all");
  ExpectSameMetrics(pinnacle_tier_a, Summary("tier=A&book=pinnacle"));

  // The calibration segment (sport, tier and market) is materialized too.
  json segment = GetOk(KeyPath("sport=Soccer|tier=B|market=moneyline_3way"));
  EXPECT_EQ(segment["n"], 1);
  ExpectSameMetrics(segment, Summary("sport=Soccer&tier=B&market=moneyline_3way"));

  // A key's own window wins over the query's.
  json week = GetOk(KeyPath("sport=NBA|window=7d"));
  EXPECT_EQ(week["rollup_key"], "sport=NBA|window=7d");
  EXPECT_EQ(week["from"], AddDays(today_, -6));
  EXPECT_EQ(week["to"], today_);
  ExpectSameMetrics(week, Summary("sport=NBA"));
  EXPECT_EQ(GetOk(KeyPath("sport=NBA|window=all") + "?window=7d")["window"], "all");
  EXPECT_EQ(GetOk(KeyPath("sport=NBA") + "?window=30d")["rollup_key"], "sport=NBA|window=30d");
  // history=false is the plain answer.
  EXPECT_EQ(GetOk(KeyPath("sport=NBA") + "?history=false"), nba);
}

TEST_F(HttpPerformanceTest, HistoryIsADatedSeriesEndingAtTheCurrentValue) {
  SeedGradedSlate();
  for (const std::string key :
       {"sport=NBA", "market=spread|sport=NBA", "book=pinnacle|window=7d", "tier=B|window=30d"}) {
    SCOPED_TRACE(key);
    json doc = GetOk(KeyPath(key) + "?history=true");
    ASSERT_TRUE(doc["history"].is_array()) << doc;
    ASSERT_FALSE(doc["history"].empty()) << doc;
    std::string previous;
    for (const json& point : doc["history"]) {
      ASSERT_TRUE(point["to"].is_string()) << point;
      EXPECT_GT(point["to"].get<std::string>(), previous) << "dates must increase";
      previous = point["to"];
      EXPECT_EQ(point["rollup_key"], doc["rollup_key"]);
    }
    const json last = doc["history"].back();
    EXPECT_EQ(last["to"], today_);
    doc.erase("history");
    EXPECT_EQ(last, doc);
    EXPECT_EQ(doc, GetOk(KeyPath(key)));
  }
  // As of yesterday, nothing had been published: no points and nothing counted.
  json before =
      GetOk(KeyPath("sport=NBA") + "?history=true&to=" + AddDays(today_, -1) + "T23:59:59.999Z");
  EXPECT_EQ(before["n"], 0);
  EXPECT_EQ(before["to"], AddDays(today_, -1));
  EXPECT_EQ(before["history"], json::array());
}

TEST_F(HttpPerformanceTest, WindowsAreWholeDaysEndingOnTheAsOfDay) {
  SeedGradedSlate();
  const std::string midday = "T12:00:00Z";
  EXPECT_EQ(N("window=7d"), 7);
  // `to` is the as-of instant: a window ending before today counts nothing.
  EXPECT_EQ(N("to=" + AddDays(today_, -1) + "T23:59:59.999Z"), 0);
  EXPECT_EQ(N("window=7d&to=" + AddDays(today_, -1) + midday), 0);
  EXPECT_EQ(N("sport=NBA&to=" + AddDays(today_, -1) + midday), 0);
  // Whole days: an as-of instant at today's first millisecond counts today's picks.
  EXPECT_EQ(N("to=" + today_ + "T00:00:00Z"), 7);
  // A window of D days ending on today + D - 1 still holds today; one day later it does not.
  struct Case {
    const char* window;
    int length;
  };
  for (const Case& c : {Case{"7d", 7}, Case{"30d", 30}, Case{"90d", 90}}) {
    SCOPED_TRACE(c.window);
    const std::string window = std::string("window=") + c.window;
    const std::string last_in = AddDays(today_, c.length - 1);
    json in = Performance("performance-summary", window + "&to=" + last_in + midday);
    EXPECT_EQ(in["n"], 7);
    EXPECT_EQ(in["from"], today_);
    EXPECT_EQ(in["to"], last_in);
    EXPECT_EQ(N(window + "&to=" + AddDays(today_, c.length) + midday), 0);
    EXPECT_EQ(N("window=all&to=" + AddDays(today_, c.length) + midday), 7);
  }
  // `from` bounds the window's start further, also by whole days.
  EXPECT_EQ(N("from=" + today_ + "T23:00:00Z&to=" + AddDays(today_, 1) + midday), 7);
  EXPECT_EQ(N("from=" + AddDays(today_, 1) + "T00:00:00Z&to=" + AddDays(today_, 2) + midday), 0);
  EXPECT_EQ(N("from=" + AddDays(today_, -6) + "T00:00:00Z"), N("window=7d"));
  json ranged = Performance("performance-summary", "window=30d&from=" + AddDays(today_, -3) +
                                                       "T08:00:00Z&to=" + today_ + midday);
  EXPECT_EQ(ranged["from"], AddDays(today_, -3));
  EXPECT_EQ(ranged["to"], today_);
  EXPECT_EQ(ranged["n"], 7);
}

TEST_F(HttpPerformanceTest, KeyWithoutGradingsIs404) {
  ExpectProblem(server_.Get(KeyPath("sport=NBA")), 404, "rollup_key", "sport=NBA");
  // The key of all gradings always exists: it is empty until something is graded.
  EXPECT_EQ(GetOk("performance-summary")["n"], 0);
  SeedGradedSlate();
  ExpectProblem(server_.Get(KeyPath("sport=MLB")), 404, "rollup_key", "sport=MLB");
  ExpectProblem(server_.Get(KeyPath("market=spread|book=fanduel")), 404, "rollup_key",
                "book=fanduel");
  ExpectProblem(server_.Get(KeyPath("sport=MLB") + "?history=true"), 404, "rollup_key", "MLB");
  // performance-summary reads the one key its filters name, so it is 404 as well (while
  // grading-summary, which scans, answers n=0); a by-* list of nothing is empty instead.
  ExpectProblem(server_.Get("performance-summary?sport=MLB"), 404, "rollup_key", "sport=MLB");
  EXPECT_EQ(Summary("sport=MLB")["n"], 0);
  EXPECT_EQ(GetOk("performance-by-tier?sport=MLB")["items"], json::array());
  // The value exists, in another combination only.
  ExpectProblem(server_.Get(KeyPath("sport=Soccer|book=draftkings")), 404, "rollup_key",
                "draftkings");
}

TEST_F(HttpPerformanceTest, MalformedKeysAndBadParametersAre400NamingTheField) {
  SeedGradedSlate();
  const std::map<std::string, int64_t> before = server_.RowCounts();
  struct Case {
    std::string route;
    std::string field;
    std::string detail;
  };
  for (const Case& c : {
           Case{KeyPath("team=BOS"), "rollup_key", "unknown dimension \"team\""},
           Case{KeyPath("sport=NBA|window=all|colour=red"), "rollup_key", "colour"},
           Case{KeyPath("sport"), "rollup_key", "\"sport\" is not name=value"},
           Case{KeyPath("sport=NBA|market"), "rollup_key", "\"market\""},
           Case{KeyPath("sport=NBA|sport=Soccer"), "rollup_key", "sport appears twice"},
           Case{KeyPath("window=7d|sport=NBA|window=all"), "rollup_key", "window appears twice"},
           Case{KeyPath("sport="), "rollup_key", "sport has an empty value"},
           Case{KeyPath("sport=NBA|window=14d"), "rollup_key", "window"},
           Case{KeyPath("sport=NBA|tier=A|book=pinnacle"), "rollup_key", "not materialized"},
           Case{KeyPath("sport=NBA|league=NBA|tier=A|market=spread"), "rollup_key",
                "not materialized"},
           Case{KeyPath("market=spread|window=season"), "window", "season"},
           Case{KeyPath("market=spread") + "?window=season", "window", "season"},
           Case{KeyPath("sport=NBA") + "?history=yes", "history", "true or false"},
           Case{KeyPath("sport=NBA") + "?history=", "history", "true or false"},
           Case{KeyPath("sport=NBA") + "?window=14d", "window", "7d, 30d, 90d, season, all"},
           Case{"performance-summary?window=14d", "window", "7d, 30d, 90d, season, all"},
           Case{"performance-summary?window=season", "window", "season"},
           Case{"performance-by-tier?window=season", "window", "season"},
           Case{"performance-by-market?window=season&tier=A", "window", "season"},
           Case{"performance-summary?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "from",
                "after to"},
           Case{KeyPath("sport=NBA") + "?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "from",
                "after to"},
           Case{"performance-by-sport?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "from",
                "after to"},
           Case{"performance-summary?from=yesterday", "from", ""},
           Case{"performance-by-market?to=2030-13-01T00:00:00Z", "to", ""},
           Case{"performance-summary?sport=NBA&tier=A&book=pinnacle", "rollup_key",
                "not materialized"},
           Case{"performance-by-market?sport=NBA&book=pinnacle", "rollup_key", "not materialized"},
       }) {
    SCOPED_TRACE(c.route);
    ExpectProblem(server_.Get(c.route), 400, c.field, c.detail);
  }
  EXPECT_EQ(server_.RowCounts(), before);
}

TEST_F(HttpPerformanceTest, CorrectedResultChangesTheRollupOnceRegradedAndRefreshed) {
  SeedGradedSlate();
  const json soccer = GetOk(KeyPath("sport=Soccer"));
  json nba = GetOk(KeyPath("sport=NBA"));
  EXPECT_EQ(nba["by_outcome"]["WIN"], 3);
  EXPECT_EQ(nba["by_outcome"]["LOSS"], 1);

  // NBA A ends 100-102 after all: the home spread and the home moneyline both lose.
  json corrected = PostResult(kNbaA, 100, 102);
  EXPECT_EQ(corrected["revision"], 2);
  json regraded = PostExpect("grade-all-pending", json::object(), 200);
  EXPECT_EQ(regraded["graded"], 2) << regraded;
  EXPECT_EQ(regraded["superseding"], 2) << regraded;
  for (const std::string& publish_id : {slate_.nba_spread, slate_.nba_ml}) {
    EXPECT_EQ(GetOk("grading/" + publish_id)["current"]["outcome"], "LOSS") << publish_id;
  }
  RunRollups();

  json after = GetOk(KeyPath("sport=NBA"));
  EXPECT_EQ(after["n"], 5);
  EXPECT_EQ(after["by_outcome"]["WIN"], 1);
  EXPECT_EQ(after["by_outcome"]["LOSS"], 3);
  EXPECT_EQ(after["by_outcome"]["PUSH"], 1);
  EXPECT_NEAR(after["units"].get<double>(), (kMinus110 - 1) - 3, kTol);
  ExpectSameMetrics(after, Summary("sport=NBA"));
  ExpectSameMetrics(GetOk("performance-summary"), Summary(""));
  ExpectSameMetrics(GetOk(KeyPath("sport=NBA|market=spread")), Summary("sport=NBA&market=spread"));
  const json by_market = Performance("performance-by-market", "");
  for (const json& item : by_market["items"]) {
    const std::string market = item["rollup_key"].get<std::string>().substr(7);
    ExpectSameMetrics(item, Summary("market=" + market.substr(0, market.find('|'))));
  }
  json history = GetOk(KeyPath("sport=NBA") + "?history=true");
  ASSERT_FALSE(history["history"].empty()) << history;
  EXPECT_EQ(history["history"].back()["by_outcome"], after["by_outcome"]);
  // The other sport's rollup did not move.
  EXPECT_EQ(GetOk(KeyPath("sport=Soccer")), soccer);
}

// Disabled until the server percent-decodes request paths, as docs/PERFORMANCE.md says it
// does ("the key is percent-decoded once by HTTP first"). Decode() in src/api/http_server.cc
// uses RESTinio's restinio_default_unescape_traits, which refuses any '/', '=' or '|', so
// every path falls back to its raw text. "sport=NBA%7Cmarket=spread" then reaches the key
// parser, which reads one sport "NBA|market=spread" (404); "sport%3DNBA..." is a part
// without '=' (400).
TEST_F(HttpPerformanceTest, PercentEncodedKeyIsDecodedOnceByHttp) {
  SeedGradedSlate();
  const json spread = GetOk(KeyPath("sport=NBA|market=spread"));
  EXPECT_EQ(GetOk("performance-rollup/sport=NBA%7Cmarket=spread"), spread);
  EXPECT_EQ(GetOk("performance-rollup/sport%3DNBA%7Cmarket%3Dspread"), spread);
}

// The scheduler over HTTP. A fresh store: no job has run yet.
class HttpJobsTest : public HttpServerTest {
 protected:
  // The four standard jobs, as GET jobs lists them, keyed by name.
  std::map<std::string, json> Jobs() {
    std::map<std::string, json> out;
    const json list = GetOk("jobs");
    for (const json& job : list["items"]) out[job["name"]] = job;
    return out;
  }

  // Parses a time the server wrote.
  static TimePoint Time(const json& text) {
    EXPECT_TRUE(text.is_string()) << text;
    Result<TimePoint> t = ParseRfc3339(text.is_string() ? text.get<std::string>() : "");
    EXPECT_TRUE(t.ok()) << text;
    return t.ok() ? *t : TimePoint();
  }

  // Expects `text` to be the next fire time after the instant of the request, which lies in
  // [before, after]: either end's answer is accepted.
  static void ExpectNext(const json& text, TimePoint before, TimePoint after, minutes offset,
                         std::optional<std::chrono::weekday> weekday = std::nullopt) {
    const TimePoint next = Time(text);
    EXPECT_TRUE(next == NextAt(before, offset, weekday) || next == NextAt(after, offset, weekday))
        << text << " after " << FormatRfc3339(before);
  }
};

TEST_F(HttpJobsTest, ListsFourJobsWithSchedulesAndNextRuns) {
  const TimePoint before = Now();
  json list = GetOk("jobs");
  const TimePoint after = Now();
  ASSERT_EQ(list["items"].size(), 4u) << list;
  std::vector<std::string> names;
  for (const json& job : list["items"]) names.push_back(job["name"]);
  EXPECT_EQ(names,
            (std::vector<std::string>{"calibration", "grading", "rollups", "snapshot-retention"}));
  std::map<std::string, json> jobs;
  for (const json& job : list["items"]) jobs[job["name"]] = job;

  EXPECT_EQ(jobs["calibration"]["schedule"], "0 3 * * 0");
  EXPECT_EQ(jobs["grading"]["schedule"], "0 4 * * *");
  EXPECT_EQ(jobs["rollups"]["schedule"], "30 4 * * *");
  EXPECT_EQ(jobs["snapshot-retention"]["schedule"], "0 5 * * *");
  for (const char* name : {"calibration", "grading", "rollups"}) {
    EXPECT_EQ(jobs[name]["enabled"], true) << name;
  }
  ExpectNext(jobs["calibration"]["next_run"], before, after, hours(3), std::chrono::Sunday);
  ExpectNext(jobs["grading"]["next_run"], before, after, hours(4));
  ExpectNext(jobs["rollups"]["next_run"], before, after, hours(4) + minutes(30));
  // Retention deletes snapshots: off unless asked for, so it has no next run.
  EXPECT_EQ(jobs["snapshot-retention"]["enabled"], false);
  EXPECT_TRUE(jobs["snapshot-retention"]["next_run"].is_null()) << jobs["snapshot-retention"];
  for (const auto& [name, job] : jobs) EXPECT_TRUE(job["last_run"].is_null()) << job;
}

TEST_F(HttpJobsTest, ManualRunIsRecordedAsManualAndShownAsLastRun) {
  const TimePoint before = Now();
  json run = RunRollups();
  const TimePoint after = Now();
  EXPECT_EQ(run["job"], "rollups");
  EXPECT_EQ(run["trigger"], "manual");
  EXPECT_EQ(run["status"], "succeeded");
  EXPECT_TRUE(run["slot"].get<std::string>().starts_with("manual:")) << run;
  EXPECT_TRUE(run["claimed_by"].is_string()) << run;
  EXPECT_GE(Time(run["started_at"]), before);
  EXPECT_LE(Time(run["finished_at"]), after);
  EXPECT_LE(Time(run["started_at"]), Time(run["finished_at"]));
  EXPECT_GE(run["duration_ms"].get<int64_t>(), 0);
  for (const char* field : {"days", "rows", "watermark", "elapsed_ms"}) {
    EXPECT_TRUE(run["summary"][field].is_number()) << field << ": " << run;
  }

  std::map<std::string, json> jobs = Jobs();
  EXPECT_EQ(jobs["rollups"]["last_run"], run);
  EXPECT_TRUE(jobs["grading"]["last_run"].is_null()) << jobs["grading"];
  json health = GetOk("health");
  EXPECT_EQ(health["scheduler"]["last_runs"]["rollups"], run);

  // Each manual run is its own slot; the latest is the last run.
  json second = RunRollups();
  EXPECT_NE(second["slot"], run["slot"]);
  EXPECT_EQ(Jobs()["rollups"]["last_run"], second);

  // The grading job grades, then refreshes the rollups.
  json grading = PostExpect("jobs/grading/run", json::object(), 200);
  EXPECT_EQ(grading["trigger"], "manual");
  EXPECT_EQ(grading["status"], "succeeded");
  EXPECT_EQ(grading["summary"]["graded"], 0);
  EXPECT_TRUE(grading["summary"]["rollups"].is_object()) << grading;
  EXPECT_EQ(Jobs()["grading"]["last_run"], grading);
  EXPECT_EQ(GetOk("health")["scheduler"]["last_runs"]["grading"], grading);
}

TEST_F(HttpJobsTest, UnknownJobIs404AndRunsNothing) {
  const std::map<std::string, int64_t> before = server_.RowCounts();
  ExpectProblem(server_.Post("jobs/unknown/run", json::object()), 404, "job", "unknown");
  EXPECT_EQ(server_.RowCounts(), before);
  for (const auto& [name, job] : Jobs()) EXPECT_TRUE(job["last_run"].is_null()) << job;
}

TEST_F(HttpJobsTest, HealthShowsTheSchedulerBlock) {
  const TimePoint before = Now();
  json health = GetOk("health");
  const TimePoint after = Now();
  const json& scheduler = health["scheduler"];
  EXPECT_EQ(scheduler["running"], true) << scheduler;
  // The defaults: calibration on Sundays at 03:00 UTC, grading daily at 04:00 UTC.
  ExpectNext(scheduler["next_calibration"], before, after, hours(3), std::chrono::Sunday);
  ExpectNext(scheduler["next_grading"], before, after, hours(4));
  const json& last_runs = scheduler["last_runs"];
  ASSERT_TRUE(last_runs.is_object()) << scheduler;
  EXPECT_EQ(last_runs.size(), 4u) << scheduler;
  for (const char* name : {"calibration", "grading", "rollups", "snapshot-retention"}) {
    ASSERT_TRUE(last_runs.contains(name)) << name << ": " << scheduler;
    EXPECT_TRUE(last_runs[name].is_null()) << name << ": " << scheduler;
  }
  // One run per job: each shows up as that job's last run.
  // (On an empty store the calibration job has nothing to fit: its run may be "failed", and
  // is still its last run.)
  json calibration = PostExpect("jobs/calibration/run", json::object(), 200);
  EXPECT_EQ(calibration["trigger"], "manual") << calibration;
  json rollups = RunRollups();
  json grading = PostExpect("jobs/grading/run", json::object(), 200);
  json after_runs = GetOk("health")["scheduler"];
  EXPECT_EQ(after_runs["last_runs"]["calibration"], calibration);
  EXPECT_EQ(after_runs["last_runs"]["rollups"], rollups);
  EXPECT_EQ(after_runs["last_runs"]["grading"], grading);
  EXPECT_TRUE(after_runs["last_runs"]["snapshot-retention"].is_null()) << after_runs;
  EXPECT_EQ(after_runs["running"], true);
}

// A schedule with a seconds field fires while the test watches (bounded polling).
TEST(HttpScheduleTest, PerSecondRollupsScheduleRunsWithinSeconds) {
  ServerProcess server({"--rollups-schedule", "*/1 * * * * *"});
  ASSERT_TRUE(server.Start());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::string> slots;  // distinct scheduled slots seen, in order
  json job;
  while (slots.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    HttpResult r = server.Get("jobs");
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    const json list = r.Json();
    for (const json& item : list["items"]) {
      if (item["name"] == "rollups") job = item;
    }
    const json& last = job["last_run"];
    if (last.is_object() && last["status"] == "succeeded" &&
        (slots.empty() || slots.back() != last["slot"])) {
      EXPECT_EQ(last["trigger"], "scheduled") << last;
      slots.push_back(last["slot"]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(slots.size(), 2u) << "no two scheduled rollups runs within 20 s; last: " << job << "\n"
                              << server.Log();
  EXPECT_EQ(job["schedule"], "*/1 * * * * *");
  for (const std::string& slot : slots) {
    Result<TimePoint> t = ParseRfc3339(slot);
    ASSERT_TRUE(t.ok()) << slot;
    EXPECT_EQ(t->time_since_epoch() % std::chrono::seconds(1), std::chrono::milliseconds(0))
        << slot;
  }
  EXPECT_LT(slots[0], slots[1]);
  // The next run is at most a second away.
  ASSERT_TRUE(job["next_run"].is_string()) << job;
  Result<TimePoint> next = ParseRfc3339(job["next_run"].get<std::string>());
  ASSERT_TRUE(next.ok()) << job;
  EXPECT_LE(*next - Now(), std::chrono::milliseconds(1100)) << job;
  HttpResult health = server.Get("health");
  json last = health.Json()["scheduler"]["last_runs"]["rollups"];
  EXPECT_EQ(last["trigger"], "scheduled") << last;
  EXPECT_EQ(last["job"], "rollups") << last;
}

}  // namespace
}  // namespace truthbook::test_support
