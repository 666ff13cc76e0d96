// Acceptance 5 of issue 2: a table of malformed requests against the real server. Each must
// be answered 4xx with application/problem+json naming the field, and change no table.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "server_harness.h"

namespace truthbook::test_support {
namespace {

using nlohmann::json;

struct MalformedCase {
  std::string name;
  std::string method;
  std::string route;  // relative to /api/calibration/, or a full path starting with '/'
  std::string body;
  int status;
  std::string detail;  // must occur in the problem's `detail`
};

// `base` changed by `edit`, serialized.
std::string With(json base, const std::function<void(json&)>& edit) {
  edit(base);
  return base.dump();
}

class MalformedRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    flow_ = CreateSeedFlow(server_, kEvent);
    ASSERT_EQ(flow_.prediction_ids.size(), 1u);
  }

  std::vector<MalformedCase> Cases() const {
    const json event = EventBody("nba-new");
    const json odds = OddsSnapshotBody(kEvent, "2026-11-26T19:00:00Z");
    const json injury = InjurySnapshotBody(kEvent);
    const json run =
        SimRunBody(kEvent, {{{"kind", "odds_snapshot"}, {"snapshot_id", flow_.odds_snapshot_id}}});
    const json publish = PublishBody(flow_.prediction_ids[0]);
    const json result = ResultBody(kEvent, 112, 108);
    const std::string unknown_id = "0190f1f0-0000-7000-8000-000000000000";
    const std::string snapshots = "snapshots/" + std::string(kEvent);
    auto set = [](const char* key, json value) {
      return [key, value](json& j) { j[key] = value; };
    };
    auto drop = [](const char* key) { return [key](json& j) { j.erase(key); }; };
    auto quote_price = [](int quote, json price) {
      return [quote, price](json& j) { j["quotes"][quote]["price"] = price; };
    };
    auto prediction = [](const char* key, json value) {
      return [key, value](json& j) { j["predictions"][0][key] = value; };
    };
    return {
        // Broken or non-object JSON on every write endpoint.
        {"events broken JSON", "POST", "events", R"({"event_id": "x",)", 400, "body"},
        {"events array body", "POST", "events", "[1, 2]", 400, "body: must be a JSON object"},
        {"events empty body", "POST", "events", "", 400, "body"},
        {"events trailing garbage", "POST", "events", With(event, [](json&) {}) + " x", 400,
         "body"},
        {"events invalid UTF-8", "POST", "events",
         R"({"event_id": ")" + std::string("\xff\xfe") + R"("})", 400, "body"},
        {"events nested too deep", "POST", "events", std::string(100, '[') + std::string(100, ']'),
         400, "body"},
        {"snapshot raw nested too deep", "POST", "capture-snapshot",
         With(odds,
              [](json& j) {
                json deep = json::object();
                for (int i = 0; i < 80; ++i) deep = json{{"d", deep}};
                j["raw"] = deep;
              }),
         400, "body"},
        {"snapshot broken JSON", "POST", "capture-snapshot", "{quotes: []}", 400, "body"},
        {"injury string body", "POST", "capture-injury-snapshot", R"("players")", 400, "body"},
        {"sim run broken JSON", "POST", "sim-runs", "{\"trigger\": }", 400, "body"},
        {"publish broken JSON", "POST", "publish", "{", 400, "body"},
        {"result number body", "POST", "event-results", "42", 400, "body"},
        {"cleanup broken JSON", "POST", "cleanup-snapshots", "{retention_days: 1}", 400, "body"},
        // events: missing, mistyped and out-of-range fields.
        {"event missing sport", "POST", "events", With(event, drop("sport")), 400, "sport"},
        {"event id number", "POST", "events", With(event, set("event_id", 7)), 400, "event_id"},
        {"event id empty", "POST", "events", With(event, set("event_id", "")), 400, "event_id"},
        {"event id with slash", "POST", "events", With(event, set("event_id", "nba/1")), 400,
         "event_id: must not contain '/'"},
        {"event start not a string", "POST", "events", With(event, set("start_time", 1764180000)),
         400, "start_time"},
        {"event month 13", "POST", "events", With(event, set("start_time", "2026-13-01T00:00:00Z")),
         400, "start_time"},
        {"event start yesterday", "POST", "events", With(event, set("start_time", "yesterday")),
         400, "start_time"},
        {"event start missing zone", "POST", "events",
         With(event, set("start_time", "2026-11-27T00:30:00")), 400, "start_time"},
        {"event start with space", "POST", "events",
         With(event, set("start_time", "2026-11-27 00:30:00Z")), 400, "start_time"},
        {"event unknown status", "POST", "events", With(event, set("status", "exploded")), 400,
         "status"},
        {"event id over 200 bytes", "POST", "events",
         With(event, set("event_id", std::string(201, 'e'))), 400, "event_id"},
        // capture-snapshot.
        {"snapshot unknown event", "POST", "capture-snapshot",
         With(odds, set("event_id", "no-such-event")), 404, "event_id"},
        {"snapshot missing book", "POST", "capture-snapshot", With(odds, drop("book")), 400,
         "book"},
        {"snapshot unknown market", "POST", "capture-snapshot",
         With(odds, set("market", "corners")), 400, "market"},
        {"snapshot unknown selection", "POST", "capture-snapshot",
         With(odds, [](json& j) { j["quotes"][0]["selection"] = "draw"; }), 400,
         "quotes[0].selection"},
        {"snapshot spread line missing", "POST", "capture-snapshot",
         With(odds, [](json& j) { j["quotes"][1].erase("line"); }), 400, "quotes[1].line"},
        {"snapshot line not a quarter", "POST", "capture-snapshot",
         With(odds, [](json& j) { j["quotes"][0]["line"] = -3.3; }), 400, "quotes[0].line"},
        {"snapshot american -99", "POST", "capture-snapshot",
         With(odds, quote_price(1, {{"american", -99}})), 400, "quotes[1].price.american"},
        {"snapshot american 50", "POST", "capture-snapshot",
         With(odds, quote_price(0, {{"american", 50}})), 400, "quotes[0].price.american"},
        {"snapshot american 0", "POST", "capture-snapshot",
         With(odds, quote_price(0, {{"american", 0}})), 400, "quotes[0].price.american"},
        {"snapshot american string", "POST", "capture-snapshot",
         With(odds, quote_price(0, {{"american", "-110"}})), 400, "quotes[0].price.american"},
        {"snapshot decimal 1", "POST", "capture-snapshot",
         With(odds, quote_price(1, {{"decimal", 1.0}})), 400, "quotes[1].price.decimal"},
        {"snapshot decimal 0.5", "POST", "capture-snapshot",
         With(odds, quote_price(0, {{"decimal", 0.5}})), 400, "quotes[0].price.decimal"},
        {"snapshot price empty", "POST", "capture-snapshot",
         With(odds, quote_price(0, json::object())), 400, "quotes[0].price"},
        {"snapshot both price forms", "POST", "capture-snapshot",
         With(odds, quote_price(0, {{"american", -110}, {"decimal", 1.91}})), 400,
         "quotes[0].price"},
        {"snapshot quotes not array", "POST", "capture-snapshot",
         With(odds, set("quotes", "home -3.5")), 400, "quotes"},
        {"snapshot quotes empty", "POST", "capture-snapshot",
         With(odds, set("quotes", json::array())), 400, "quotes"},
        {"snapshot quote not object", "POST", "capture-snapshot",
         With(odds, [](json& j) { j["quotes"][1] = 3.5; }), 400, "quotes[1]"},
        {"snapshot missing captured_at", "POST", "capture-snapshot",
         With(odds, drop("captured_at")), 400, "captured_at"},
        {"snapshot day 31 November", "POST", "capture-snapshot",
         With(odds, set("captured_at", "2026-11-31T00:00:00Z")), 400, "captured_at"},
        // capture-injury-snapshot.
        {"injury unknown event", "POST", "capture-injury-snapshot",
         With(injury, set("event_id", "no-such-event")), 404, "event_id"},
        {"injury missing team", "POST", "capture-injury-snapshot", With(injury, drop("team")), 400,
         "team"},
        {"injury player not a string", "POST", "capture-injury-snapshot",
         With(injury, [](json& j) { j["players"][0]["player"] = 23; }), 400, "players[0].player"},
        {"injury bad captured_at", "POST", "capture-injury-snapshot",
         With(injury, set("captured_at", "2026-11-26T25:00:00Z")), 400, "captured_at"},
        // sim-runs: all or nothing, so a bad prediction or input writes no run either.
        {"run missing code_version", "POST", "sim-runs", With(run, drop("code_version")), 400,
         "code_version"},
        {"run missing git_sha", "POST", "sim-runs",
         With(run, [](json& j) { j["code_version"].erase("git_sha"); }), 400,
         "code_version.git_sha"},
        {"run n_sims string", "POST", "sim-runs", With(run, set("n_sims", "many")), 400, "n_sims"},
        {"run n_sims fraction", "POST", "sim-runs", With(run, set("n_sims", 1.5)), 400, "n_sims"},
        {"run n_sims zero", "POST", "sim-runs", With(run, set("n_sims", 0)), 400, "n_sims"},
        {"run n_sims beyond int64", "POST", "sim-runs",
         With(run, set("n_sims", 18446744073709551615ull)), 400, "n_sims"},
        {"run rng_seed missing", "POST", "sim-runs", With(run, drop("rng_seed")), 400, "rng_seed"},
        {"run predictions not array", "POST", "sim-runs",
         With(run, set("predictions", json::object())), 400, "predictions"},
        {"run finished before started", "POST", "sim-runs",
         With(run, set("finished_at", "2026-11-26T18:00:00Z")), 400, "finished_at"},
        {"run raw_prob 0", "POST", "sim-runs", With(run, prediction("raw_prob", 0)), 400,
         "predictions[0].raw_prob"},
        {"run raw_prob 1", "POST", "sim-runs", With(run, prediction("raw_prob", 1)), 400,
         "predictions[0].raw_prob"},
        {"run raw_prob 1.5", "POST", "sim-runs", With(run, prediction("raw_prob", 1.5)), 400,
         "predictions[0].raw_prob"},
        {"run raw_prob -0.1", "POST", "sim-runs", With(run, prediction("raw_prob", -0.1)), 400,
         "predictions[0].raw_prob"},
        {"run raw_prob string", "POST", "sim-runs", With(run, prediction("raw_prob", "0.56")), 400,
         "predictions[0].raw_prob"},
        {"run calibrated_prob 1.2", "POST", "sim-runs",
         With(run, prediction("calibrated_prob", 1.2)), 400, "predictions[0].calibrated_prob"},
        {"run prediction american -99", "POST", "sim-runs",
         With(run, prediction("price", {{"american", -99}})), 400, "predictions[0].price.american"},
        {"run prediction decimal 1", "POST", "sim-runs",
         With(run, prediction("price", {{"decimal", 1}})), 400, "predictions[0].price.decimal"},
        {"run prediction unknown market", "POST", "sim-runs",
         With(run, prediction("market", "corners")), 400, "predictions[0].market"},
        {"run prediction spread without line", "POST", "sim-runs",
         With(run, [](json& j) { j["predictions"][0].erase("line"); }), 400, "predictions[0].line"},
        {"run prediction missing tier", "POST", "sim-runs",
         With(run, [](json& j) { j["predictions"][0].erase("tier"); }), 400, "predictions[0].tier"},
        {"run unknown input snapshot", "POST", "sim-runs",
         With(run, [&](json& j) { j["inputs"][0]["snapshot_id"] = unknown_id; }), 404,
         "inputs[0].snapshot_id"},
        {"run input of the wrong kind", "POST", "sim-runs",
         With(run,
              [&](json& j) {
                j["inputs"][0] = {{"kind", "odds_snapshot"},
                                  {"snapshot_id", flow_.injury_snapshot_id}};
              }),
         400, "inputs[0].snapshot_id"},
        {"run unknown input kind", "POST", "sim-runs",
         With(run, [](json& j) { j["inputs"][0]["kind"] = "weather"; }), 400, "inputs[0].kind"},
        {"run unknown prediction event", "POST", "sim-runs",
         With(run, prediction("event_id", "no-such-event")), 404, "predictions[0].event_id"},
        // publish.
        {"publish unknown prediction", "POST", "publish",
         With(publish, set("prediction_id", unknown_id)), 404, "prediction_id"},
        {"publish missing channel", "POST", "publish", With(publish, drop("channel")), 400,
         "channel"},
        {"publish prediction_id number", "POST", "publish", With(publish, set("prediction_id", 1)),
         400, "prediction_id"},
        {"publish is_official string", "POST", "publish", With(publish, set("is_official", "yes")),
         400, "is_official"},
        // event-results.
        {"result unknown event", "POST", "event-results",
         With(result, set("event_id", "no-such-event")), 404, "event_id"},
        {"result unknown status", "POST", "event-results", With(result, set("status", "won")), 400,
         "status"},
        {"result final without away_score", "POST", "event-results",
         With(result, drop("away_score")), 400, "away_score"},
        {"result negative score", "POST", "event-results", With(result, set("home_score", -1)), 400,
         "home_score"},
        {"result fractional score", "POST", "event-results", With(result, set("home_score", 1.5)),
         400, "home_score"},
        {"result player stat value missing", "POST", "event-results",
         With(result, [](json& j) { j["player_stats"][0].erase("value"); }), 400,
         "player_stats[0].value"},
        // cleanup-snapshots.
        {"cleanup retention 0", "POST", "cleanup-snapshots", R"({"retention_days": 0})", 400,
         "retention_days"},
        {"cleanup retention string", "POST", "cleanup-snapshots", R"({"retention_days": "1"})", 400,
         "retention_days"},
        // Oversize body.
        {"oversize body", "POST", "capture-snapshot", std::string((1 << 20) + 1, ' '), 413, "body"},
        // GETs: bad ids, cursors, limits and times.
        {"unknown prediction", "GET", "prediction/" + unknown_id, "", 404, "prediction_id"},
        {"unknown sim run", "GET", "sim-run/" + unknown_id, "", 404, "sim_run_id"},
        {"snapshots limit 0", "GET", snapshots + "?limit=0", "", 400, "limit"},
        {"snapshots limit text", "GET", snapshots + "?limit=ten", "", 400, "limit"},
        {"snapshots limit too large", "GET", snapshots + "?limit=501", "", 400, "limit"},
        {"snapshots bad cursor", "GET", snapshots + "?cursor=not-a-cursor", "", 400, "cursor"},
        {"snapshots bad from", "GET", snapshots + "?from=yesterday", "", 400, "from"},
        {"published bad to", "GET", "published-predictions?to=2026-13-01T00:00:00Z", "", 400, "to"},
        {"published limit negative", "GET", "published-predictions?limit=-1", "", 400, "limit"},
        {"published bad cursor", "GET", "published-predictions?cursor=12x.abc", "", 400, "cursor"},
        // Unknown paths and methods.
        {"unknown GET path", "GET", "no-such-thing", "", 404, "path"},
        {"unknown POST path", "POST", "no-such-thing", "{}", 404, "path"},
        {"outside the API", "GET", "/elsewhere", "", 404, "path"},
        {"PUT on publish", "PUT", "publish", publish.dump(), 404, "path"},
    };
  }

