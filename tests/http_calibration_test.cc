// Acceptance 4 and 5 of the calibration issue, against the real server. A history of 1430
// graded picks is built over HTTP: moneyline and spread picks on events in 2030 (the server
// runs on the real clock, refuses a publish after the start, and trains on the publishes of
// the last training_days, so these are all in the window), each with a raw_prob that is
// deliberately overconfident: a pick with raw_prob p wins with probability 0.5 + (p - 0.5)/2,
// drawn from a fixed-seed generator, and its selection is chosen so the posted result makes
// it win or lose as drawn. Calibration therefore helps clearly and the default gates pass.
// Each test states one rule of DESIGN §3 "Calibration" over HTTP: versions and segments with
// their fallback pools, gates, activation following the gates (and force with its reason),
// calibrated_prob on new predictions, and the 4xx answers to bad input, which change no table.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

constexpr char kUnknownId[] = "0190f1f0-0000-7000-8000-000000000000";
constexpr char kSeedJob[] = R"({"training_days": 30, "method": "isotonic"})";

// The history's finest segments (sport × tier × market) and the pools above them, as the job
// names them. Only NBA tier A moneyline has min_segment_n (200) picks of its own; the others
// fall back to the first pool that has: NBA moneyline, NBA, and global.
constexpr char kNbaAMoneyline[] = "sport=NBA|tier=A|market=moneyline";
constexpr char kNbaBMoneyline[] = "sport=NBA|tier=B|market=moneyline";
constexpr char kNbaASpread[] = "sport=NBA|tier=A|market=spread";
constexpr char kNhlAMoneyline[] = "sport=NHL|tier=A|market=moneyline";
constexpr char kNbaMoneylinePool[] = "sport=NBA|market=moneyline";
constexpr char kNbaPool[] = "sport=NBA";
constexpr char kGlobal[] = "global";

// One cohort (finest segment) of the history and how many picks it has.
struct Cohort {
  const char* sport;
  const char* tier;
  const char* market;
  int n;
};
// Interleaved in publish order in blocks of (130, 6, 4, 3) so every time-ordered fold holds
// every cohort.
constexpr Cohort kCohorts[] = {{"NBA", "A", "moneyline", 1300},
                               {"NBA", "B", "moneyline", 60},
                               {"NBA", "A", "spread", 40},
                               {"NHL", "A", "moneyline", 30}};
constexpr int kBlocks = 10;
constexpr int kHistoryN = 1430;
constexpr int kNbaN = 1400;
constexpr int kNbaMoneylineN = 1360;

// What the history's picks really hit at: half as far from a coin flip as they claim.
double TrueRate(double raw_prob) { return 0.5 + (raw_prob - 0.5) * 0.5; }

// Events in 2030; even-numbered ones are won by the home side, odd-numbered by the away side.
std::string EventId(const std::string& sport, int i) {
  return (sport == "NBA" ? "nba-2030-03-0" : "nhl-2030-03-0") + std::to_string(i + 1);
}
constexpr int kEventsPerSport = 4;
bool HomeWins(int event_index) { return event_index % 2 == 0; }

// A pick at -110 on pinnacle; a spread pick is home -3.5 or away +3.5.
json Prediction(const std::string& event_id, const std::string& market,
                const std::string& selection, double raw_prob, const std::string& tier) {
  std::optional<double> line;
  if (market == "spread") line = selection == "home" ? -3.5 : 3.5;
  return PredictionBody(event_id, market, selection, line, {{"american", -110}}, raw_prob,
                        "pinnacle", tier);
}

// A sim run of `predictions`, on the history's day.
json SimRun(const json& predictions) {
  return SimRunWith(predictions, json::array(), "2030-02-27");
}

// `value` percent-encoded for a query string (segment keys hold '=' and '|').
std::string QueryValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    }
  }
  return out;
}

// GET reliability for `segment` of `version`.
std::string ReliabilityRoute(const std::string& version, std::string_view segment) {
  return "reliability?version=" + version + "&segment=" + QueryValue(segment);
}

