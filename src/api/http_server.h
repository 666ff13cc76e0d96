// The HTTP server: RESTinio on a thread pool in front of Api. The only translation unit that
// includes RESTinio (it compiles slowly). Handlers may block on the store; the pool is sized
// so that concurrent writes can share one group commit.
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
  // Worker threads; each holds one request while it waits for the store. Default 32.
  size_t threads = 32;
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
