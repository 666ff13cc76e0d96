#include "api/api.h"

#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "api/json_fields.h"
#include "api/problem.h"
#include "base/time.h"
#include "service/validate.h"

namespace truthbook::api {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/api/calibration/";
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 500;

std::string Dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse Json(int status, const json& doc) { return {status, "application/json", Dump(doc)}; }

HttpResponse Problem(const Status& s) {
  return {HttpStatusFor(s.code()), "application/problem+json", ProblemJson(s)};
}

// 201 for a new record, 200 for one that already existed.
template <typename T>
HttpResponse Created(const service::Written<T>& w, json doc) {
  doc["created"] = w.created;
  return Json(w.created ? 201 : 200, doc);
}

// Maps a Result to its JSON answer or its problem.
template <typename T, typename F>
HttpResponse Answer(const Result<T>& r, F&& to_response) {
  if (!r.ok()) return Problem(r.status());
  return to_response(r.value());
}

// Cursors are "<unix ms>.<id>", opaque to clients.
std::string EncodeCursor(TimePoint t, const std::string& id) {
  return std::to_string(t.time_since_epoch().count()) + "." + id;
}

Result<std::optional<store::Cursor>> DecodeCursor(const HttpRequest& req) {
  auto it = req.query.find("cursor");
  if (it == req.query.end() || it->second.empty()) return std::optional<store::Cursor>();
  const std::string& c = it->second;
  size_t dot = c.find('.');
  int64_t ms = 0;
  if (dot == std::string::npos || dot + 1 == c.size() ||
      std::from_chars(c.data(), c.data() + dot, ms).ptr != c.data() + dot) {
    return InvalidArgument("cursor: malformed; pass next_cursor from the previous page");
  }
  return std::optional<store::Cursor>(
      store::Cursor{TimePoint(std::chrono::milliseconds(ms)), c.substr(dot + 1)});
}

Result<int> DecodeLimit(const HttpRequest& req) {
  auto it = req.query.find("limit");
  if (it == req.query.end()) return kDefaultPageSize;
  int limit = 0;
  const std::string& v = it->second;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
  if (ec != std::errc() || ptr != v.data() + v.size() || limit < 1 || limit > kMaxPageSize) {
    return InvalidArgument("limit: must be an integer in [1, 500]");
  }
  return limit;
}

Result<std::optional<TimePoint>> QueryTime(const HttpRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return std::optional<TimePoint>();
  Result<TimePoint> t = ParseRfc3339(it->second);
  if (!t.ok()) return InvalidArgument(key + ": " + t.status().message());
  return std::optional<TimePoint>(*t);
}

// The paging and time-window parameters every list takes.
struct PageRequest {
  std::optional<TimePoint> from;
  std::optional<TimePoint> to;
  std::optional<store::Cursor> after;
  int limit = kDefaultPageSize;
};

Result<PageRequest> DecodePage(const HttpRequest& req) {
  PageRequest page;
  ASSIGN_OR_RETURN(page.from, QueryTime(req, "from"));
  ASSIGN_OR_RETURN(page.to, QueryTime(req, "to"));
  ASSIGN_OR_RETURN(page.after, DecodeCursor(req));
  ASSIGN_OR_RETURN(page.limit, DecodeLimit(req));
  return page;
}

std::optional<std::string> QueryText(const HttpRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return std::nullopt;
  return it->second;
}

// A page of items: `rows` holds up to limit + 1 records; the extra one only says "more".
template <typename T, typename Key>
json Page(std::vector<T> rows, int limit, Key key) {
  json out = {{"items", json::array()}, {"next_cursor", nullptr}};
  bool more = static_cast<int>(rows.size()) > limit;
  if (more) rows.resize(limit);
  for (const T& row : rows) out["items"].push_back(Encode(row));
  if (more) {
    auto [time, id] = key(rows.back());
    out["next_cursor"] = EncodeCursor(time, id);
  }
  return out;
}

// The id after `prefix` in `route` ("grading/<id>"), if the route is exactly that.
std::optional<std::string> RouteId(const std::string& route, std::string_view prefix) {
  if (!route.starts_with(prefix) || route.size() == prefix.size()) return std::nullopt;
  std::string rest = route.substr(prefix.size());
  if (rest.find('/') != std::string::npos) return std::nullopt;
  return rest;
}

// The job name in "jobs/<name>/run".
std::optional<std::string> RouteJob(const std::string& route) {
  constexpr std::string_view kPrefix = "jobs/", kSuffix = "/run";
  if (!route.starts_with(kPrefix) || !route.ends_with(kSuffix)) return std::nullopt;
  if (route.size() <= kPrefix.size() + kSuffix.size()) return std::nullopt;
  std::string name = route.substr(kPrefix.size(), route.size() - kPrefix.size() - kSuffix.size());
  if (name.find('/') != std::string::npos) return std::nullopt;
  return name;
}

HttpResponse PublishAnswer(const Result<service::Written<ledger::Publish>>& r) {
  return Answer(r, [](const auto& w) { return Created(w, Encode(w.record)); });
}

}  // namespace