// Posts the events, the 1430 picks (in sim runs of at most 500), publishes every pick, posts
// the results and grades everything. Every pick ends WIN or LOSS, as drawn. Sets
// `first_prediction` to the id of the first pick.
void BuildGradedHistory(const ServerProcess& server, std::string& first_prediction) {
  for (const char* sport : {"NBA", "NHL"}) {
    for (int i = 0; i < kEventsPerSport; ++i) {
      PostExpect(
          server, "events",
          EventBody(EventId(sport, i), "2030-03-0" + std::to_string(i + 1) + "T00:30:00Z", sport),
          201);
    }
  }
  std::mt19937_64 rng(20300301);  // the engine's output is fixed by the standard
  auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  json predictions = json::array();
  std::map<std::string, int> next_event;  // round-robin over each sport's events
  for (int block = 0; block < kBlocks; ++block) {
    for (const Cohort& c : kCohorts) {
      for (int k = 0; k < c.n / kBlocks; ++k) {
        const double p = 0.05 + 0.9 * uniform();
        const bool wins = uniform() < TrueRate(p);
        const int event = next_event[c.sport]++ % kEventsPerSport;
        const std::string selection = wins == HomeWins(event) ? "home" : "away";
        predictions.push_back(Prediction(EventId(c.sport, event), c.market, selection, p, c.tier));
      }
    }
  }
  ASSERT_EQ(predictions.size(), static_cast<size_t>(kHistoryN));
  std::vector<std::string> prediction_ids;
  for (size_t from = 0; from < predictions.size(); from += 500) {
    json run = json::array();
    for (size_t i = from; i < std::min(predictions.size(), from + 500); ++i) {
      run.push_back(predictions[i]);
    }
    json created = PostExpect(server, "sim-runs", SimRun(run), 201);
    ASSERT_EQ(created["prediction_ids"].size(), run.size()) << created;
    for (const json& id : created["prediction_ids"]) prediction_ids.push_back(id);
  }
  first_prediction = prediction_ids.front();
  for (const std::string& id : prediction_ids) {
    HttpResult r = server.Post("publish", PublishBody(id));
    ASSERT_EQ(r.status, 201) << r.error << r.body;
  }
  for (const char* sport : {"NBA", "NHL"}) {
    for (int i = 0; i < kEventsPerSport; ++i) {
      const int high = std::string(sport) == "NBA" ? 110 : 4;
      const int low = std::string(sport) == "NBA" ? 100 : 2;
      PostExpect(server, "event-results",
                 ResultBody(EventId(sport, i), HomeWins(i) ? high : low, HomeWins(i) ? low : high),
                 201);
    }
  }
  json report = PostExpect(server, "grade-all-pending", json::object(), 200);
  ASSERT_EQ(report["graded"], kHistoryN) << report;
  ASSERT_EQ(report["skipped"], 0) << report;
}

// A fresh server with an empty database.
class HttpCalibrationTest : public ServerTest {
 protected:
  // POST run-calibration-job with `body`; expects 201 and returns the version.
  json RunJob(std::string_view body) {
    HttpResult r = server_.PostRaw("run-calibration-job", body);
    EXPECT_EQ(r.status, 201) << body << ": " << r.error << r.body;
    return r.Json();
  }
  json RunJob(const json& body) { return RunJob(std::string_view(body.dump())); }

  json Activate(const std::string& version_id, const json& body = json::object()) {
    return PostExpect("activate-calibration/" + version_id, body, 201);
  }

  // The segments of a version, by segment key.
  std::map<std::string, json> Segments(const std::string& version_id) {
    json listed = GetOk("calibration-segments/" + version_id);
    std::map<std::string, json> out;
    for (const json& s : listed["items"]) out[s["segment"]] = s;
    EXPECT_EQ(out.size(), listed["items"].size()) << "segment keys repeat: " << listed;
    return out;
  }

  json Apply(const std::string& sport, const std::string& tier, const std::string& market,
             const std::vector<double>& probabilities) {
    return PostExpect(
        "apply",
        {{"sport", sport}, {"tier", tier}, {"market", market}, {"probabilities", probabilities}},
        200);
  }

  // The gates of a version, by name.
  static std::map<std::string, json> Gates(const json& version) {
    std::map<std::string, json> out;
    for (const json& g : version["gates"]) out[g["name"]] = g;
    return out;
  }
};

