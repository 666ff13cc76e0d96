#include "server_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <latch>
#include <optional>
#include <sstream>
#include <thread>

#include "store/postgres/connection.h"
#include "store/postgres/postgres_store.h"

#ifndef TRUTHBOOK_BIN
#error "define TRUTHBOOK_BIN as the path of the truthbook binary"
#endif

namespace truthbook::test_support {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr auto kStartDeadline = std::chrono::seconds(30);
constexpr auto kStopDeadline = std::chrono::seconds(20);

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Closes the descriptor on every path out of SendHttp.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A port that was free a moment ago: bind port 0 and read back what the kernel chose.
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FdCloser closer{fd};
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses a complete or partial answer; returns true once `raw` holds all of it.
bool ParseResponse(const std::string& raw, bool at_eof, HttpResult& out) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  std::istringstream status_line(line);
  std::string version;
  status_line >> version >> out.status;
  std::optional<size_t> content_length;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (name == "content-type") out.content_type = value;
    if (name == "content-length") content_length = std::stoul(value);
  }
  size_t body_start = head_end + 4;
  if (content_length) {
    if (raw.size() < body_start + *content_length) return false;
    out.body = raw.substr(body_start, *content_length);
    return true;
  }
  if (!at_eof) return false;
  out.body = raw.substr(body_start);
  return true;
}

}  // namespace

json HttpResult::Json() const { return json::parse(body, nullptr, /*allow_exceptions=*/false); }

HttpResult SendHttp(uint16_t port, std::string_view method, std::string_view path,
                    std::string_view body, const Headers& headers, int timeout_ms) {
  HttpResult out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FdCloser closer{fd};
  if (fd < 0) {
    out.error = Errno("socket");
    return out;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr = Loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    out.error = Errno("connect");
    return out;
  }
  std::string request = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\n" +
                        "Host: 127.0.0.1:" + std::to_string(port) + "\r\n" +
                        "Connection: close\r\n" + "Content-Length: " + std::to_string(body.size()) +
                        "\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  request += body;
  // A server may answer (e.g. 413) and close before reading everything: keep going to read.
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = Errno("recv");
      break;
    }
    if (n > 0) raw.append(buffer, static_cast<size_t>(n));
    if (ParseResponse(raw, n == 0, out)) return out;
    if (n == 0) {
      out.error = "connection closed after " + std::to_string(raw.size()) + " bytes";
      break;
    }
  }
  out.status = 0;
  return out;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base ? base : "/tmp") + "/truthbook-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << Errno("mkdtemp");
    return;
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::cerr << "kept test directory " << path_ << " (server.log inside)\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  int status = Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "server did not stop cleanly on SIGTERM (wait status " << status << "):\n"
      << Log();
}

::testing::AssertionResult ServerProcess::UsePostgres() {
  std::optional<std::string> server = PostgresServer();
  if (!server) return ::testing::AssertionFailure() << kNoPostgres;
  Result<std::unique_ptr<ScratchDatabase>> scratch = ScratchDatabase::Create(*server);
  if (!scratch.ok()) return ::testing::AssertionFailure() << scratch.status().ToString();
  scratch_ = std::move(*scratch);
  db_ = scratch_->conninfo();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServerProcess::CopyDatabase(const ServerProcess& other) {
  if (other.scratch_ != nullptr) {
    Result<std::unique_ptr<ScratchDatabase>> copy =
        ScratchDatabase::Create(*PostgresServer(), other.scratch_->name());
    if (!copy.ok()) return ::testing::AssertionFailure() << copy.status().ToString();
    scratch_ = std::move(*copy);
    db_ = scratch_->conninfo();
    return ::testing::AssertionSuccess();
  }
  std::error_code error;
  for (const char* suffix : {"", "-wal"}) {
    std::filesystem::path from = other.db() + suffix;
    if (!std::filesystem::exists(from)) continue;
    std::filesystem::copy_file(from, db_path().string() + suffix, error);
    if (error) return ::testing::AssertionFailure() << "copy " << from << ": " << error.message();
  }
  db_ = db_path().string();
  return ::testing::AssertionSuccess();
}

bool ServerProcess::postgres() const { return store::postgres::PostgresStore::IsConninfo(db_); }

::testing::AssertionResult ServerProcess::Start() {
  if (pid_ > 0) return ::testing::AssertionFailure() << "server already running";
  if (db_.empty()) {
    const char* backend = std::getenv("TRUTHBOOK_TEST_BACKEND");
    if (backend != nullptr && std::string_view(backend) == "postgresql") {
      if (auto used = UsePostgres(); !used) return used;
    } else {
      db_ = db_path().string();
    }
  }
  // Another process may take the free port before the server binds it: then the server exits
  // at start-up and is started again on another port.
  ::testing::AssertionResult started = ::testing::AssertionFailure();
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool exited = false;
    started = StartOnce(exited);
    if (started || !exited) break;
  }
  return started;
}