Api::Api(service::Context ctx, ApiOptions options, service::JobControl* jobs)
    : ctx_(ctx),
      options_(options),
      started_at_(ctx.clock.Now()),
      events_(ctx),
      snapshots_(ctx),
      calibration_(ctx),
      sim_runs_(ctx, &calibration_),
      publishing_(ctx),
      grading_(ctx, options.grading),
      rollups_(ctx),
      idempotency_(ctx),
      jobs_(jobs),
      collections_(ctx, options.health_count_budget) {}

HttpResponse Api::Handle(const HttpRequest& req) {
  try {
    if (req.body.size() > options_.max_body_bytes) {
      return Problem(
          Status(StatusCode::kPayloadTooLarge,
                 "body: larger than " + std::to_string(options_.max_body_bytes) + " bytes"));
    }
    if (options_.read_only && req.method != "GET") {
      return Problem(
          Unavailable("method: this server is read-only (it serves GET from a read "
                      "replica); send " +
                      req.method + " to a primary server"));
    }
    if (req.method != "POST" || req.idempotency_key.empty()) return Route(req);
    std::lock_guard<std::mutex> key_lock(
        key_locks_[std::hash<std::string>{}(req.path + " " + req.idempotency_key) %
                   key_locks_.size()]);
    auto stored = idempotency_.Lookup(req.path, req.idempotency_key, req.body);
    if (!stored.ok()) return Problem(stored.status());
    if (*stored) {
      // The stored answer byte for byte; a stored error stays problem+json.
      const service::StoredResponse& answer = **stored;
      return {answer.status, answer.status >= 400 ? "application/problem+json" : "application/json",
              answer.body};
    }
    HttpResponse response = Route(req);
    // Only settled answers are replayed; a 5xx may succeed when retried.
    if (response.status < 500) {
      Status s = idempotency_.Remember(req.path, req.idempotency_key, req.body,
                                       {response.status, response.body});
      if (!s.ok()) return Problem(s);
    }
    return response;
  } catch (const std::exception& e) {
    return Problem(Internal(std::string("unexpected: ") + e.what()));
  }
}

void Api::HandleAsync(HttpRequest req, Reply reply, const Offload& offload) {
  bool async_publish = !options_.read_only && req.method == "POST" && req.idempotency_key.empty() &&
                       req.body.size() <= options_.max_body_bytes &&
                       req.path == std::string(kPrefix) + "publish";
  if (!async_publish) {
    return offload([this, req = std::move(req), reply = std::move(reply)] { reply(Handle(req)); });
  }
  auto decoded = DecodePublish(req.body);
  if (!decoded.ok()) return reply(Problem(decoded.status()));
  publishing_.PublishAsync(std::move(*decoded),
                           [reply = std::move(reply)](const auto& r) { reply(PublishAnswer(r)); });
}

HttpResponse Api::Route(const HttpRequest& req) {
  if (!req.path.starts_with(kPrefix)) {
    return Problem(NotFound("path: no such endpoint " + req.path));
  }
  std::string route = req.path.substr(kPrefix.size());
  if (req.method == "POST") return Post(req, route);
  if (req.method == "GET") return Get(req, route);
  return Problem(NotFound("path: no " + req.method + " endpoint " + req.path));
}