// A server on a copy of the database of one graded history, built once for the suite (1430
// publishes take seconds under ASan) and stopped cleanly, so its SQLite file is complete (and
// a PostgreSQL database has no session left, as a template must not).
class HttpCalibrationHistoryTest : public HttpCalibrationTest {
 protected:
  static void SetUpTestSuite() {
    history_ = std::make_unique<ServerProcess>();
    ASSERT_TRUE(history_->Start());
    BuildGradedHistory(*history_, history_prediction_);
    const int status = history_->Kill(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    history_built_ = !::testing::Test::HasFailure();
  }
  static void TearDownTestSuite() { history_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(history_built_) << "building the graded history failed";
    ASSERT_TRUE(server_.CopyDatabase(*history_));
    ASSERT_TRUE(server_.Start());
  }

  static inline std::unique_ptr<ServerProcess> history_;
  static inline bool history_built_ = false;
  static inline std::string history_prediction_;  // the history's first pick
};

// (a) and (b): the seed's exact body fits a version, lists it, stores a segment per finest
// segment and per fitted pool with the fallback it used, and records every gate.
TEST_F(HttpCalibrationHistoryTest, SeedJobStoresVersionSegmentsAndGates) {
  const std::map<std::string, int64_t> before = server_.RowCounts();
  json v = RunJob(std::string_view(kSeedJob));
  const std::string id = v.value("calibration_version_id", "");
  ASSERT_FALSE(id.empty()) << v;
  EXPECT_EQ(v["method"], "isotonic");
  EXPECT_EQ(v["n"], kHistoryN);
  EXPECT_EQ(v["settings"]["training_days"], 30);
  EXPECT_EQ(v["settings"]["min_segment_n"], 200);
  EXPECT_EQ(v["settings"]["segment_by"], json::array({"sport", "tier", "market"}));
  EXPECT_EQ(v["settings"]["gates"]["min_n"], 1000);
  EXPECT_EQ(v["settings"]["gates"]["min_ece_reduction"], 0.01);
  EXPECT_EQ(v["settings"]["gates"]["brier_not_worse"], true);
  EXPECT_EQ(v["segments"], 7);
  EXPECT_EQ(v["activated"], false);  // the server runs without --auto-activate-calibration
  EXPECT_TRUE(v["activation"].is_null()) << v;

  // Gates: name, value, threshold and verdict, all passing on this history.
  std::map<std::string, json> gates = Gates(v);
  ASSERT_EQ(gates.size(), 3u) << v["gates"];
  for (const auto& [name, g] : gates) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(g["value"].is_number()) << g;
    EXPECT_TRUE(g["threshold"].is_number()) << g;
    EXPECT_EQ(g["passed"], true) << g;
  }
  EXPECT_EQ(gates["min_n"]["value"], kHistoryN);
  EXPECT_EQ(gates["min_n"]["threshold"], 1000);
  EXPECT_EQ(gates["ece_reduction"]["threshold"], 0.01);
  EXPECT_NEAR(gates["ece_reduction"]["value"].get<double>(),
              v["metrics_before"]["ece"].get<double>() - v["metrics_after"]["ece"].get<double>(),
              1e-12);
  EXPECT_GT(gates["ece_reduction"]["value"].get<double>(), 0.03) << "the history is badly off";
  EXPECT_EQ(gates["brier_not_worse"]["threshold"], 0);
  EXPECT_NEAR(
      gates["brier_not_worse"]["value"].get<double>(),
      v["metrics_after"]["brier"].get<double>() - v["metrics_before"]["brier"].get<double>(),
      1e-12);
  EXPECT_LT(gates["brier_not_worse"]["value"].get<double>(), 0);
  EXPECT_EQ(v["gates_passed"], true);
  EXPECT_EQ(v["metrics_before"]["n"], kHistoryN);
  EXPECT_EQ(v["metrics_after"]["n"], kHistoryN);

  // Listed, exactly as the job answered.
  json listed = GetOk("calibration-versions");
  ASSERT_EQ(listed["items"].size(), 1u) << listed;
  json expected = v;
  for (const char* key : {"segments", "activated", "activation"}) expected.erase(key);
  EXPECT_EQ(listed["items"][0], expected);

