// The HTTP server: RESTinio on a thread pool in front of Api. The only translation unit that
// includes RESTinio (it compiles slowly). Publishes are answered asynchronously from the
// store's completion thread; other requests are answered on the pool thread.
// Thread-safe: Start once, Stop once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/api.h"
#include "base/status.h"

namespace truthbook::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // default loopback only
  uint16_t port = 8000;
  // Worker threads. A publish never holds one while its commit is on disk; other writes do,
  // so a few more than the cores keep a slow write from stalling reads. Default 8.
  size_t threads = 8;
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