::testing::AssertionResult ServerProcess::StartOnce(bool& exited) {
  port_ = FreePort();
  if (port_ == 0) return ::testing::AssertionFailure() << Errno("no free port");
  std::string log_path = (dir() / "server.log").string();
  std::vector<std::string> args = {TRUTHBOOK_BIN, "serve",     "--db",   db_,
                                   "--host",      "127.0.0.1", "--port", std::to_string(port_)};
  args.insert(args.end(), serve_flags_.begin(), serve_flags_.end());
  // RowCounts needs exact, current counts, even on a machine so busy that counting the rows
  // takes longer than the 100 ms after which health answers from its last count.
  if (std::ranges::find(serve_flags_, "--health-count-budget-ms") == serve_flags_.end()) {
    args.insert(args.end(), {"--health-count-budget-ms", "600000"});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ::testing::AssertionFailure() << Errno("open server.log");
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test binary
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  if (pid < 0) return ::testing::AssertionFailure() << Errno("fork");
  pid_ = pid;

  auto deadline = Clock::now() + kStartDeadline;
  std::string last_error;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exited = true;
      return ::testing::AssertionFailure()
             << "server exited during start-up (wait status " << status << "):\n"
             << Log();
    }
    HttpResult health = SendHttp(port_, "GET", "/api/calibration/health", "", {}, 2000);
    // The database tells our server from any other that took the port.
    json doc = health.Json();
    if (health.status == 200 && doc.is_object() && doc["database"].is_object() &&
        doc["database"].value("path", "") ==
            (postgres() ? store::postgres::RedactConninfo(db_) : db_)) {
      return ::testing::AssertionSuccess();
    }
    last_error = health.status != 0 ? "status " + std::to_string(health.status) : health.error;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill(SIGKILL);
  return ::testing::AssertionFailure()
         << "server not healthy within " << kStartDeadline.count() << " s (" << last_error << "):\n"
         << Log();
}

int ServerProcess::Kill(int signal) {
  if (pid_ <= 0) return 0;
  int status = 0;
  kill(pid_, signal);
  auto deadline = Clock::now() + kStopDeadline;
  while (Clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "server ignored signal " << signal << " for " << kStopDeadline.count()
                << " s; killing it";
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

::testing::AssertionResult ServerProcess::Restart() {
  if (pid_ > 0) {
    int status = Kill(SIGTERM);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return ::testing::AssertionFailure() << "unclean stop (wait status " << status << ")";
    }
  }
  return Start();
}

std::string ServerProcess::Log() const {
  std::ifstream in(dir() / "server.log");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  constexpr size_t kTail = 8000;
  return s.size() > kTail ? "..." + s.substr(s.size() - kTail) : s;
}

HttpResult ServerProcess::Request(std::string_view method, std::string_view path,
                                  std::string_view body, const Headers& headers) const {
  return SendHttp(port_, method, path, body, headers);
}

HttpResult ServerProcess::Get(std::string_view route) const {
  return Request("GET", std::string(kApiPrefix) + std::string(route));
}

HttpResult ServerProcess::Post(std::string_view route, const json& body,
                               const Headers& headers) const {
  return PostRaw(route, body.dump(), headers);
}

HttpResult ServerProcess::PostRaw(std::string_view route, std::string_view body,
                                  const Headers& headers) const {
  return Request("POST", std::string(kApiPrefix) + std::string(route), body, headers);
}

std::map<std::string, int64_t> ServerProcess::RowCounts() const {
  HttpResult health = Get("health");
  json doc = health.Json();
  if (health.status != 200 || !doc.is_object() || !doc.contains("collections")) {
    ADD_FAILURE() << "GET health: " << health.status << " " << health.error << " " << health.body;
    return {};
  }
  auto counts = doc["collections"].get<std::map<std::string, int64_t>>();
  for (const char* table : {"job_runs", "performance_rollups", "rollup_state"}) counts.erase(table);
  return counts;
}

std::vector<HttpResult> PostConcurrently(const std::vector<const ServerProcess*>& servers,
                                         std::string_view route, int n,
                                         const std::function<json(int)>& body_for) {
  std::vector<HttpResult> results(n);
  std::latch start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      std::string body = body_for(i).dump();
      start.arrive_and_wait();
      results[i] = servers[i % servers.size()]->PostRaw(route, body);
    });
  }
  for (std::thread& t : threads) t.join();
  return results;
}