  // Segments: each finest segment names the pool it was fitted on and its fallback level.
  std::map<std::string, json> segments = Segments(id);
  std::set<std::string> keys;
  for (const auto& [key, s] : segments) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{kNbaAMoneyline, kNbaBMoneyline, kNbaASpread,
                                         kNhlAMoneyline, kNbaMoneylinePool, kNbaPool, kGlobal}));
  struct Expected {
    const char* segment;
    const char* fitted_on;
    const char* fallback;
    int n;
  };
  for (const Expected& e : {Expected{kNbaAMoneyline, kNbaAMoneyline, "none", 1300},
                            Expected{kNbaBMoneyline, kNbaMoneylinePool, "sport_market", 60},
                            Expected{kNbaASpread, kNbaPool, "sport", 40},
                            Expected{kNhlAMoneyline, kGlobal, "global", 30},
                            Expected{kNbaMoneylinePool, kNbaMoneylinePool, "none", kNbaMoneylineN},
                            Expected{kNbaPool, kNbaPool, "none", kNbaN},
                            Expected{kGlobal, kGlobal, "none", kHistoryN}}) {
    SCOPED_TRACE(e.segment);
    const json& s = segments[e.segment];
    EXPECT_EQ(s["calibration_version_id"], id);
    EXPECT_EQ(s["fitted_on"], e.fitted_on) << s;
    EXPECT_EQ(s["fallback"], e.fallback) << s;
    EXPECT_EQ(s["n"], e.n) << s;
    EXPECT_TRUE(s["params"].is_object()) << s;
    EXPECT_EQ(s["params"], segments[e.fitted_on]["params"]) << "a fallback uses its pool's fit";
    EXPECT_TRUE(s["metrics"].is_object()) << s;
    ASSERT_TRUE(s["bins"].is_array()) << s;
    EXPECT_FALSE(s["bins"].empty()) << s;
  }
  EXPECT_NE(segments[kNbaAMoneyline]["params"], segments[kGlobal]["params"]);

  std::map<std::string, int64_t> after = server_.RowCounts();
  EXPECT_EQ(after["calibration_versions"], before.at("calibration_versions") + 1);
  EXPECT_EQ(after["calibration_segments"], before.at("calibration_segments") + 7);
  EXPECT_EQ(after["calibration_activations"], before.at("calibration_activations"));
  EXPECT_EQ(after["ledger_entries"], before.at("ledger_entries"));

  // A second job is a second version; the first one is unchanged and listed after it.
  json second = RunJob(std::string_view(kSeedJob));
  EXPECT_NE(second["calibration_version_id"], id);
  json both = GetOk("calibration-versions");
  ASSERT_EQ(both["items"].size(), 2u) << both;
  EXPECT_EQ(both["items"][0]["calibration_version_id"], second["calibration_version_id"]);
  EXPECT_EQ(both["items"][1], expected);
}

// (b): the job's optional settings are recorded, and segment_by changes the segments.
TEST_F(HttpCalibrationHistoryTest, JobRecordsItsSettings) {
  json v = RunJob(json{{"training_days", 7},
                       {"method", "platt"},
                       {"min_n", 500},
                       {"min_ece_reduction", 0.02},
                       {"brier_not_worse", false},
                       {"min_segment_n", 50},
                       {"segment_by", json::array({"market", "sport"})},
                       {"folds", 4}});
  EXPECT_EQ(v["method"], "platt");
  EXPECT_EQ(v["settings"]["training_days"], 7);
  EXPECT_EQ(v["settings"]["segment_by"], json::array({"sport", "market"}));  // canonical order
  EXPECT_EQ(v["settings"]["min_segment_n"], 50);
  EXPECT_EQ(v["settings"]["folds"], 4);
  EXPECT_EQ(v["settings"]["gates"]["min_n"], 500);
  EXPECT_EQ(v["settings"]["gates"]["min_ece_reduction"], 0.02);
  EXPECT_EQ(v["settings"]["gates"]["brier_not_worse"], false);
  std::map<std::string, json> gates = Gates(v);
  EXPECT_EQ(gates.count("brier_not_worse"), 0u) << "the Brier gate is off" << v["gates"];
  EXPECT_EQ(gates["min_n"]["threshold"], 500);
  EXPECT_EQ(gates["ece_reduction"]["threshold"], 0.02);

  // Without tier, NBA spread (40) falls back to NBA; NHL moneyline (30) to global.
  std::map<std::string, json> segments = Segments(v["calibration_version_id"]);
  std::set<std::string> keys;
  for (const auto& [key, s] : segments) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{kNbaMoneylinePool, "sport=NBA|market=spread",
                                         "sport=NHL|market=moneyline", kNbaPool, kGlobal}));
  EXPECT_EQ(segments[kNbaMoneylinePool]["fallback"], "none");
  EXPECT_EQ(segments["sport=NBA|market=spread"]["fitted_on"], kNbaPool);
  EXPECT_EQ(segments["sport=NBA|market=spread"]["fallback"], "sport");
  EXPECT_EQ(segments["sport=NHL|market=moneyline"]["fitted_on"], kGlobal);
  EXPECT_EQ(segments["sport=NHL|market=moneyline"]["fallback"], "global");
}

