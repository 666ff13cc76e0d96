// RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value, so that
// logically equal bodies hash equally (idempotency fingerprints, ledger hashes).
// Free functions without shared state; thread-safe for concurrent calls on distinct or
// unmodified values.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

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

// One JSON object written canonically member by member, without building a DOM first: the
// same bytes CanonicalJson gives, for hot paths with fixed keys (ledger entries). Members must
// be added in canonical order; with the ASCII keys it takes, that is plain byte order.
// Thread-compatible.
class CanonicalObject {
 public:
  CanonicalObject& String(std::string_view key, std::string_view value);
  CanonicalObject& Number(std::string_view key, double value);
  CanonicalObject& Integer(std::string_view key, int64_t value);
  CanonicalObject& Bool(std::string_view key, bool value);
  CanonicalObject& Null(std::string_view key);
  // `canonical` must already be canonical JSON (a nested object written by CanonicalObject).
  CanonicalObject& Canonical(std::string_view key, std::string_view canonical);
  // Null when absent.
  CanonicalObject& OptionalString(std::string_view key, const std::optional<std::string>& value);
  CanonicalObject& OptionalNumber(std::string_view key, const std::optional<double>& value);

  // The object's text; call it last, once. InvalidArgument naming the key if a key was out of order
  // or not ASCII, a string was not valid UTF-8, or a number was NaN or infinite.
  Result<std::string> Finish();

 private:
  // Appends `"key":` after checking its order; false (with error_ set) if it is out of order.
  bool Key(std::string_view key);

  std::string out_ = "{";
  std::string last_key_;
  bool first_ = true;
  Status error_;
};

}  // namespace truthbook