json PostExpect(const ServerProcess& server, std::string_view route, const json& body, int status,
                const Headers& headers) {
  HttpResult r = server.Post(route, body, headers);
  EXPECT_EQ(r.status, status) << "POST " << route << ": " << r.error << r.body;
  return r.Json();
}

json GetOk(const ServerProcess& server, std::string_view route) {
  HttpResult r = server.Get(route);
  EXPECT_EQ(r.status, 200) << "GET " << route << ": " << r.error << r.body;
  EXPECT_EQ(r.content_type, "application/json") << route;
  return r.Json();
}

void ExpectProblem(const HttpResult& r, int status, std::string_view detail) {
  EXPECT_EQ(r.status, status) << r.error << r.body;
  EXPECT_EQ(r.content_type, "application/problem+json") << r.body;
  json problem = r.Json();
  ASSERT_TRUE(problem.is_object()) << r.body;
  EXPECT_EQ(problem["status"], status) << r.body;
  EXPECT_TRUE(problem["type"].is_string()) << r.body;
  EXPECT_TRUE(problem["title"].is_string()) << r.body;
  EXPECT_NE(problem.value("detail", "").find(detail), std::string::npos)
      << "detail should name " << detail << ": " << r.body;
}

void ExpectProblem(const HttpResult& r, int status, std::string_view field,
                   std::string_view detail) {
  ExpectProblem(r, status, detail);
  const json problem = r.Json();
  EXPECT_TRUE(problem.is_object() &&
              problem.value("detail", "").starts_with(std::string(field) + ":"))
      << "detail should name " << field << ": " << r.body;
}

json EventBody(const std::string& event_id, const std::string& start_time,
               const std::string& sport) {
  return {{"event_id", event_id},     {"sport", sport},       {"league", sport},
          {"season", "2026-27"},      {"home_team", "BOS"},   {"away_team", "LAL"},
          {"start_time", start_time}, {"status", "scheduled"}};
}

json OddsSnapshotBody(const std::string& event_id, const std::string& captured_at,
                      const std::string& book, const std::string& market) {
  json quotes = json::array();
  if (market == "moneyline") {
    quotes = {{{"selection", "home"}, {"price", {{"american", -150}}}},
              {{"selection", "away"}, {"price", {{"decimal", 2.5}}}}};
  } else {
    quotes = {{{"selection", "home"}, {"line", -3.5}, {"price", {{"american", -110}}}},
              {{"selection", "away"}, {"line", 3.5}, {"price", {{"american", -110}}}}};
  }
  return {{"event_id", event_id},
          {"book", book},
          {"market", market},
          {"captured_at", captured_at},
          {"quotes", quotes},
          {"raw", {{"any", "payload exactly as the provider sent it"}, {"book", book}}}};
}

json InjurySnapshotBody(const std::string& event_id) {
  return {{"event_id", event_id},
          {"team", "LAL"},
          {"captured_at", "2026-11-26T17:00:00Z"},
          {"source", "league-feed"},
          {"players", {{{"player", "A. Davis"}, {"status", "questionable"}}}},
          {"raw", json::object()}};
}