TEST_F(HttpCalibrationHistoryTest, EveryMethodFitsAVersion) {
  std::set<std::string> ids;
  for (const char* method : {"isotonic", "platt", "temperature", "beta"}) {
    SCOPED_TRACE(method);
    json v = RunJob(json{{"training_days", 30}, {"method", method}});
    EXPECT_EQ(v["method"], method);
    EXPECT_EQ(v["n"], kHistoryN);
    ids.insert(v.value("calibration_version_id", ""));
    // Each method shrinks these overconfident picks towards 1/2 on held-out data.
    EXPECT_LT(v["metrics_after"]["ece"].get<double>(), v["metrics_before"]["ece"].get<double>())
        << v;
    std::map<std::string, json> segments = Segments(v["calibration_version_id"]);
    EXPECT_EQ(segments.size(), 7u);
    EXPECT_EQ(segments[kGlobal]["params"].value("method", ""), method) << segments[kGlobal];
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(GetOk("calibration-versions")["items"].size(), 4u);
}

// (c): a version whose gates pass activates without force; one whose gates fail needs force
// and a reason, both recorded; every activation is one ledger entry; the latest is live.
TEST_F(HttpCalibrationHistoryTest, ActivationFollowsTheGatesAndRecordsForce) {
  json passing = RunJob(std::string_view(kSeedJob));
  ASSERT_EQ(passing["gates_passed"], true) << passing;
  const std::string passing_id = passing["calibration_version_id"];
  json failing = RunJob(json{{"training_days", 30}, {"method", "isotonic"}, {"min_n", 1000000}});
  ASSERT_EQ(failing["gates_passed"], false) << failing;
  const std::string failing_id = failing["calibration_version_id"];
  std::map<std::string, json> gates = Gates(failing);
  EXPECT_EQ(gates["min_n"]["passed"], false);
  EXPECT_EQ(gates["min_n"]["value"], kHistoryN);
  EXPECT_EQ(gates["min_n"]["threshold"], 1000000);
  EXPECT_EQ(gates["ece_reduction"]["passed"], true);
  ExpectProblem(server_.Get("active-calibration"), 404, "active");

  std::map<std::string, int64_t> counts = server_.RowCounts();
  json a = Activate(passing_id, {{"actor", "ops@truthbook"}});
  EXPECT_EQ(a["calibration_version_id"], passing_id);
  EXPECT_EQ(a["forced"], false);
  EXPECT_EQ(a["actor"], "ops@truthbook");
  EXPECT_TRUE(a["reason"].is_string()) << a;
  EXPECT_TRUE(a["activated_at"].is_string()) << a;
  EXPECT_EQ(a["log_index"], counts["ledger_entries"]);  // the next entry of the log
  std::map<std::string, int64_t> after = server_.RowCounts();
  EXPECT_EQ(after["ledger_entries"], counts["ledger_entries"] + 1);
  EXPECT_EQ(after["calibration_activations"], counts["calibration_activations"] + 1);
  json active = GetOk("active-calibration");
  EXPECT_EQ(active["activation"], a);
  EXPECT_EQ(active["version"]["calibration_version_id"], passing_id);
  EXPECT_EQ(active["version"]["gates_passed"], true);

  // The failing version: refused without force, and force needs a reason.
  counts = server_.RowCounts();
  ExpectProblem(server_.Post("activate-calibration/" + failing_id, json::object()), 409, "force");
  ExpectProblem(server_.PostRaw("activate-calibration/" + failing_id, ""), 409, "force");
  ExpectProblem(server_.Post("activate-calibration/" + failing_id, {{"force", true}}), 400,
                "reason");
  ExpectProblem(
      server_.Post("activate-calibration/" + failing_id, {{"force", true}, {"reason", ""}}), 400,
      "reason");
  EXPECT_EQ(server_.RowCounts(), counts);
  EXPECT_EQ(GetOk("active-calibration")["activation"], a);

  const std::string reason = "ops override: min_n is unreachable in the test window";
  json forced = Activate(failing_id, {{"force", true}, {"reason", reason}});
  EXPECT_EQ(forced["calibration_version_id"], failing_id);
  EXPECT_EQ(forced["forced"], true);
  EXPECT_EQ(forced["reason"], reason);
  EXPECT_EQ(forced["actor"], "api");
  EXPECT_EQ(forced["log_index"], counts["ledger_entries"]);
  after = server_.RowCounts();
  EXPECT_EQ(after["ledger_entries"], counts["ledger_entries"] + 1);
  EXPECT_EQ(after["calibration_activations"], counts["calibration_activations"] + 1);
  active = GetOk("active-calibration");
  EXPECT_EQ(active["activation"], forced);
  EXPECT_EQ(active["version"]["calibration_version_id"], failing_id);

  // Activating the passing version again makes it live again: the latest activation wins.
  json again = Activate(passing_id);
  EXPECT_EQ(again["log_index"], forced["log_index"].get<int64_t>() + 1);
  EXPECT_NE(again["activation_id"], a["activation_id"]);
  EXPECT_EQ(GetOk("active-calibration")["activation"], again);
  EXPECT_EQ(server_.RowCounts()["ledger_entries"], counts["ledger_entries"] + 2);
}

TEST_F(HttpCalibrationHistoryTest, AutoActivateActivatesOnlyWhenTheGatesPass) {
  std::map<std::string, int64_t> counts = server_.RowCounts();
  json failing = RunJob(json{
      {"training_days", 30}, {"method", "isotonic"}, {"min_n", 1000000}, {"auto_activate", true}});
  EXPECT_EQ(failing["gates_passed"], false);
  EXPECT_EQ(failing["activated"], false);
  EXPECT_TRUE(failing["activation"].is_null()) << failing;
  EXPECT_EQ(server_.RowCounts()["ledger_entries"], counts["ledger_entries"]);
  ExpectProblem(server_.Get("active-calibration"), 404, "active");

  json v = RunJob(json{{"training_days", 30}, {"method", "isotonic"}, {"auto_activate", true}});
  EXPECT_EQ(v["gates_passed"], true);
  EXPECT_EQ(v["activated"], true);
  ASSERT_TRUE(v["activation"].is_object()) << v;
  EXPECT_EQ(v["activation"]["calibration_version_id"], v["calibration_version_id"]);
  EXPECT_EQ(v["activation"]["forced"], false);
  EXPECT_EQ(v["activation"]["log_index"], counts["ledger_entries"]);
  std::map<std::string, int64_t> after = server_.RowCounts();
  EXPECT_EQ(after["ledger_entries"], counts["ledger_entries"] + 1);
  EXPECT_EQ(after["calibration_activations"], counts["calibration_activations"] + 1);
  EXPECT_EQ(GetOk("active-calibration")["activation"], v["activation"]);
}

// (d): a prediction posted with only raw_prob gets calibrated_prob from the live version for
// its segment (the same number POST apply gives) and records the version; one posted with its
// own calibrated_prob keeps it.
TEST_F(HttpCalibrationHistoryTest, NewPredictionIsCalibratedByTheActiveVersion) {
  json before = GetOk("prediction/" + history_prediction_);
  EXPECT_TRUE(before["calibrated_prob"].is_null()) << "nothing was live when it was posted";
  EXPECT_TRUE(before["calibration_version_id"].is_null()) << before;

  json v = RunJob(std::string_view(kSeedJob));
  const std::string id = v["calibration_version_id"];
  Activate(id);

  struct Case {
    std::string sport, tier, market, selection, segment;
    double raw_prob;
  };
  const std::vector<Case> cases = {
      {"NBA", "A", "moneyline", "home", kNbaAMoneyline, 0.8},
      {"NBA", "A", "moneyline", "away", kNbaAMoneyline, 0.25},
      {"NBA", "B", "moneyline", "home", kNbaBMoneyline, 0.7},  // fitted on NBA moneyline
      {"NBA", "A", "spread", "home", kNbaASpread, 0.65},       // fitted on NBA
      {"NHL", "A", "moneyline", "away", kNhlAMoneyline, 0.3},  // fitted on global
      // Cohorts the window never saw use the nearest stored pool.
      {"NBA", "C", "moneyline", "home", kNbaMoneylinePool, 0.75},
      {"NHL", "A", "spread", "home", kGlobal, 0.6},
  };
  json predictions = json::array();
  for (const Case& c : cases) {
    predictions.push_back(
        Prediction(EventId(c.sport, 0), c.market, c.selection, c.raw_prob, c.tier));
  }
  json own = Prediction(EventId("NBA", 0), "moneyline", "home", 0.8, "A");
  own["calibrated_prob"] = 0.61;
  predictions.push_back(own);
  json run = PostExpect("sim-runs", SimRun(predictions), 201);
  ASSERT_EQ(run["prediction_ids"].size(), cases.size() + 1) << run;

  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.segment + " p=" + std::to_string(c.raw_prob));
    json p = GetOk("prediction/" + run["prediction_ids"][i].get<std::string>());
    EXPECT_EQ(p["raw_prob"], c.raw_prob);
    EXPECT_EQ(p["calibration_version_id"], id) << p;
    ASSERT_TRUE(p["calibrated_prob"].is_number()) << p;
    json applied = Apply(c.sport, c.tier, c.market, {c.raw_prob});
    EXPECT_EQ(applied["calibration_version_id"], id);
    EXPECT_EQ(applied["segment"], c.segment);
    ASSERT_EQ(applied["calibrated"].size(), 1u) << applied;
    EXPECT_EQ(p["calibrated_prob"].get<double>(), applied["calibrated"][0].get<double>());
    // The fit pulls the overconfident raw_prob towards what such picks really hit.
    const double calibrated = p["calibrated_prob"].get<double>();
    EXPECT_LT(std::abs(calibrated - TrueRate(c.raw_prob)),
              std::abs(c.raw_prob - TrueRate(c.raw_prob)))
        << calibrated;
  }
  json kept = GetOk("prediction/" + run["prediction_ids"][cases.size()].get<std::string>());
  EXPECT_EQ(kept["calibrated_prob"], 0.61);
  EXPECT_TRUE(kept["calibration_version_id"].is_null()) << kept;

  // A later activation calibrates later predictions with the newer version.
  json platt = RunJob(json{{"training_days", 30}, {"method", "platt"}});
  ASSERT_EQ(platt["gates_passed"], true) << platt;
  Activate(platt["calibration_version_id"]);
  json later = PostExpect("sim-runs", SimRun(json::array({predictions[0]})), 201);
  json p = GetOk("prediction/" + later["prediction_ids"][0].get<std::string>());
  EXPECT_EQ(p["calibration_version_id"], platt["calibration_version_id"]);
  EXPECT_EQ(p["calibrated_prob"].get<double>(),
            Apply("NBA", "A", "moneyline", {0.8})["calibrated"][0].get<double>());
  // The earlier prediction keeps the version it was calibrated with.
  EXPECT_EQ(
      GetOk("prediction/" + run["prediction_ids"][0].get<std::string>())["calibration_version_id"],
      id);
}

