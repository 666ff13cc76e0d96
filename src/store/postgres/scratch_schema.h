// A scratch schema on a PostgreSQL server, for tests and benchmarks that need a database of
// their own on a shared server (TRUTHBOOK_PG). Test support, header-only so that it stays out
// of the library. Thread-compatible.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "base/status.h"
#include "store/postgres/connection.h"

namespace truthbook::store::postgres {

// A schema created for one test or benchmark and dropped with everything in it on
// destruction. Its conninfo is the server's with search_path set to the schema.
class ScratchSchema {
 public:
  static Result<std::unique_ptr<ScratchSchema>> Create(const std::string& server) {
    static std::atomic<uint64_t> counter{0};
    std::random_device random;
    const std::string name =
        "tb_test_" + std::to_string(random()) + "_" + std::to_string(counter.fetch_add(1));
    ASSIGN_OR_RETURN(auto pairs, ParseConninfo(server));
    std::string options = "-c search_path=" + name;
    bool had_options = false;
    for (auto& [key, value] : pairs) {
      if (key == "options") {
        value += " " + options;
        had_options = true;
      }
    }
    if (!had_options) pairs.emplace_back("options", options);
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> admin, Connection::Open(server));
    RETURN_IF_ERROR(admin->Exec("CREATE SCHEMA " + name));
    return std::unique_ptr<ScratchSchema>(new ScratchSchema(server, name, FormatConninfo(pairs)));
  }
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;
  ~ScratchSchema() {
    Result<std::unique_ptr<Connection>> admin = Connection::Open(server_);
    if (admin.ok()) (void)(*admin)->Exec("DROP SCHEMA " + name_ + " CASCADE");
  }

  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

 private:
  ScratchSchema(std::string server, std::string name, std::string conninfo)
      : server_(std::move(server)), name_(std::move(name)), conninfo_(std::move(conninfo)) {}

  const std::string server_;
  const std::string name_;
  const std::string conninfo_;
};

}  // namespace truthbook::store::postgres
