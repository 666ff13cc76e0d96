#include "api/problem.h"

#include <nlohmann/json.hpp>

namespace truthbook::api {
namespace {

struct Mapping {
  StatusCode code;
  int http;
  const char* slug;
  const char* title;
};

constexpr Mapping kMappings[] = {
    {StatusCode::kInvalidArgument, 400, "invalid-argument", "The request is malformed"},
    {StatusCode::kNotFound, 404, "not-found", "No such record"},
    {StatusCode::kAlreadyExists, 409, "conflict", "Conflicts with recorded truth"},
    {StatusCode::kFailedPrecondition, 409, "failed-precondition",
     "Refused in the record's current state"},
    {StatusCode::kPayloadTooLarge, 413, "payload-too-large", "The request body is too large"},
    {StatusCode::kIdempotencyMismatch, 422, "idempotency-key-reused",
     "Idempotency-Key reused with another body"},
    {StatusCode::kUnavailable, 503, "unavailable", "The store is unavailable"},
    {StatusCode::kInternal, 500, "internal", "Internal error"},
};

const Mapping& Find(StatusCode code) {
  for (const Mapping& m : kMappings) {
    if (m.code == code) return m;
  }
  return kMappings[std::size(kMappings) - 1];
}

}  // namespace

int HttpStatusFor(StatusCode code) { return Find(code).http; }

std::string ProblemJson(const Status& status) {
  const Mapping& m = Find(status.code());
  nlohmann::json doc = {{"type", std::string("https://truthbook.dev/problems/") + m.slug},
                        {"title", m.title},
                        {"status", m.http},
                        {"detail", status.message()}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace truthbook::api
