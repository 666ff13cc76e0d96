// The one table from Status codes to HTTP, and RFC 9457 problem+json bodies.
// Pure; thread-safe.
#pragma once

#include <string>

#include "base/status.h"

namespace truthbook::api {

// The HTTP status for a non-OK code: 400, 404, 409, 413, 422, 503 or 500.
int HttpStatusFor(StatusCode code);

// {"type", "title", "status", "detail"} for `status`. The type is stable per code:
// "https://truthbook.dev/problems/<kebab-case code>".
std::string ProblemJson(const Status& status);

}  // namespace truthbook::api
