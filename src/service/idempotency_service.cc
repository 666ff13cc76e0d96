#include "service/idempotency_service.h"

#include "base/sha256.h"

namespace truthbook::service {

Result<std::optional<StoredResponse>> IdempotencyService::Lookup(const std::string& path,
                                                                 const std::string& key,
                                                                 const std::string& body) {
  if (key.empty() || key.size() > 255) {
    return InvalidArgument("Idempotency-Key: must be 1 to 255 bytes");
  }
  std::optional<ledger::IdempotentResponse> stored;
  RETURN_IF_ERROR(ctx_.store.Read([&](store::Reader& r) -> Status {
    ASSIGN_OR_RETURN(stored, r.GetIdempotentResponse(path + " " + key));
    return Status::Ok();
  }));
  if (!stored) return std::optional<StoredResponse>();
  if (stored->request_sha256 != Sha256Hex(body)) {
    return Status(StatusCode::kIdempotencyMismatch,
                  "Idempotency-Key: already used with a different body");
  }
  return std::optional<StoredResponse>(StoredResponse{stored->status, stored->body});
}

Status IdempotencyService::Remember(const std::string& path, const std::string& key,
                                    const std::string& body, const StoredResponse& response) {
  ledger::IdempotentResponse row{path + " " + key, Sha256Hex(body), response.status, response.body,
                                 ctx_.clock.Now()};
  return ctx_.store.Write(
      [&](store::WriteTxn& txn) -> Status { return txn.PutIdempotentResponse(row); });
}

}  // namespace truthbook::service
