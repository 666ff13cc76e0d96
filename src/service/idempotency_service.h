// The Idempotency-Key contract for every POST: the same key with the same body gets the
// stored answer; the same key with another body is refused. Keys are scoped by path.
// Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "ledger/records.h"
#include "service/context.h"

namespace truthbook::service {

struct StoredResponse {
  int status = 0;
  std::string body;
};

class IdempotencyService {
 public:
  explicit IdempotencyService(Context ctx) : ctx_(ctx) {}
  IdempotencyService(const IdempotencyService&) = delete;
  IdempotencyService& operator=(const IdempotencyService&) = delete;

  // The stored answer for (path, key) when the body matches; nullopt when the key is new.
  // IdempotencyMismatch when the key was used with another body; InvalidArgument for a key
  // that is empty or longer than 255 bytes.
  Result<std::optional<StoredResponse>> Lookup(const std::string& path, const std::string& key,
                                               const std::string& body);

  // Stores the answer to (path, key, body). The first answer stored wins.
  Status Remember(const std::string& path, const std::string& key, const std::string& body,
                  const StoredResponse& response);

 private:
  Context ctx_;
};

}  // namespace truthbook::service