  static constexpr const char* kEvent = "nba-malformed";
  ServerProcess server_;
  SeedFlow flow_;
};

TEST_F(MalformedRequestTest, EachIsAProblemNamingTheFieldAndChangesNothing) {
  std::vector<MalformedCase> cases = Cases();
  ASSERT_GE(cases.size(), 30u);
  std::map<std::string, int64_t> before = server_.RowCounts();
  ASSERT_FALSE(before.empty());
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.method + " " + c.route);
    std::string path = c.route.starts_with('/') ? c.route : std::string(kApiPrefix) + c.route;
    HttpResult r = server_.Request(c.method, path, c.body);
    EXPECT_EQ(r.status, c.status) << r.error << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json");
    json problem = r.Json();
    ASSERT_TRUE(problem.is_object()) << r.body;
    EXPECT_TRUE(problem["type"].is_string());
    EXPECT_TRUE(problem["title"].is_string());
    EXPECT_EQ(problem["status"], c.status);
    ASSERT_TRUE(problem["detail"].is_string());
    EXPECT_NE(problem["detail"].get<std::string>().find(c.detail), std::string::npos)
        << "detail: " << problem["detail"];
    EXPECT_EQ(server_.RowCounts(), before);
  }
}

TEST_F(MalformedRequestTest, ValidBaseRequestsAreAccepted) {
  // Guards the table: its bodies differ from these by exactly the one broken field.
  EXPECT_EQ(server_.Post("events", EventBody("nba-new")).status, 201);
  EXPECT_EQ(
      server_.Post("capture-snapshot", OddsSnapshotBody(kEvent, "2026-11-26T19:00:00Z")).status,
      201);
  EXPECT_EQ(server_.Post("capture-injury-snapshot", InjurySnapshotBody(kEvent)).status, 200);
  EXPECT_EQ(server_
                .Post("sim-runs", SimRunBody(kEvent, {{{"kind", "odds_snapshot"},
                                                       {"snapshot_id", flow_.odds_snapshot_id}}}))
                .status,
            201);
  EXPECT_EQ(server_.Post("publish", PublishBody(flow_.prediction_ids[0])).status, 201);
  EXPECT_EQ(server_.Post("event-results", ResultBody(kEvent, 112, 108)).status, 201);
  EXPECT_EQ(server_.PostRaw("cleanup-snapshots", R"({"retention_days": 1})").status, 200);
}

}  // namespace
}  // namespace truthbook::test_support