TEST_F(HttpCalibrationHistoryTest, ApplyMapsEveryProbabilityInOrder) {
  json v = RunJob(std::string_view(kSeedJob));
  Activate(v["calibration_version_id"]);
  const std::vector<double> ps = {0.9, 0.1, 0.5, 0.0, 1.0, 0.35};
  json all = Apply("NBA", "A", "moneyline", ps);
  ASSERT_EQ(all["calibrated"].size(), ps.size()) << all;
  for (size_t i = 0; i < ps.size(); ++i) {
    SCOPED_TRACE(ps[i]);
    const double one = Apply("NBA", "A", "moneyline", {ps[i]})["calibrated"][0].get<double>();
    EXPECT_EQ(all["calibrated"][i].get<double>(), one);
    EXPECT_GE(one, 0.0);
    EXPECT_LE(one, 1.0);
  }
  // Isotonic is monotone: a higher raw_prob never calibrates lower.
  EXPECT_LE(all["calibrated"][1].get<double>(), all["calibrated"][5].get<double>());
  EXPECT_LE(all["calibrated"][5].get<double>(), all["calibrated"][2].get<double>());
  EXPECT_LE(all["calibrated"][2].get<double>(), all["calibrated"][0].get<double>());
}

TEST_F(HttpCalibrationHistoryTest, ReliabilityReturnsTheBinsOfAVersionSegment) {
  json v = RunJob(std::string_view(kSeedJob));
  const std::string id = v["calibration_version_id"];
  std::map<std::string, json> segments = Segments(id);

  json r = GetOk(ReliabilityRoute(id, kNbaBMoneyline));
  EXPECT_EQ(r["calibration_version_id"], id);
  EXPECT_EQ(r["segment"], kNbaBMoneyline);
  EXPECT_EQ(r["fitted_on"], kNbaMoneylinePool);
  EXPECT_EQ(r["bins"], segments[kNbaBMoneyline]["bins"]);
  EXPECT_EQ(r["metrics"], segments[kNbaBMoneyline]["metrics"]);

  json global = GetOk(ReliabilityRoute(id, kGlobal));
  ASSERT_TRUE(global["bins"].is_array()) << global;
  int64_t count = 0;
  for (const json& bin : global["bins"]) {
    EXPECT_LE(bin["lo"].get<double>(), bin["mean_p"].get<double>()) << bin;
    EXPECT_LE(bin["mean_p"].get<double>(), bin["hi"].get<double>()) << bin;
    count += bin["count"].get<int64_t>();
  }
  EXPECT_EQ(count, kHistoryN);

  // Without a version: the live one; unknown ones are 404.
  ExpectProblem(server_.Get("reliability?segment=global"), 404, "version");
  Activate(id);
  EXPECT_EQ(GetOk("reliability?segment=global"), global);
  ExpectProblem(server_.Get(ReliabilityRoute(id, "sport=MLB")), 404, "segment");
  ExpectProblem(server_.Get("reliability?version=" + std::string(kUnknownId) + "&segment=global"),
                404, kUnknownId);
  ExpectProblem(server_.Get("calibration-segments/" + std::string(kUnknownId)), 404, kUnknownId);
}

