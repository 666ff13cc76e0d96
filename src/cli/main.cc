// truthbook: the server and the command line. Wiring only: parse flags, open the store, build
// the services and the HTTP server, wait for SIGINT/SIGTERM; or run a pure tool (odds, calib,
// cron) and print its answer (text, or one JSON document with --json). Usage errors exit 2.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "api/http_server.h"
#include "base/clock.h"
#include "base/uuid.h"
#include "cli/calib_commands.h"
#include "cli/cron_commands.h"
#include "cli/odds_commands.h"
#include "grading/outcome.h"
#include "odds/devig.h"
#include "scheduler/jobs.h"
#include "scheduler/scheduler.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/schema.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using truthbook::Status;
using truthbook::cli::kUsageError;
using truthbook::cli::OddsConvert;
using truthbook::cli::OddsDevig;
using truthbook::cli::UsageError;

constexpr char kDbHelp[] =
    "SQLite database file, or a PostgreSQL URI (postgresql://...) or conninfo (host=...) "
    "(env TRUTHBOOK_DB)";

std::string DefaultDb() {
  const char* env = std::getenv("TRUTHBOOK_DB");
  return env != nullptr ? env : "data/truthbook.db";
}

Status EnsureParentDir(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return truthbook::Unavailable("db: cannot create " + parent.string() + ": " + ec.message());
  return Status::Ok();
}

// Opens the store `db` names: a PostgreSQL server for a postgresql:// or postgres:// URI or a
// conninfo with host=, else a SQLite file (its directory created if needed). `on_table` (may
// be empty) hears each table name. `read_only`: a PostgreSQL read replica.
truthbook::Result<std::unique_ptr<truthbook::store::Store>> OpenStore(
    const std::string& db, const truthbook::Clock& clock,
    const std::function<void(const std::string&)>& on_table = {}, bool read_only = false) {
  using truthbook::store::postgres::PostgresStore;
  using truthbook::store::sqlite::SqliteStore;
  if (PostgresStore::IsConninfo(db)) {
    ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store,
                     PostgresStore::Open(db, clock, {.read_only = read_only}, on_table));
    return std::unique_ptr<truthbook::store::Store>(std::move(store));
  }
  RETURN_IF_ERROR(EnsureParentDir(db));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(db, clock, {}, on_table));
  return std::unique_ptr<truthbook::store::Store>(std::move(store));
}

// Creates or migrates `db`; on PostgreSQL, then grants `app_role` (when set) what a server
// needs (docs/DEPLOYMENT.md).
int InitDb(const std::string& db, const std::string& app_role) {
  using truthbook::store::postgres::PostgresStore;
  if (!app_role.empty() && !PostgresStore::IsConninfo(db)) {
    return UsageError("--grant-app-role: only a PostgreSQL database has roles");
  }
  truthbook::SystemClock clock;
  auto store = OpenStore(db, clock,
                         [](const std::string& table) { std::cout << "table " << table << "\n"; });
  Status granted = store.status();
  if (store.ok() && !app_role.empty()) {
    auto conn = truthbook::store::postgres::Connection::Open(db);
    granted =
        conn.ok() ? truthbook::store::postgres::GrantAppRole(**conn, app_role) : conn.status();
  }
  if (!granted.ok()) {
    std::cerr << granted.ToString() << "\n";
    return granted.code() == truthbook::StatusCode::kInvalidArgument ? kUsageError : 1;
  }
  std::cout << "database ready: " << (*store)->Location() << "\n";
  if (!app_role.empty()) std::cout << "granted to " << app_role << "\n";
  return 0;
}

// How long a stop waits for a running job before giving up on it.
constexpr std::chrono::minutes kJobStopTimeout{10};

