// UUIDv7 (RFC 9562 §5.7) identifiers: a 48-bit Unix millisecond timestamp from the injected
// Clock, then random bits, so ids sort by creation time and index well in B-trees.
// UuidV7Generator is thread-safe (one mutex); IsUuid is a pure function.
// The ids are unique, not secret: the randomness comes from a seeded std::mt19937_64, so never
// use one as a bearer token or anything else that must be unguessable.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace truthbook {

class UuidV7Generator {
 public:
  // REQUIRES: `clock` outlives the generator.
  explicit UuidV7Generator(const Clock& clock);

  UuidV7Generator(const UuidV7Generator&) = delete;
  UuidV7Generator& operator=(const UuidV7Generator&) = delete;

  // Returns a new UUIDv7 in lowercase canonical form ("01890a5d-ac96-774b-bcce-b302099a8057").
  // Never fails. Each id is strictly greater (as a string and as bytes) than every id this
  // generator returned before, even if the clock stands still or steps back: the timestamp is
  // then the last one used and the 12-bit rand_a field is a counter (RFC 9562 §6.2, method 1);
  // when that counter runs out the timestamp is moved one millisecond ahead of the clock
  // (method 3's rollover). Clock times before 1970 are encoded as 0 and times after the year
  // 10889 (2^48 ms) as the maximum timestamp.
  std::string Next();

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::mt19937_64 random_;     // guarded by mu_
  std::int64_t last_ms_ = -1;  // guarded by mu_; timestamp of the previous id
  std::uint16_t counter_ = 0;  // guarded by mu_; rand_a of the previous id
};

// Returns true iff `text` is a UUID in lowercase canonical form: 36 characters, 8-4-4-4-12
// lowercase hex digits separated by '-', any version and variant. Uppercase is rejected so
// that two spellings of one id can never both be stored; the ids we hand out are lowercase.
bool IsUuid(std::string_view text);

}  // namespace truthbook
