// RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value, so that
// logically equal bodies hash equally (idempotency fingerprints, ledger hashes).
// Free functions without shared state; thread-safe for concurrent calls on distinct or
// unmodified values.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "base/status.h"

namespace truthbook {

// Arrays and objects nested deeper than this are rejected rather than risk exhausting the
// stack; no truthbook payload comes close.
inline constexpr int kMaxCanonicalJsonDepth = 512;

// Serializes `value` as RFC 8785 canonical JSON:
//   - no whitespace; object members sorted by their keys' UTF-16 code units;
//   - strings escaped as ECMAScript JSON.stringify does: \" \\ \b \f \n \r \t, other
//     characters below U+0020 as \u00xx (lowercase hex), everything else as literal UTF-8;
//   - floating-point numbers as ECMAScript Number.prototype.toString (FormatJsonNumber);
//   - integers held as nlohmann number_integer/number_unsigned are printed as exact
//     decimal integers. This deviates from RFC 8785, which would first round them to a
//     double, but keeps values beyond 2^53 exact; values within ±2^53 print identically
//     either way. Parse floats you want treated as doubles as number_float.
// On success returns the canonical text. Returns kInvalidArgument, with a message naming the
// offending path (e.g. "quotes[1].price: ..."), if a string or key is not valid UTF-8, a
// number is NaN or infinite, the value holds binary or discarded data, or nesting exceeds
// kMaxCanonicalJsonDepth. Never throws.
Result<std::string> CanonicalJson(const nlohmann::json& value);

// Formats `value` as ECMAScript Number.prototype.toString does (ECMA-262 §6.1.6.1.20): the
// shortest digits that round-trip, integers without ".0", exponent form "1e+21" / "1.5e-7"
// when the decimal exponent is >= 21 or <= -7, and -0 as "0". Never fails. NaN and
// infinities give "NaN", "Infinity" and "-Infinity", which are not JSON; CanonicalJson
// rejects them before calling this.
std::string FormatJsonNumber(double value);

}  // namespace truthbook