// Acceptance 5: with graded history and a live version, so that each request would otherwise
// do something, bad input is a 4xx problem naming the field and no table changes.
TEST_F(HttpCalibrationHistoryTest, BadInputIsRefusedAndChangesNothing) {
  json v = RunJob(std::string_view(kSeedJob));
  Activate(v["calibration_version_id"]);
  const std::map<std::string, int64_t> before = server_.RowCounts();

  struct Case {
    std::string body;
    std::string detail;
  };
  for (const Case& c : {Case{R"({"training_days": 30, "method": "histogram"})", "method"},
                        Case{R"({"training_days": 30, "method": "Isotonic"})", "method"},
                        Case{R"({"training_days": 30, "method": 1})", "method"},
                        Case{R"({"training_days": 0, "method": "isotonic"})", "training_days"},
                        Case{R"({"training_days": -5, "method": "isotonic"})", "training_days"},
                        Case{R"({"training_days": "30", "method": "isotonic"})", "training_days"},
                        Case{R"({"training_days": 1.5, "method": "isotonic"})", "training_days"},
                        Case{R"({"training_days": 30, "min_n": -1})", "min_n"},
                        Case{R"({"training_days": 30, "folds": 1})", "folds"},
                        Case{R"({"training_days": 30, "min_segment_n": 0})", "min_segment_n"},
                        Case{R"({"training_days": 30, "segment_by": ["league"]})", "segment_by[0]"},
                        Case{R"([30, "isotonic"])", "body"}}) {
    SCOPED_TRACE(c.body);
    ExpectProblem(server_.PostRaw("run-calibration-job", c.body), 400, c.detail);
  }

  ExpectProblem(server_.Post("activate-calibration/" + std::string(kUnknownId), json::object()),
                404, kUnknownId);
  ExpectProblem(server_.Post("activate-calibration/" + std::string(kUnknownId),
                             {{"force", true}, {"reason", "no such version"}}),
                404, kUnknownId);

  auto apply = [](const json& probabilities) {
    return json{
        {"sport", "NBA"}, {"tier", "A"}, {"market", "moneyline"}, {"probabilities", probabilities}};
  };
  ExpectProblem(server_.Post("apply", apply(json::array({1.5}))), 400, "probabilities[0]");
  ExpectProblem(server_.Post("apply", apply(json::array({0.5, -0.1}))), 400, "probabilities[1]");
  ExpectProblem(server_.Post("apply", apply(json::array())), 400, "probabilities");
  ExpectProblem(server_.Post("apply", apply(json::array({0.5, "0.6"}))), 400, "probabilities[1]");
  json no_sport = apply(json::array({0.5}));
  no_sport.erase("sport");
  ExpectProblem(server_.Post("apply", no_sport), 400, "sport");

  EXPECT_EQ(server_.RowCounts(), before);
  // The same server still runs the seed's body: the refusals were about the input.
  EXPECT_EQ(RunJob(std::string_view(kSeedJob))["n"], kHistoryN);
}

