// The HTTP server: RESTinio in front of Api. The only translation unit that includes RESTinio
// (it compiles slowly). The I/O threads never block: a publish goes straight to the store and
// is answered from its completion thread; other requests run on a separate worker pool.
// Thread-safe: Start once, Stop once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "api/api.h"
#include "base/status.h"

namespace truthbook::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // default loopback only
  uint16_t port = 8000;
  // Threads that run the network and publishes (which never wait for the disk).
  // Default: one per core.
  size_t io_threads = std::max(1u, std::thread::hardware_concurrency());
  // Threads for every other request, which may wait for the store; a slow write holds one
  // while the rest go on. Default 8.
  size_t threads = 8;
  // How long one request may take before the connection is dropped. Batch jobs run inside a
  // request (grade-all-pending over a million publishes takes tens of seconds), so it is long.
  // Default 1 hour.
  std::chrono::seconds request_timeout{3600};
};

class HttpServer {
 public:
  // Listens and serves `api` (which must outlive the server). Unavailable when the address
  // cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(Api& api, const HttpServerOptions& options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Stops accepting, lets handlers finish and returns when every worker has stopped.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace truthbook::api
