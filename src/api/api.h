// The HTTP API under /api/calibration/ as plain request -> response: routes, decoding,
// service calls and problem+json errors, with no HTTP library type in sight (the RESTinio
// adapter is http_server.cc). Handlers hold no domain logic. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "service/calibration_service.h"
#include "service/collection_counts.h"
#include "service/context.h"
#include "service/event_service.h"
#include "service/grading_service.h"
#include "service/idempotency_service.h"
#include "service/job_control.h"
#include "service/publish_service.h"
#include "service/rollup_service.h"
#include "service/sim_run_service.h"
#include "service/snapshot_service.h"

namespace truthbook::api {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string path;    // decoded path without the query
  std::map<std::string, std::string> query;
  std::string body;
  std::string idempotency_key;  // empty when the header is absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ApiOptions {
  // Largest accepted request body; larger gets 413. Default 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // Default retention for cleanup-snapshots when the body names none. Default 90 days.
  std::chrono::days snapshot_retention{90};
  // Settings of grading (units convention, closing book, de-vig method, void window).
  service::GradingOptions grading;
  // run-calibration-job activates a version whose gates pass unless the body says otherwise.
  // Default false: a person activates.
  bool auto_activate_calibration = false;
  // Serve GET only (a server on a read replica): anything else gets 503 problem+json that
  // says to send it to a primary server. Default false.
  bool read_only = false;
  // GET health recounts every table on each call while that takes at most this long; past
  // it, health serves the last count (collections_as_of) and recounts in the background.
  std::chrono::milliseconds health_count_budget{100};
};

class Api {
 public:
  // `jobs` (nullable: no scheduler) answers GET jobs, POST jobs/{name}/run and health's
  // scheduler block, and refreshes the rollups after grading.
  Api(service::Context ctx, ApiOptions options, service::JobControl* jobs = nullptr);
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  using Reply = std::function<void(HttpResponse)>;
  // Runs a task on a thread that may block (waiting for the store).
  using Offload = std::function<void(std::function<void()>)>;

  // Answers one request. Never throws; every error is application/problem+json.
  HttpResponse Handle(const HttpRequest& req);

  // The same answer, handed to `reply` once ready, without blocking the calling thread. A
  // publish (without Idempotency-Key) goes to the store at once and is answered from the
  // store's completion thread after the commit; anything else runs through `offload`.
  void HandleAsync(HttpRequest req, Reply reply, const Offload& offload);

 private:
  HttpResponse Route(const HttpRequest& req);
  HttpResponse Post(const HttpRequest& req, const std::string& route);
  HttpResponse Get(const HttpRequest& req, const std::string& route);

  HttpResponse Health();
  nlohmann::json SchedulerHealth();
  void RefreshRollupsSoon();
  HttpResponse ListSnapshots(const HttpRequest& req, const std::string& event_id);
  HttpResponse ListPublished(const HttpRequest& req);
  HttpResponse CleanupSnapshots(const HttpRequest& req);
  HttpResponse GradingSummary(const HttpRequest& req);
  HttpResponse Performance(const HttpRequest& req, const std::string& route);
  HttpResponse Reliability(const HttpRequest& req);

  service::Context ctx_;
  ApiOptions options_;
  TimePoint started_at_;
  service::EventService events_;
  service::SnapshotService snapshots_;
  service::CalibrationService calibration_;  // before sim_runs_, which borrows it
  service::SimRunService sim_runs_;
  service::PublishService publishing_;
  service::GradingService grading_;
  service::RollupService rollups_;
  service::IdempotencyService idempotency_;
  service::JobControl* jobs_;  // may be null
  service::CollectionCounts collections_;
  // Requests with one Idempotency-Key run one at a time (lookup, route, remember), so that
  // concurrent retries get the stored answer instead of racing. Striped by key hash.
  std::array<std::mutex, 64> key_locks_;
};

}  // namespace truthbook::api