// Before any activation nothing is live: apply is a precondition failure, reliability without
// a version and active-calibration are 404, and a job with nothing graded fits nothing.
TEST_F(HttpCalibrationTest, BeforeAnyActivationNothingIsLive) {
  const std::map<std::string, int64_t> before = server_.RowCounts();
  ExpectProblem(server_.Post("apply", {{"sport", "NBA"},
                                       {"tier", "A"},
                                       {"market", "moneyline"},
                                       {"probabilities", json::array({0.5})}}),
                409, "activate");
  ExpectProblem(server_.Get("reliability?segment=global"), 404, "version");
  ExpectProblem(server_.Get("active-calibration"), 404, "active");
  ExpectProblem(server_.PostRaw("run-calibration-job", kSeedJob), 409, "training_days");
  EXPECT_TRUE(GetOk("calibration-versions")["items"].empty());
  EXPECT_EQ(server_.RowCounts(), before);
}

// Segment keys hold '|', which a client may well send unencoded. The server must then read
// the query or refuse it (400), never drop it whole and answer as if no version was given
// (nor, say, run grading-summary unfiltered).
TEST_F(HttpCalibrationTest, QueryWithARawSegmentKeyIsReadOrRefused) {
  HttpResult r = server_.Get("reliability?version=" + std::string(kUnknownId) +
                             "&segment=sport=NBA|tier=A|market=moneyline");
  if (r.status == 400) {
    ExpectProblem(r, 400, "query");
  } else {
    ExpectProblem(r, 404, kUnknownId);  // the version was read: it is unknown
  }
  HttpResult summary = server_.Get("grading-summary?market=bogus&segment=a|b");
  EXPECT_EQ(summary.status, 400) << "the market filter was dropped: " << summary.body;
}

}  // namespace
}  // namespace truthbook::test_support