int Serve(const std::string& db, const truthbook::api::HttpServerOptions& http,
          const truthbook::api::ApiOptions& options, truthbook::scheduler::JobSettings jobs,
          truthbook::scheduler::SchedulerOptions scheduler_options) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  truthbook::SystemClock clock;
  truthbook::UuidV7Generator ids(clock);
  auto store = OpenStore(db, clock, {}, options.read_only);
  if (!store.ok()) {
    spdlog::error("{}", store.status().ToString());
    return 1;
  }
  truthbook::service::Context ctx{**store, clock, ids};
  jobs.grading = options.grading;
  jobs.calibration.auto_activate = options.auto_activate_calibration;
  // A read-only server runs no jobs: they write.
  auto scheduler = truthbook::scheduler::Scheduler::Create(
      **store, clock, ids,
      options.read_only ? std::vector<truthbook::scheduler::Job>{}
                        : truthbook::scheduler::StandardJobs(ctx, jobs),
      scheduler_options);
  if (!scheduler.ok()) {
    spdlog::error("{}", scheduler.status().ToString());
    return kUsageError;
  }
  truthbook::api::Api api(ctx, options, options.read_only ? nullptr : scheduler->get());
  auto server = truthbook::api::HttpServer::Start(api, http);
  if (!server.ok()) {
    spdlog::error("{}", server.status().ToString());
    return 1;
  }
  (*scheduler)->Start();
  spdlog::info("truthbook {} serving http://{}:{}/api/calibration/ on {} {}", TRUTHBOOK_VERSION,
               http.host, http.port, (*store)->Backend(), (*store)->Location());
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}: stopping", signal);
  // Requests in flight first (a manual job run among them), then the scheduler's running job.
  (*server)->Stop();
  if (!(*scheduler)->Stop(kJobStopTimeout)) {
    spdlog::error("a job was still running after {} minutes; exiting without it",
                  kJobStopTimeout.count());
    std::_Exit(1);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"truthbook: the record of truth for a sports-prediction engine"};
  app.set_version_flag("--version", std::string("truthbook ") + TRUTHBOOK_VERSION);
  app.require_subcommand(1);

  std::string db = DefaultDb();
  truthbook::api::HttpServerOptions http;
  CLI::App* serve = app.add_subcommand("serve", "Serve the HTTP API");
  serve->add_option("--db", db, kDbHelp)->capture_default_str();
  serve->add_option("--host", http.host, "Address to listen on")->capture_default_str();
  serve->add_option("--port", http.port, "Port to listen on")->capture_default_str();
  serve->add_option("--io-threads", http.io_threads, "Network threads (they never block)")
      ->capture_default_str();
  serve->add_option("--threads", http.threads, "Worker threads for requests that may block")
      ->capture_default_str();

  std::string units = "risk";
  std::string clv_devig = "multiplicative";
  std::string closing_book;
  int void_window_hours = 48;
  serve->add_option("--units", units, "Stake convention: risk (1u risked) or to_win (to win 1u)")
      ->capture_default_str();
  serve->add_option("--closing-book", closing_book,
                    "Book whose closing line CLV uses (default: the book of the price taken)");
  serve->add_option("--clv-devig", clv_devig, "De-vig method of the closing market")
      ->capture_default_str();
  serve
      ->add_option("--void-window-hours", void_window_hours,
                   "A postponed event is VOID this long after its scheduled start")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 365));

  bool auto_activate = false;
  serve->add_flag("--auto-activate-calibration", auto_activate,
                  "run-calibration-job activates a version whose gates all pass");

  truthbook::scheduler::JobSettings job_settings;
  truthbook::scheduler::SchedulerOptions scheduler_options;
  scheduler_options.instance = "truthbook-" + std::to_string(::getpid());
  int retention_days = 0;
  int grace_minutes = 360;
  serve
      ->add_option("--calibration-schedule", job_settings.calibration_schedule,
                   "Cron (UTC) of the calibration job")
      ->capture_default_str();
  serve
      ->add_option("--calibration-training-days", job_settings.calibration.training_days,
                   "The calibration job trains on this many days of graded publishes")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  serve
      ->add_option("--calibration-method", job_settings.calibration.method,
                   "isotonic|platt|temperature|beta")
      ->capture_default_str();
  serve
      ->add_option("--grading-schedule", job_settings.grading_schedule,
                   "Cron (UTC) of the grading job (grade-all-pending, then rollups)")
      ->capture_default_str();
  serve
      ->add_option("--rollups-schedule", job_settings.rollups_schedule,
                   "Cron (UTC) of the rollups refresh")
      ->capture_default_str();
  serve
      ->add_option("--retention-schedule", job_settings.retention_schedule,
                   "Cron (UTC) of snapshot retention cleanup")
      ->capture_default_str();
  serve
      ->add_option("--snapshot-retention-days", retention_days,
                   "Enable the retention job: delete unreferenced odds snapshots older than this")
      ->check(CLI::Range(1, 36500));
  serve
      ->add_option("--scheduler-grace-minutes", grace_minutes,
                   "A slot missed by at most this much runs once at start-up")
      ->capture_default_str()
      ->check(CLI::Range(0, 60 * 24 * 31));

  int health_count_budget_ms = 100;
  serve
      ->add_option("--health-count-budget-ms", health_count_budget_ms,
                   "GET health recounts rows on each call while that takes at most this long; "
                   "past it, the last count is served and rows are recounted in the background")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000));

  bool read_only = false;
  serve->add_flag("--read-only", read_only,
                  "Serve GET only, from a PostgreSQL read replica; no jobs run");

  CLI::App* init_db = app.add_subcommand("init-db", "Create or migrate the database");
  init_db->add_option("--db", db, kDbHelp)->capture_default_str();
  std::string app_role;
  init_db->add_option("--grant-app-role", app_role,
                      "PostgreSQL: grant this role what a server needs, and no edits");

  CLI::App* odds = app.add_subcommand("odds", "Price conversions and margin removal");
  odds->require_subcommand(1);
  bool json = false;
  std::string from;
  std::vector<std::string> values;
  CLI::App* convert = odds->add_subcommand("convert", "Print one price in every format");
  convert->add_option("--from", from, "american|decimal|fractional|hk|malay|indonesian")
      ->required();
  convert->add_option("value", values, "The price, e.g. -110, 2.5, 6/4");
  convert->add_flag("--json", json, "Print one JSON document");
  // CLI11 2.1 reads "-110" as the short option "-1"; keeping unknown options as extras and
  // taking them as values lets negative prices through.
  convert->allow_extras();

  std::string method;
  std::vector<std::string> prices;
  CLI::App* devig = odds->add_subcommand("devig", "Fair probabilities of a market");
  devig->add_option("--method", method, "multiplicative|additive|power|shin|odds_ratio")
      ->required();
  devig->add_option("prices", prices, "Decimal prices D1 D2 [D3...]");
  devig->add_flag("--json", json, "Print one JSON document");

  CLI::App* calib = app.add_subcommand("calib", "Fit, apply and measure calibration");
  calib->require_subcommand(1);
  std::string calib_method;
  std::string model;
  bool weights = false;
  int bins = 10;
  bool adaptive = false;
  CLI::App* fit = calib->add_subcommand("fit", "Fit a calibrator to p,y[,w] CSV on stdin");
  fit->add_option("--method", calib_method, "isotonic|platt|temperature|beta")->required();
  fit->add_flag("--weights", weights, "The CSV has a third column: the weight");
  fit->add_option("--out", model, "Where to write the model (JSON)")->required();
  fit->add_flag("--json", json, "Print one JSON document");
  CLI::App* apply = calib->add_subcommand("apply", "Calibrate one p per line on stdin");
  apply->add_option("--model", model, "A model written by calib fit")->required();
  CLI::App* metrics = calib->add_subcommand("metrics", "Calibration metrics of p,y[,w] on stdin");
  metrics->add_option("--bins", bins, "Bins of the ECE family")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  metrics->add_flag("--adaptive", adaptive, "List equal-mass bins instead of equal-width ones");
  metrics->add_flag("--json", json, "Print one JSON document");

  CLI::App* cron = app.add_subcommand("cron", "Check a UTC cron schedule");
  cron->require_subcommand(1);
  std::string cron_expr;
  std::string cron_from;
  int cron_count = truthbook::cli::kCronDefaultCount;
  CLI::App* cron_next = cron->add_subcommand("next", "Print the next fire times of EXPR");
  cron_next->add_option("expr", cron_expr, "Cron expression in one argument, e.g. \"0 3 * * 0\"")
      ->required();
  CLI::Option* cron_from_option =
      cron_next->add_option("--from", cron_from, "RFC 3339 time to start after (default: now)");
  cron_next->add_option("--count", cron_count, "How many fire times")
      ->capture_default_str()
      ->check(CLI::Range(truthbook::cli::kCronMinCount, truthbook::cli::kCronMaxCount));
  cron_next->add_flag("--json", json, "Print one JSON document");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);  // prints the message
    return kUsageError;
  }
  if (*serve) {
    truthbook::api::ApiOptions options;
    auto convention = truthbook::grading::ParseStakeConvention(units);
    if (!convention.ok()) return UsageError("--units: " + convention.status().message());
    auto devig_method = truthbook::odds::ParseDevigMethod(clv_devig);
    if (!devig_method.ok()) return UsageError("--clv-devig: " + devig_method.status().message());
    options.grading.stake_convention = *convention;
    options.grading.devig_method = *devig_method;
    if (!closing_book.empty()) options.grading.closing_book = closing_book;
    options.grading.void_window = std::chrono::hours(void_window_hours);
    options.auto_activate_calibration = auto_activate;
    options.read_only = read_only;
    options.health_count_budget = std::chrono::milliseconds(health_count_budget_ms);
    if (read_only && !truthbook::store::postgres::PostgresStore::IsConninfo(db)) {
      return UsageError("--read-only: serves a PostgreSQL read replica; --db names no server");
    }
    if (retention_days > 0) {
      job_settings.retention_enabled = true;
      job_settings.retention = std::chrono::days(retention_days);
    }
    scheduler_options.grace = std::chrono::minutes(grace_minutes);
    return Serve(db, http, options, job_settings, scheduler_options);
  }
  if (*init_db) return InitDb(db, app_role);
  if (*convert) {
    for (const std::string& extra : convert->remaining()) {
      if (extra.starts_with("--")) return UsageError("odds convert: unknown option " + extra);
      values.push_back(extra);
    }
    if (values.size() != 1) {
      return UsageError("odds convert: expected exactly one VALUE, got " +
                        std::to_string(values.size()));
    }
    return OddsConvert(from, values[0], json);
  }
  if (*devig) return OddsDevig(method, prices, json);
  if (*fit) return truthbook::cli::CalibFit(std::cin, calib_method, weights, model, json);
  if (*apply) return truthbook::cli::CalibApply(std::cin, model);
  if (*metrics) return truthbook::cli::CalibMetrics(std::cin, bins, adaptive, json);
  if (*cron_next) {
    truthbook::SystemClock clock;
    std::optional<std::string> start;
    if (*cron_from_option) start = cron_from;
    return truthbook::cli::CronNext(cron_expr, start, cron_count, json, clock);
  }
  return 1;
}