json PredictionBody(const std::string& event_id, const std::string& market,
                    const std::string& selection, std::optional<double> line, const json& price,
                    double raw_prob, const std::string& book, const std::string& tier) {
  json p = {{"event_id", event_id}, {"market", market},  {"selection", selection},
            {"price", price},       {"book", book},      {"raw_prob", raw_prob},
            {"tier", tier},         {"stake_units", 1.0}};
  if (line) p["line"] = *line;
  return p;
}

json SimRunWith(const json& predictions, const json& inputs, const std::string& day) {
  return {{"trigger", "scheduled"},
          {"model_version", "v2.1.0"},
          {"feature_set_version", "v1.5"},
          {"decision_policy_version", "v1.0"},
          {"code_version", {{"git_sha", "3f2c1e9"}, {"dirty", false}}},
          {"n_sims", 100000},
          {"rng_seed", 42},
          {"started_at", day + "T18:05:00Z"},
          {"finished_at", day + "T18:06:00Z"},
          {"inputs", inputs},
          {"predictions", predictions}};
}

json SimRunBody(const std::string& event_id, const json& inputs,
                const std::vector<double>& raw_probs) {
  json predictions = json::array();
  for (double p : raw_probs) {
    json prediction = PredictionBody(event_id, "spread", "home", -3.5, {{"american", -110}}, p);
    prediction["calibrated_prob"] = nullptr;
    predictions.push_back(std::move(prediction));
  }
  return SimRunWith(predictions, inputs);
}

json PublishBody(const std::string& prediction_id, const std::string& channel) {
  return {{"prediction_id", prediction_id},
          {"channel", channel},
          {"visibility", "PREMIUM"},
          {"is_official", true}};
}

json ResultBody(const std::string& event_id, int home_score, int away_score) {
  return {{"event_id", event_id},
          {"status", "final"},
          {"home_score", home_score},
          {"away_score", away_score},
          {"player_stats",
           {{{"player", "A. Davis"}, {"stat", "points"}, {"value", 27}, {"played", true}}}}};
}

SeedFlow CreateSeedFlow(const ServerProcess& server, const std::string& event_id,
                        const std::string& start_time, int n_predictions,
                        const std::string& sport) {
  SeedFlow flow;
  flow.event_id = event_id;
  auto expect_written = [](const char* what, const HttpResult& r) {
    bool ok = r.status == 200 || r.status == 201;
    EXPECT_TRUE(ok) << what << ": " << r.status << " " << r.error << " " << r.body;
    return ok;
  };
  if (!expect_written("POST events",
                      server.Post("events", EventBody(event_id, start_time, sport)))) {
    return flow;
  }
  HttpResult odds = server.Post("capture-snapshot", OddsSnapshotBody(event_id));
  if (!expect_written("POST capture-snapshot", odds)) return flow;
  flow.odds_snapshot_id = odds.Json()["snapshot_id"];
  flow.odds_sha256 = odds.Json()["content_sha256"];
  HttpResult injury = server.Post("capture-injury-snapshot", InjurySnapshotBody(event_id));
  if (!expect_written("POST capture-injury-snapshot", injury)) return flow;
  flow.injury_snapshot_id = injury.Json()["snapshot_id"];
  flow.injury_sha256 = injury.Json()["content_sha256"];
  json inputs = {{{"kind", "odds_snapshot"}, {"snapshot_id", flow.odds_snapshot_id}},
                 {{"kind", "injury_snapshot"}, {"snapshot_id", flow.injury_snapshot_id}}};
  std::vector<double> probs;
  for (int i = 0; i < n_predictions; ++i)
    probs.push_back(0.5 + 0.4 * (i + 1) / (n_predictions + 1));
  HttpResult run = server.Post("sim-runs", SimRunBody(event_id, inputs, probs));
  EXPECT_EQ(run.status, 201) << run.body;
  if (run.status != 201) return flow;
  flow.sim_run_id = run.Json()["sim_run_id"];
  flow.prediction_ids = run.Json()["prediction_ids"].get<std::vector<std::string>>();
  return flow;
}

}  // namespace truthbook::test_support