HttpResponse Api::Post(const HttpRequest& req, const std::string& route) {
  if (route == "events") {
    auto decoded = DecodeEvent(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(events_.PutEvent(*decoded),
                  [](const auto& w) { return Created(w, Encode(w.record)); });
  }
  if (route == "capture-snapshot") {
    auto decoded = DecodeCaptureSnapshot(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(snapshots_.CaptureOdds(*decoded), [](const auto& w) {
      json doc = Encode(w.record);
      doc.erase("raw");
      return Created(w, doc);
    });
  }
  if (route == "capture-injury-snapshot") {
    auto decoded = DecodeCaptureInjury(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(snapshots_.CaptureInjury(*decoded),
                  [](const auto& w) { return Created(w, Encode(w.record)); });
  }
  if (route == "sim-runs") {
    auto decoded = DecodeSimRun(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(sim_runs_.Create(*decoded), [](const service::SimRunView& v) {
      json doc = Encode(v);
      doc["prediction_ids"] = json::array();
      for (const auto& p : v.predictions) doc["prediction_ids"].push_back(p.prediction_id);
      return Json(201, doc);
    });
  }
  if (route == "publish") {
    auto decoded = DecodePublish(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return PublishAnswer(publishing_.Publish(*decoded));
  }
  if (route == "event-results") {
    auto decoded = DecodeEventResult(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(events_.RecordResult(*decoded),
                  [](const auto& w) { return Created(w, Encode(w.record)); });
  }
  if (route == "cleanup-snapshots") return CleanupSnapshots(req);
  if (auto id = RouteId(route, "grade-prediction/")) {
    auto graded = grading_.Grade(*id);
    if (graded.ok() && graded->created) RefreshRollupsSoon();
    return Answer(graded, [](const auto& w) { return Created(w, Encode(w.record)); });
  }
  if (route == "grade-all-pending") {
    auto report = grading_.GradeAllPending();
    if (report.ok() && report->graded > 0) RefreshRollupsSoon();
    return Answer(report, [](const auto& r) { return Json(200, Encode(r)); });
  }
  if (auto name = RouteJob(route)) {
    if (jobs_ == nullptr) return Problem(Unavailable("jobs: the scheduler is not running"));
    return Answer(jobs_->RunNow(*name), [](const auto& run) { return Json(200, Encode(run)); });
  }
  if (route == "run-calibration-job") {
    auto decoded = DecodeCalibrationJob(req.body, options_.auto_activate_calibration);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(calibration_.RunJob(*decoded, "api"),
                  [](const auto& r) { return Json(201, Encode(r)); });
  }
  if (auto id = RouteId(route, "activate-calibration/")) {
    auto decoded = DecodeActivation(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(calibration_.Activate(*id, decoded->force, decoded->reason, decoded->actor),
                  [](const auto& a) { return Json(201, Encode(a)); });
  }
  if (route == "apply") {
    auto decoded = DecodeApply(req.body);
    if (!decoded.ok()) return Problem(decoded.status());
    return Answer(
        calibration_.Apply(decoded->sport, decoded->tier, decoded->market, decoded->probabilities),
        [](const auto& a) { return Json(200, Encode(a)); });
  }
  return Problem(NotFound("path: no POST endpoint " + req.path));
}

HttpResponse Api::Get(const HttpRequest& req, const std::string& route) {
  auto tail = [&](std::string_view prefix) { return RouteId(route, prefix); };
  if (route == "health") return Health();
  if (route == "jobs") {
    if (jobs_ == nullptr) return Problem(Unavailable("jobs: the scheduler is not running"));
    return Answer(jobs_->Jobs(), [](const auto& jobs) {
      json items = json::array();
      for (const auto& job : jobs) items.push_back(Encode(job));
      return Json(200, {{"items", items}});
    });
  }
  if (route == "published-predictions") return ListPublished(req);
  if (auto id = tail("snapshots/")) return ListSnapshots(req, *id);
  if (auto id = tail("sim-run/")) {
    return Answer(sim_runs_.Get(*id), [](const auto& v) { return Json(200, Encode(v)); });
  }
  if (auto id = tail("prediction/")) {
    return Answer(sim_runs_.GetPrediction(*id), [](const auto& v) { return Json(200, Encode(v)); });
  }
  if (auto id = tail("grading/")) {
    return Answer(grading_.Get(*id), [](const auto& h) { return Json(200, Encode(h)); });
  }
  if (route == "grading-summary") return GradingSummary(req);
  if (route.starts_with("performance-")) return Performance(req, route);
  if (route == "calibration-versions") {
    auto limit = DecodeLimit(req);
    if (!limit.ok()) return Problem(limit.status());
    return Answer(calibration_.ListVersions(*limit), [](const auto& rows) {
      json items = json::array();
      for (const auto& v : rows) items.push_back(Encode(v));
      return Json(200, {{"items", items}, {"next_cursor", nullptr}});
    });
  }
  if (route == "active-calibration") {
    return Answer(calibration_.Active(), [](const auto& active) {
      if (!active) {
        return Problem(NotFound("active-calibration: no version has been activated"));
      }
      return Json(200, Encode(*active));
    });
  }
  if (auto id = tail("calibration-segments/")) {
    return Answer(calibration_.Segments(*id), [](const auto& rows) {
      json items = json::array();
      for (const auto& s : rows) items.push_back(Encode(s));
      return Json(200, {{"items", items}, {"next_cursor", nullptr}});
    });
  }
  if (route == "reliability") return Reliability(req);
  return Problem(NotFound("path: no GET endpoint " + req.path));
}

HttpResponse Api::Health() {
  Result<service::CollectionSnapshot> collections = collections_.Get();
  if (!collections.ok()) return Problem(collections.status());
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock.Now() - started_at_);
  json doc = {{"status", "ok"},
              {"version", TRUTHBOOK_VERSION},
              {"uptime_seconds", uptime.count()},
              {"database",
               {{"backend", ctx_.store.Backend()},
                {"path", ctx_.store.Location()},
                {"read_only", options_.read_only}}},
              {"collections", collections->counts},
              {"collections_as_of", FormatRfc3339(collections->as_of)},
              {"scheduler", SchedulerHealth()}};
  return Json(200, doc);
}

// The seed's block (running, next_calibration, next_grading) plus each job's last run.
json Api::SchedulerHealth() {
  json block = {{"running", false},
                {"next_calibration", nullptr},
                {"next_grading", nullptr},
                {"last_runs", json::object()}};
  if (jobs_ == nullptr) return block;
  block["running"] = jobs_->running();
  Result<std::vector<service::JobInfo>> jobs = jobs_->Jobs();
  if (!jobs.ok()) return block;
  for (const service::JobInfo& job : *jobs) {
    json next = job.next_run ? json(FormatRfc3339(*job.next_run)) : json(nullptr);
    if (job.name == "calibration") block["next_calibration"] = next;
    if (job.name == "grading") block["next_grading"] = next;
    block["last_runs"][job.name] = job.last_run ? Encode(*job.last_run) : json(nullptr);
  }
  return block;
}

void Api::RefreshRollupsSoon() {
  if (jobs_ != nullptr) jobs_->RunSoon("rollups");
}

HttpResponse Api::ListSnapshots(const HttpRequest& req, const std::string& event_id) {
  auto page = DecodePage(req);
  if (!page.ok()) return Problem(page.status());
  store::SnapshotQuery q{
      event_id,    QueryText(req, "book"), QueryText(req, "market"), page->from, page->to,
      page->after, page->limit + 1};
  return Answer(snapshots_.ListOdds(q), [&](const auto& rows) {
    return Json(200, Page(rows, page->limit, [](const ledger::OddsSnapshot& s) {
                  return std::pair(s.captured_at, s.snapshot_id);
                }));
  });
}

HttpResponse Api::ListPublished(const HttpRequest& req) {
  auto page = DecodePage(req);
  if (!page.ok()) return Problem(page.status());
  store::PublishedQuery q{
      QueryText(req, "sport"), QueryText(req, "channel"), page->from, page->to, page->after,
      page->limit + 1};
  return Answer(publishing_.List(q), [&](const auto& rows) {
    return Json(200, Page(rows, page->limit, [](const ledger::Publish& p) {
                  return std::pair(p.published_at, p.publish_id);
                }));
  });
}

HttpResponse Api::GradingSummary(const HttpRequest& req) {
  auto from = QueryTime(req, "from");
  if (!from.ok()) return Problem(from.status());
  auto to = QueryTime(req, "to");
  if (!to.ok()) return Problem(to.status());
  if (auto market = QueryText(req, "market")) {
    if (Status s = service::ValidateMarket("market", *market); !s.ok()) return Problem(s);
  }
  store::GradingQuery q{QueryText(req, "sport"),
                        QueryText(req, "league"),
                        QueryText(req, "market"),
                        QueryText(req, "tier"),
                        QueryText(req, "channel"),
                        QueryText(req, "book"),
                        *from,
                        *to};
  return Answer(grading_.Summary(q), [](const auto& s) { return Json(200, Encode(s)); });
}

// performance-summary, performance-by-{sport,tier,market} and performance-rollup/{key}
// (docs/PERFORMANCE.md): window, from, to, and a filter per dimension.
HttpResponse Api::Performance(const HttpRequest& req, const std::string& route) {
  service::PerformanceQuery q;
  if (auto window = QueryText(req, "window")) {
    auto parsed = service::ParseRollupWindow(*window);
    if (!parsed.ok()) return Problem(parsed.status());
    q.window = *parsed;
  }
  auto from = QueryTime(req, "from");
  if (!from.ok()) return Problem(from.status());
  auto to = QueryTime(req, "to");
  if (!to.ok()) return Problem(to.status());
  q.from = *from;
  q.to = *to;
  service::RollupKey filter;
  for (size_t d = 0; d < service::kRollupDimNames.size(); ++d) {
    filter.values[d] = QueryText(req, std::string(service::kRollupDimNames[d]));
  }
  auto list = [](const auto& rows) {
    json items = json::array();
    for (const auto& p : rows) items.push_back(Encode(p));
    return Json(200, {{"items", items}});
  };
  auto one = [](const auto& p) { return Json(200, Encode(p)); };
  if (route == "performance-summary") return Answer(rollups_.Get(filter, q), one);
  if (route == "performance-by-sport") {
    return Answer(rollups_.GroupBy(service::RollupDim::kSport, filter, q), list);
  }
  if (route == "performance-by-tier") {
    return Answer(rollups_.GroupBy(service::RollupDim::kTier, filter, q), list);
  }
  if (route == "performance-by-market") {
    return Answer(rollups_.GroupBy(service::RollupDim::kMarket, filter, q), list);
  }
  if (auto text = RouteId(route, "performance-rollup/")) {
    auto key = service::ParseRollupKey(*text);
    if (!key.ok()) return Problem(key.status());
    const std::optional<std::string> history = QueryText(req, "history");
    if (history && *history != "true" && *history != "false") {
      return Problem(InvalidArgument("history: must be true or false"));
    }
    if (history == "true") {
      auto series = rollups_.History(*key, q);
      if (!series.ok()) return Problem(series.status());
      auto current = rollups_.Get(*key, q);
      return Answer(current, [&](const auto& p) {
        json doc = Encode(p);
        doc["history"] = json::array();
        for (const auto& point : *series) doc["history"].push_back(Encode(point));
        return Json(200, doc);
      });
    }
    return Answer(rollups_.Get(*key, q), one);
  }
  return Problem(NotFound("path: no GET endpoint " + req.path));
}

HttpResponse Api::Reliability(const HttpRequest& req) {
  std::optional<std::string> version = QueryText(req, "version");
  if (!version) {
    auto active = calibration_.Active();
    if (!active.ok()) return Problem(active.status());
    if (!*active) return Problem(NotFound("version: required (no version is active)"));
    version = (*active)->version.calibration_version_id;
  }
  std::string segment = QueryText(req, "segment").value_or("global");
  return Answer(calibration_.Segment(*version, segment), [](const auto& s) {
    json metrics = json::parse(s.metrics_json, nullptr, false);
    return Json(200, {{"calibration_version_id", s.calibration_version_id},
                      {"segment", s.segment_key},
                      {"fitted_on", s.fitted_on},
                      {"metrics", metrics},
                      {"bins", json::parse(s.bins_json, nullptr, false)}});
  });
}

HttpResponse Api::CleanupSnapshots(const HttpRequest& req) {
  std::chrono::days retention = options_.snapshot_retention;
  if (!req.body.empty()) {
    auto doc = JsonObject::ParseBody(req.body);
    if (!doc.ok()) return Problem(doc.status());
    auto days = JsonObject(*doc, "").OptInteger("retention_days");
    if (!days.ok()) return Problem(days.status());
    if (*days) {
      if (**days < 1 || **days > 36500) {
        return Problem(InvalidArgument("retention_days: must be in [1, 36500]"));
      }
      retention = std::chrono::days(**days);
    }
  }
  return Answer(snapshots_.Cleanup(retention),
                [](const auto& audit) { return Json(200, Encode(audit)); });
}

}  // namespace truthbook::api
