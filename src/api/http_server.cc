#include "api/http_server.h"

#include <condition_variable>
#include <mutex>
#include <restinio/all.hpp>

#include "api/problem.h"

namespace truthbook::api {
namespace {

using Traits = restinio::default_traits_t;

// RESTinio drops a connection above this size without an answer; Api answers 413 well below.
constexpr uint64_t kTransportBodyLimit = 64ull << 20;

// How long Stop waits for the requests in flight.
constexpr std::chrono::minutes kDrainTimeout{10};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text` once: each %XX becomes its byte; every other character, a '%' not
// followed by two hex digits included, stays as sent. (RESTinio's decoders refuse characters
// such as '|' that clients send unescaped, and rollup keys hold them.)
std::string Decode(restinio::string_view_t text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
        HexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

HttpRequest Translate(const restinio::request_t& req) {
  HttpRequest out;
  out.method = req.header().method().c_str();
  out.path = Decode(req.header().path());
  // Our own split rather than RESTinio's query parser, which refuses a value holding '=' or
  // '|' (segment keys such as "sport=NBA|tier=A" have both): pairs split on '&', key and
  // value on the first '=', each percent-decoded ('+' stays '+').
  std::string_view query(req.header().query().data(), req.header().query().size());
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    out.query.emplace(Decode({key.data(), key.size()}), Decode({value.data(), value.size()}));
  }
  out.body = req.body();
  out.idempotency_key = std::string(req.header().get_field_or("Idempotency-Key", ""));
  return out;
}

void Send(const restinio::request_handle_t& req, HttpResponse response) {
  req
      ->create_response(restinio::http_status_line_t(
          restinio::http_status_code_t(static_cast<uint16_t>(response.status)), ""))
      .append_header(restinio::http_field::content_type, response.content_type)
      .set_body(std::move(response.body))
      .done();
}

}  // namespace

// Requests answered from another thread hold RESTinio objects; all of them must be answered
// and released before the server stops, or they would outlive its io_context.
struct HttpServer::Impl {
  explicit Impl(size_t workers) : blocking(workers) {}

  restinio::running_server_handle_t<Traits> server;
  asio::thread_pool blocking;  // requests that may wait for the store
  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;      // guarded by mu
  bool draining = false;  // guarded by mu
  bool stopped = false;

  // False once draining: the caller answers 503 at once.
  bool Enter() {
    std::lock_guard lock(mu);
    if (draining) return false;
    ++in_flight;
    return true;
  }
  void Leave() {
    std::lock_guard lock(mu);
    if (--in_flight == 0) idle.notify_all();
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(Api& api, const HttpServerOptions& options) {
  auto impl = std::make_unique<Impl>(options.threads);
  auto handler = [&api, state = impl.get()](const restinio::request_handle_t& req) {
    if (!state->Enter()) {
      Status closing = Unavailable("server: shutting down");
      Send(req, {HttpStatusFor(closing.code()), "application/problem+json", ProblemJson(closing)});
      return restinio::request_accepted();
    }
    auto reply = [held = req, state](HttpResponse response) mutable {
      Send(held, std::move(response));
      held.reset();  // release RESTinio's objects before the server may stop
      state->Leave();
    };
    auto offload = [state](std::function<void()> task) {
      asio::post(state->blocking, std::move(task));
    };
    api.HandleAsync(Translate(*req), std::move(reply), offload);
    return restinio::request_accepted();
  };
  try {
    impl->server = restinio::run_async<Traits>(
        restinio::own_io_context(),
        restinio::server_settings_t<Traits>{}
            .address(options.host)
            .port(options.port)
            .incoming_http_msg_limits(
                restinio::incoming_http_msg_limits_t{}.max_body_size(kTransportBodyLimit))
            .handle_request_timeout(options.request_timeout)
            .request_handler(std::move(handler)),
        options.io_threads);
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
  } catch (const std::exception& e) {
    return Unavailable("listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                       e.what());
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  {
    std::unique_lock lock(impl_->mu);
    impl_->draining = true;
    // Bounded, but long enough for a job run by hand (POST jobs/{name}/run) or a large
    // grade-all-pending to finish and be answered.
    impl_->idle.wait_for(lock, kDrainTimeout, [&] { return impl_->in_flight == 0; });
  }
  impl_->server->stop();
  impl_->server->wait();
  impl_->blocking.join();
}

}  // namespace truthbook::api
